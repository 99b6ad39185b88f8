"""A small formulary for the pharmacy tests: a silicone base, an unpreserved aqueous gel,
pentoxifylline, tretinoin and vitamin E with lots; a balance; an approved anhydrous MFR
and the patient's preparation of it; and a batch ready to weigh."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from scarrx.pharmacy import services
from scarrx.pharmacy.services import ComponentLine, StepLine
from tests.conftest import make_user

D = Decimal


@pytest.fixture
def second_pharmacist(roles):
    return make_user("pia", "pharmacist", first_name="Pia", last_name="Second")


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def formulary(pharmacist, technician, today):
    add = services.add_ingredient
    items = {
        "silicone": add(actor=pharmacist, name="Silicone gel base", role="base"),
        "aqueous": add(actor=pharmacist, name="Aqueous gel base", role="base", contains_water=True),
        "ptx": add(
            actor=pharmacist,
            name="Pentoxifylline",
            role="active",
            max_strength_percent=D(1),
        ),
        "tretinoin": add(
            actor=pharmacist,
            name="Tretinoin",
            role="active",
            pregnancy_caution=True,
            max_strength_percent=D("0.1"),
            allergen_group="retinoid",
        ),
        "vitamin_e": add(
            actor=pharmacist,
            name="Vitamin E",
            role="active",
            contact_sensitiser=True,
            allergen_group="tocopherol",
            max_strength_percent=D(5),
        ),
    }
    lots = {}
    for key, ingredient in items.items():
        lots[key] = services.receive_lot(
            ingredient,
            actor=technician,
            supplier="Example Supplies",
            lot_number=f"{key.upper()[:3]}-1",
            expiry_date=today + timedelta(days=400),
            received_g=D(500),
        )
    lots["ptx_early"] = services.receive_lot(
        items["ptx"],
        actor=technician,
        supplier="Other Supplies",
        lot_number="PTX-EARLY",
        expiry_date=today + timedelta(days=60),
        received_g=D(50),
    )
    balance = services.add_balance(
        actor=pharmacist,
        name="Bench balance",
        readability_g=D("0.001"),
        minimum_weight_g=D("0.020"),
        last_calibrated_on=today - timedelta(days=30),
    )
    return {"ingredients": items, "lots": lots, "balance": balance}


STEPS = [
    StepLine("Weigh every component on a calibrated balance."),
    StepLine("Levigate the actives with a little base, then mix in the rest."),
    StepLine("Check the mixture is smooth and even.", pharmacist_only=True),
    StepLine("Photograph the finished gel in its jar.", photo=True),
]


def mfr_fields(**overrides) -> dict:
    return {
        "name": "Pentoxifylline 1 % silicone scar gel",
        "container_closure": "30 g airless pump, polypropylene",
        "equipment": "Balance, ointment slab, spatula, unguator",
        "description": "Clear, smooth, colourless gel",
        "qc_specification": "Smooth, no grit; final weight within 5 % of the batch",
        "label_text": "For external use. Not for open wounds.",
    } | overrides


@pytest.fixture
def mfr(formulary, pharmacist, second_pharmacist):
    i = formulary["ingredients"]
    draft = services.draft_formulation(
        actor=pharmacist,
        code="SIL-PTX",
        components=[
            ComponentLine(i["ptx"], D(1), "active"),
            ComponentLine(i["silicone"], None, "vehicle"),
        ],
        steps=STEPS,
        **mfr_fields(),
    )
    return services.approve_formulation(draft, actor=second_pharmacist)


@pytest.fixture
def preparation(mfr, patient, pharmacist):
    return services.derive_preparation(actor=pharmacist, patient=patient, formulation=mfr)


@pytest.fixture
def batch(preparation, technician):
    return services.start_batch(actor=technician, preparation=preparation, dispensed_g=D(30))


def weigh_all(batch, actor, balance, lots: dict | None = None):
    """Weigh every component at its target from the first usable lot."""
    from scarrx.pharmacy.queries import usable_lots

    for component in batch.components.all():
        lot = (lots or {}).get(component.ingredient.name) or usable_lots(
            component.ingredient
        ).first()
        services.record_weighing(
            batch,
            actor=actor,
            component=component,
            balance=balance,
            actual_g=component.shown_g,
            lot=lot,
        )


def finish_bench(batch, technician, pharmacist, balance, lots=None):
    """Weigh, tick every step, photograph, record QC and submit the batch for review."""
    from tests.pharmacy.pictures import jpeg

    weigh_all(batch, technician, balance, lots)
    for step in batch.formulation.steps.filter(photo=False):
        services.complete_step(
            batch, actor=pharmacist if step.pharmacist_only else technician, step=step
        )
    services.attach_photo(batch, actor=technician, data=jpeg())
    services.record_qc(
        batch,
        actor=technician,
        appearance="Smooth, clear gel",
        appearance_ok=True,
        final_weight_g=batch.batch_g,
    )
    return services.submit_batch(batch, actor=technician)


@pytest.fixture
def ready_batch(batch, technician, pharmacist, formulary):
    return finish_bench(batch, technician, pharmacist, formulary["balance"])


@pytest.fixture
def released(ready_batch, second_pharmacist):
    return services.verify_batch(ready_batch, actor=second_pharmacist)


@pytest.fixture
def stock(formulary, pharmacist, second_pharmacist, technician, today):
    """A released stock batch of silicone gel base, made from dimethicone: batches
    made from it are made from a batch."""
    dimethicone = services.add_ingredient(actor=pharmacist, name="Dimethicone", role="base")
    lot = services.receive_lot(
        dimethicone,
        actor=technician,
        supplier="Example Supplies",
        lot_number="DIM-1",
        expiry_date=today + timedelta(days=300),
        received_g=D(2000),
    )
    draft = services.draft_formulation(
        actor=pharmacist,
        code="SIL-BASE",
        components=[ComponentLine(dimethicone, None, "vehicle")],
        steps=STEPS,
        produces=formulary["ingredients"]["silicone"],
        **mfr_fields(name="Silicone gel base (stock)"),
    )
    stock_mfr = services.approve_formulation(draft, actor=second_pharmacist)
    batch = services.start_batch(actor=technician, formulation=stock_mfr, dispensed_g=D(500))
    finish_bench(batch, technician, pharmacist, formulary["balance"], {"Dimethicone": lot})
    return services.verify_batch(batch, actor=second_pharmacist)


def today_plus(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)
