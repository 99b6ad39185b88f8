"""Building a course for tests: a small formulary, an approved silicone scar gel, the
patient's preparation, a released batch, a prescription and its fill, all through the
services. Plain functions, so module-scoped worlds and function fixtures share them."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from scarrx.pharmacy import services as pharmacy
from scarrx.pharmacy.models import Balance, Ingredient
from scarrx.pharmacy.services import ComponentLine
from scarrx.treatment import services
from tests.pharmacy.conftest import STEPS, finish_bench, mfr_fields

D = Decimal
NPI = "1234567893"  # a valid check digit


def _ingredient(pharmacist, **fields):
    """The formulary entry, made unless another fixture (the pharmacy's walk) made it."""
    found = Ingredient.objects.filter(name=fields["name"]).first()
    return found or pharmacy.add_ingredient(actor=pharmacist, **fields)


def silicone_gel(pharmacist, technician, approver) -> dict:
    """Pentoxifylline 1 % in a silicone base (anhydrous: the 180-day class), with lots
    good for 400 days, a balance and the approved MFR."""
    today = timezone.localdate()
    base = _ingredient(pharmacist, name="Silicone gel base", role="base")
    ptx = _ingredient(pharmacist, name="Pentoxifylline", role="active", max_strength_percent=D(1))
    for ingredient, number in ((base, "SIL-1"), (ptx, "PTX-1")):
        pharmacy.receive_lot(
            ingredient,
            actor=technician,
            supplier="Acme Chemicals",
            lot_number=number,
            expiry_date=today + timedelta(days=400),
            received_g=D(5000),
        )
    balance = Balance.objects.filter(name="Bench balance").first() or pharmacy.add_balance(
        actor=pharmacist,
        name="Bench balance",
        readability_g=D("0.001"),
        minimum_weight_g=D("0.020"),
        last_calibrated_on=today - timedelta(days=30),
    )
    draft = pharmacy.draft_formulation(
        actor=pharmacist,
        code="SIL-PTX",
        components=[ComponentLine(ptx, D(1), "active"), ComponentLine(base, None, "vehicle")],
        steps=STEPS,
        **mfr_fields(),
    )
    mfr = pharmacy.approve_formulation(draft, actor=approver)
    return {"mfr": mfr, "balance": balance, "base": base, "ptx": ptx}


def released_batch(preparation, *, technician, pharmacist, verifier, balance, grams=30):
    batch = pharmacy.start_batch(actor=technician, preparation=preparation, dispensed_g=D(grams))
    finish_bench(batch, technician, pharmacist, balance)
    return pharmacy.verify_batch(batch, actor=verifier)


def prescription_fields(**overrides) -> dict:
    today = timezone.localdate()
    return {
        "written_on": today,
        "start_on": today,
        "times": {"morning": "08:00", "evening": "20:00"},
        "sites": ["cheeks"],
        "area": "face_and_neck",
        "duration_days": 180,
        "refills_authorised": 5,
        "directions": "Apply a thin layer to the affected areas of the face twice daily.",
        "prescriber_npi": NPI,
        "prescriber_licence": "MD-4417",
    } | overrides


def prescribe(patient, preparation, actor, **overrides):
    return services.write_prescription(
        actor=actor, patient=patient, preparation=preparation, **prescription_fields(**overrides)
    )


def key() -> str:
    return str(uuid.uuid4())


def local_at(prescription, on: date, clock: str):
    """An instant at a wall-clock time in the patient's zone."""
    from datetime import datetime, time

    return datetime.combine(on, time.fromisoformat(clock), tzinfo=prescription.patient.zone)


def course_for(*, patient, pharmacist, technician, prescriber, approver, **overrides):
    """A prescription of the silicone gel and a released 30 g batch of it: (rx, batch)."""
    gel = silicone_gel(pharmacist, technician, approver)
    preparation = pharmacy.derive_preparation(
        actor=pharmacist, patient=patient, formulation=gel["mfr"]
    )
    batch = released_batch(
        preparation,
        technician=technician,
        pharmacist=pharmacist,
        verifier=approver,
        balance=gel["balance"],
    )
    return prescribe(patient, preparation, prescriber, **overrides), batch


def whole_course(*, patient, pharmacist, technician, prescriber, approver) -> dict:
    """Everything a course has, for the declared-access walk: a verified fill, a logged
    application, a reviewed side effect, a calendar address."""
    start = timezone.localdate() - timedelta(days=2)
    rx, batch = course_for(
        patient=patient,
        pharmacist=pharmacist,
        technician=technician,
        prescriber=prescriber,
        approver=approver,
        written_on=start,
        start_on=start,
    )
    fill = services.dispense_fill(
        rx, actor=technician, batch=batch, quantity_g=D(30), filled_on=start
    )
    services.verify_fill(fill, actor=pharmacist)
    services.record_application(
        rx,
        actor=patient.user,
        via="portal",
        key=key(),
        applied_at=local_at(rx, start + timedelta(days=1), "08:05"),
    )
    effect = services.report_side_effect(
        rx,
        actor=patient.user,
        via="portal",
        kind="irritation",
        severity="mild",
        onset_on=start + timedelta(days=1),
        action="continue",
    )
    token = services.make_calendar_feed(patient, actor=patient.user)
    return {
        "prescription_id": rx.public_id,
        "fill_id": fill.public_id,
        "side_effect_id": effect.public_id,
        "token": token,
        "batch": batch,
    }


def report(rx, actor, **changes):
    """A side effect reported in the portal: mild redness from today, unless `changes`."""
    fields = {
        "kind": "redness",
        "severity": "mild",
        "onset_on": timezone.localdate(),
        "action": "continue",
    }
    return services.report_side_effect(rx, actor=actor, via="portal", **(fields | changes))
