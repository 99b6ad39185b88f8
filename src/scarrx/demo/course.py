"""Demo courses: the reference case's complete 180-day twice-daily course, and other demo
patients at every stage (just started, mid-course, falling behind, completed, stopped).

Everything clinical goes through the services (prescriptions, batches, fills, side
effects, reviews, status changes); then dates are set back to when they happened, since a
demo made today tells a story of months. Application logs are bulk-created (about 900
rows) from the course's own schedule, so `make demo` stays quick.
"""

from __future__ import annotations

import io
import random
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from scarrx.accounts.models import User
from scarrx.accounts.services import create_user
from scarrx.assessments.services import record_assessment
from scarrx.pharmacy import services as pharmacy
from scarrx.pharmacy.models import Batch, BatchState, Formulation, Ingredient
from scarrx.pharmacy.services import ComponentLine, StepLine
from scarrx.treatment import adherence, services
from scarrx.treatment.models import (
    Application,
    Fill,
    Prescription,
    Review,
    SideEffect,
    StatusChange,
    Via,
)
from scarrx.treatment.queries import course_slots

DEMO_PASSWORD = "scarrx-demo"  # noqa: S105 - the demo's one password, as the loader's
D = Decimal
NPI = "1234567893"
STEPS = [
    StepLine("Weigh every component on the calibrated balance."),
    StepLine("Disperse the actives in a little base, then mix in the rest."),
    StepLine("Check the gel is smooth and even.", pharmacist_only=True),
    StepLine("Photograph the finished gel in its pump.", photo=True),
]


def _ingredient(actor, name: str, **facts) -> Ingredient:
    """The formulary entry, made if the pharmacy's own demo has not made it."""
    found = Ingredient.objects.filter(name=name).first()
    return found or pharmacy.add_ingredient(actor=actor, name=name, **facts)


def _lot(ingredient, actor, number: str, expiry: date) -> None:
    if not ingredient.lots.filter(lot_number=number).exists():
        pharmacy.receive_lot(
            ingredient,
            actor=actor,
            supplier="Example Chemicals (demo)",
            lot_number=number,
            expiry_date=expiry,
            received_g=D(20000),
        )


def _mfr(code: str, lines, author, approver, **fields) -> Formulation:
    found = Formulation.objects.filter(code=code, status="approved").first()
    if found:
        return found
    draft = pharmacy.draft_formulation(
        actor=author,
        code=code,
        components=lines,
        steps=STEPS,
        container_closure="50 g airless pump, polypropylene",
        equipment="Balance, ointment mill, spatula",
        qc_specification="Smooth and even; final weight within 5 % of the batch",
        label_text="For the skin only. Not for broken skin.",
        **fields,
    )
    return pharmacy.approve_formulation(draft, actor=approver)


def formulas(today: date, pharmacist, technician, approver) -> dict[str, Formulation]:
    """Two scar gels: a preserved aqueous niacinamide and tranexamic acid gel (35-day BUD)
    and an anhydrous silicone gel with pentoxifylline (180 days)."""
    expiry = today + timedelta(days=500)
    ing = {
        "aqueous": _ingredient(pharmacist, "Aqueous gel base", role="base", contains_water=True),
        "silicone": _ingredient(pharmacist, "Anhydrous silicone gel base", role="base"),
        "phenoxyethanol": _ingredient(
            pharmacist, "Phenoxyethanol", role="preservative", preserves=True
        ),
        "niacinamide": _ingredient(
            pharmacist, "Niacinamide", role="active", max_strength_percent=D(5)
        ),
        "txa": _ingredient(pharmacist, "Tranexamic acid", role="active", max_strength_percent=D(5)),
        "ptx": _ingredient(pharmacist, "Pentoxifylline", role="active", max_strength_percent=D(1)),
    }
    for key, ingredient in ing.items():
        _lot(ingredient, technician, f"DEMO-{key.upper()[:6]}", expiry)
    # A lot close to expiry, for the worklist (of an ingredient the demo gels do not use,
    # so no demo batch is capped by it).
    hyaluronic = _ingredient(pharmacist, "Hyaluronic acid", role="active")
    _lot(hyaluronic, technician, "DEMO-HA-SHORT", today + timedelta(days=18))
    aqueous = _mfr(
        "AQ-NIA-TXA",
        [
            ComponentLine(ing["niacinamide"], D(4), "active"),
            ComponentLine(ing["txa"], D(3), "active"),
            ComponentLine(ing["phenoxyethanol"], D("0.8"), "preservative"),
            ComponentLine(ing["aqueous"], None, "vehicle"),
        ],
        pharmacist,
        approver,
        name="Niacinamide 4 % and tranexamic acid 3 % scar gel, preserved",
        description="Clear, colourless, smooth gel",
    )
    silicone = _mfr(
        "SIL-PTX-DEMO",
        [
            ComponentLine(ing["ptx"], D(1), "active"),
            ComponentLine(ing["silicone"], None, "vehicle"),
        ],
        pharmacist,
        approver,
        name="Pentoxifylline 1 % silicone scar gel",
        description="Clear, smooth, colourless gel",
    )
    return {"aqueous": aqueous, "silicone": silicone}


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (236, 236, 230)).save(out, "JPEG")
    return out.getvalue()


def _batch(
    preparation, grams, made_on: date, *, technician, pharmacist, balance, verify=True
) -> Batch:
    """A batch through the bench and verification, then dated to the day it was made
    (left ready for a pharmacist's review with verify=False)."""
    from scarrx.pharmacy.queries import usable_lots

    batch = pharmacy.start_batch(actor=technician, preparation=preparation, dispensed_g=grams)
    for component in batch.components.select_related("ingredient"):
        pharmacy.record_weighing(
            batch,
            actor=technician,
            component=component,
            balance=balance,
            actual_g=component.shown_g,
            lot=usable_lots(component.ingredient).first(),
        )
    for step in batch.formulation.steps.filter(photo=False):
        who = pharmacist if step.pharmacist_only else technician
        pharmacy.complete_step(batch, actor=who, step=step)
    pharmacy.attach_photo(batch, actor=technician, data=_jpeg())
    pharmacy.record_qc(
        batch,
        actor=technician,
        appearance="Smooth, even gel",
        appearance_ok=True,
        final_weight_g=batch.batch_g,
    )
    batch = pharmacy.submit_batch(batch, actor=technician)
    if not verify:
        return batch
    batch = pharmacy.verify_batch(batch, actor=pharmacist)
    shift = made_on - batch.compounded_on
    at = datetime.combine(made_on, time(10), tzinfo=timezone.get_current_timezone())
    Batch.objects.filter(pk=batch.pk).update(
        compounded_on=made_on,
        started_at=at,
        verified_at=at + timedelta(hours=4),
        bud=batch.bud + shift,
    )
    BatchState.objects.filter(batch=batch).update(at=at + timedelta(hours=4))
    batch.refresh_from_db()
    return batch


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def _backdate_fill(fill: Fill) -> None:
    Fill.objects.filter(pk=fill.pk).update(
        dispensed_at=_at(fill.filled_on), verified_at=_at(fill.filled_on, 11)
    )


def _logs(rx, slots, rng: random.Random, *, until: datetime, rate: float, by, via, gaps=()):
    """Application rows for the slots before `until`: applied at about the scheduled time
    with probability `rate`, none in the `gaps` (day ranges away), a few skips."""
    rows = []
    away = {d for first, last in gaps for d in range(first, last + 1)}
    for slot in slots:
        if slot.at + timedelta(hours=4) > until:
            break
        if slot.day in away:
            if rng.random() < 0.3:
                rows.append(_row(rx, slot, slot.at, by, via, rng, skip="away"))
            continue
        if rng.random() < rate:
            jitter = timedelta(minutes=rng.randint(-35, 80))
            rows.append(_row(rx, slot, slot.at + jitter, by, via, rng))
        elif rng.random() < 0.25:
            rows.append(_row(rx, slot, slot.at, by, via, rng, skip="forgot"))
    Application.objects.bulk_create(rows)
    return rows


def _row(rx, slot: adherence.Slot, at, by, via, rng, skip="") -> Application:
    return Application(
        prescription=rx,
        key=uuid.UUID(int=rng.getrandbits(128), version=4),
        slot_on=slot.on,
        slot=slot.name,
        applied_at=at,
        skipped=bool(skip),
        skip_reason=skip,
        recorded_by=by,
        via=via,
    )


def _status(rx, status, actor, on: date, reason: str) -> None:
    services.change_status(rx, actor=actor, status=status, reason=reason)
    change = rx.status_changes.order_by("-pk").first()
    StatusChange.objects.filter(pk=change.pk).update(at=_at(on, 16))


def _prescribe(patient, preparation, prescriber, start: date, **extra) -> Prescription:
    rx = services.write_prescription(
        actor=prescriber,
        patient=patient,
        preparation=preparation,
        written_on=start - timedelta(days=2),
        start_on=start,
        times={"morning": "08:00", "evening": "20:00"},
        sites=["forehead", "cheeks", "chin"],
        area="face_and_neck",
        duration_days=180,
        refills_authorised=5,
        directions="Apply a thin layer to the affected areas of the face twice daily, "
        "morning and evening, for 180 days.",
        prescriber_npi=NPI,
        prescriber_licence="MD-DEMO-0042",
        **extra,
    )
    StatusChange.objects.filter(prescription=rx).update(at=_at(start - timedelta(days=2)))
    return rx


def _preparation(patient, mfr, pharmacist):
    preparation = pharmacy.derive_preparation(actor=pharmacist, patient=patient, formulation=mfr)
    for warning in pharmacy.open_warnings(preparation):
        pharmacy.override_warning(
            warning, actor=pharmacist, reason="Discussed with the patient and prescriber (demo)"
        )
    return preparation


def reference_course(today, patient, *, staff, mfr, balance, rng) -> Prescription:
    """Nora's complete course: 180 days twice daily, six monthly fills of 75 g (30 days)
    from fresh batches of the preserved gel (35-day BUD), about 85 % of applications
    logged with a week away and a few forgotten, a mild irritation in week 3 reviewed and
    resolved, follow-ups at weeks 4, 8, 12 and 26 done."""
    pharmacist, technician, prescriber = (
        staff["pharmacist"],
        staff["technician"],
        staff["prescriber"],
    )
    start = patient.assessments.get(timepoint="baseline").assessed_on
    preparation = _preparation(patient, mfr, pharmacist)
    rx = _prescribe(patient, preparation, prescriber, start)
    for n in range(6):
        on = start + timedelta(days=30 * n - (2 if n else 0))
        batch = _batch(
            preparation,
            D(75),
            on - timedelta(days=1),
            technician=technician,
            pharmacist=pharmacist,
            balance=balance,
        )
        fill = services.dispense_fill(
            rx, actor=technician, batch=batch, quantity_g=D(75), filled_on=on
        )
        services.verify_fill(fill, actor=pharmacist)
        _backdate_fill(fill)
    slots = course_slots(rx)
    _logs(
        rx,
        slots,
        rng,
        until=timezone.now(),
        rate=0.87,
        by=patient.user,
        via=Via.PORTAL,
        gaps=[(95, 98)],
    )
    effect = services.report_side_effect(
        rx,
        actor=patient.user,
        via=Via.PORTAL,
        kind="irritation",
        severity="mild",
        onset_on=start + timedelta(days=17),
        action="reduce_frequency",
        description="Stinging and a little redness on the cheeks after the evening application.",
    )
    review = services.review_side_effect(
        effect,
        actor=pharmacist,
        outcome="resolved",
        resolved_on=start + timedelta(days=24),
        assessment="Expected mild irritation from niacinamide. Advised once daily for a week, "
        "then back to twice daily; settled within a week.",
    )
    SideEffect.objects.filter(pk=effect.pk).update(reported_at=_at(start + timedelta(days=17), 21))
    Review.objects.filter(pk=review.pk).update(at=_at(start + timedelta(days=18)))
    _status(rx, "completed", pharmacist, rx.last_day + timedelta(days=1), "Course finished")
    return rx


STAGES = [
    # (stage, days since the start, logged share, fills)
    ("just started", 3, 0.95, 1),
    ("mid-course", 70, 0.88, 2),
    ("falling behind", 40, 0.55, 1),
    ("completed", 200, 0.9, 3),
    ("stopped", 25, 0.8, 1),
]


def stage_courses(today, patients, *, staff, mfr, balance, rng) -> list[Prescription]:
    """Other demo patients, one at each stage of a course, on the silicone gel (a 180-day
    BUD: one batch serves several 60-day fills)."""
    pharmacist, technician, prescriber = (
        staff["pharmacist"],
        staff["technician"],
        staff["prescriber"],
    )
    made = []
    for patient, (stage, days, rate, fills) in zip(patients, STAGES, strict=False):
        start = today - timedelta(days=days)
        preparation = _preparation(patient, mfr, pharmacist)
        rx = _prescribe(patient, preparation, prescriber, start)
        grams = D(30) if stage == "falling behind" else D(150)  # 150 g lasts 60 days
        for n in range(fills):
            on = start + timedelta(days=60 * n)
            batch = _batch(
                preparation,
                grams,
                on - timedelta(days=1),
                technician=technician,
                pharmacist=pharmacist,
                balance=balance,
            )
            fill = services.dispense_fill(
                rx, actor=technician, batch=batch, quantity_g=grams, filled_on=on
            )
            services.verify_fill(fill, actor=pharmacist)
            _backdate_fill(fill)
        if stage == "mid-course":  # the next refill's batch, waiting for verification
            _batch(
                preparation,
                grams,
                today,
                technician=technician,
                pharmacist=pharmacist,
                balance=balance,
                verify=False,
            )
        end = timezone.now() if stage != "stopped" else _at(start + timedelta(days=20), 12)
        _logs(rx, course_slots(rx), rng, until=end, rate=rate, by=technician, via=Via.CONSOLE)
        if stage == "completed":
            _status(rx, "completed", pharmacist, rx.last_day + timedelta(days=1), "Course finished")
        if stage == "stopped":
            effect = services.report_side_effect(
                rx,
                actor=technician,
                via=Via.CONSOLE,
                kind="contact_dermatitis",
                severity="moderate",
                onset_on=start + timedelta(days=19),
                action="stop",
                description="Itchy red rash where the gel was applied; stopped on day 20.",
            )
            SideEffect.objects.filter(pk=effect.pk).update(
                reported_at=_at(start + timedelta(days=20))
            )
            _status(rx, "stopped", pharmacist, start + timedelta(days=20), "Contact dermatitis")
        made.append(rx)
    return made


def follow_up_assessments(patient, start: date, base: dict, pharmacist) -> int:
    """The reference case's weeks 4, 8 and 26 (week 12 is the loader's, with photos)."""
    counts = {"B1": 14, "B2": 12, "B3": 4, "C1": 9, "C2": 6, "C3": 2}
    made = 0
    for week, a1, bother, impression in ((4, 22, 8, 4), (8, 19, 7, 3), (26, 11, 5, 2)):
        record_assessment(
            patient=patient,
            actor=pharmacist,
            assessed_on=start + timedelta(weeks=week),
            timepoint=f"week_{week}",
            gb_counts={"A1": a1, **counts},
            bother=bother,
            global_impression=impression,
            notes=f"Week {week} follow-up. Fictional demo patient.",
            **base,
        )
        made += 1
    return made


def second_pharmacist() -> User:
    """MFRs are approved by a pharmacist who did not write them."""
    found = User.objects.filter(username="pharmacist2").first()
    return found or create_user(
        username="pharmacist2",
        role="pharmacist",
        password=DEMO_PASSWORD,
        check_password=False,
        first_name="Sam",
        last_name="Second-Demo",
        email="pharmacist2@example.org",
    )


def load_courses(today: date, *, staff: dict, reference, others, reference_face: dict) -> dict:
    rng = random.Random(2026_12_01)
    approver = second_pharmacist()
    gels = formulas(today, staff["pharmacist"], staff["technician"], approver)
    balance = pharmacy.add_balance(
        actor=staff["pharmacist"],
        name="Demo bench balance",
        readability_g=D("0.001"),
        minimum_weight_g=D("0.020"),
        last_calibrated_on=today - timedelta(days=40),
    )
    start = reference.assessments.get(timepoint="baseline").assessed_on
    assessments = follow_up_assessments(reference, start, reference_face, staff["pharmacist"])
    reference_course(today, reference, staff=staff, mfr=gels["aqueous"], balance=balance, rng=rng)
    courses = stage_courses(
        today, others, staff=staff, mfr=gels["silicone"], balance=balance, rng=rng
    )
    services.refresh_standings()
    return {"courses": 1 + len(courses), "assessments": assessments}
