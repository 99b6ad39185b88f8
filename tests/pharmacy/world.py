"""Pharmacy records for the declared-access walk: one of every kind, for its patient."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from django.utils import timezone

from scarrx.pharmacy import services
from scarrx.pharmacy.services import ComponentLine
from tests.conftest import make_user
from tests.pharmacy.conftest import STEPS, finish_bench, mfr_fields


def pharmacy_params(patient, pharmacist, technician) -> dict:
    """Ids of a formulary entry, lot, balance, approved MFR, the patient's preparation
    with an overridden safety warning, a released batch with its photo, and a recall."""
    today = timezone.localdate()
    approver = make_user("pia", "pharmacist")
    base = services.add_ingredient(actor=pharmacist, name="Silicone gel base", role="base")
    vitamin_e = services.add_ingredient(
        actor=pharmacist, name="Vitamin E", role="active", contact_sensitiser=True
    )
    lots = [
        services.receive_lot(
            ingredient,
            actor=technician,
            supplier="Northwind Supplies",  # no "Example": the family name the walk looks for
            lot_number=f"L-{ingredient.pk}",
            expiry_date=today + timedelta(days=200),
            received_g=D(500),
        )
        for ingredient in (base, vitamin_e)
    ]
    balance = services.add_balance(
        actor=pharmacist,
        name="Bench balance",
        readability_g=D("0.001"),
        minimum_weight_g=D("0.020"),
        last_calibrated_on=today,
    )
    draft = services.draft_formulation(
        actor=pharmacist,
        code="WALK",
        components=[ComponentLine(vitamin_e, D(2)), ComponentLine(base, None)],
        steps=STEPS,
        **mfr_fields(),
    )
    mfr = services.approve_formulation(draft, actor=approver)
    preparation = services.derive_preparation(actor=pharmacist, patient=patient, formulation=mfr)
    warning = preparation.warnings.get()
    services.override_warning(warning, actor=pharmacist, reason="Patient told what to watch for")
    batch = services.start_batch(actor=technician, preparation=preparation, dispensed_g=D(30))
    finish_bench(batch, technician, pharmacist, balance)
    services.verify_batch(batch, actor=approver)
    spare = services.receive_lot(
        base,
        actor=technician,
        supplier="Other Supplies",
        lot_number="SPARE-1",
        expiry_date=today + timedelta(days=90),
        received_g=D(100),
    )
    recall = services.recall(actor=pharmacist, lot=spare, reason="Supplier notice")
    return {
        "ingredient_id": base.public_id,
        "lot_id": lots[0].public_id,
        "balance_id": balance.public_id,
        "formulation_id": mfr.public_id,
        "preparation_id": preparation.public_id,
        "warning_id": warning.public_id,
        "batch_id": batch.public_id,
        "recall_id": recall.public_id,
    }
