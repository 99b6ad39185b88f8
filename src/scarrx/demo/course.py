"""Demo courses: the reference case's complete 180-day twice-daily course, and other demo
patients at every stage (just started, mid-course, falling behind, completed, stopped).

Everything clinical goes through the services (prescriptions, batches, fills, side
effects, reviews, status changes); then dates are set back to when they happened, since a
demo made today tells a story of months. Application logs are bulk-created (about 900
rows) from the course's own schedule, so `make demo` stays quick.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from scarrx.assessments.services import record_assessment
from scarrx.demo.pharmacy import make_batch
from scarrx.pharmacy import services as pharmacy
from scarrx.pharmacy.models import Batch
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

D = Decimal
NPI = "1234567893"


def _batch(preparation, grams, day: date, *, staff, balance, rng, verify=True) -> Batch:
    """A batch through the pharmacy demo's bench, verified and dated to `day`
    (scarrx.demo.pharmacy.make_batch), or left ready for review."""
    return make_batch(
        preparation,
        grams,
        day,
        technician=staff["technician"],
        verifier=staff["approver"],
        balance=balance,
        rng=rng,
        through="released" if verify else "submitted",
    )


def _dispense(rx, batch, grams, on: date, staff) -> None:
    """A verified fill of `grams`, or of the most that is used up by the batch's BUD (a
    short-dated component lot caps it, as USP <795> says)."""
    from scarrx.treatment import supply
    from scarrx.treatment.services.fills import daily_amount, supply_fills

    earlier = supply_fills(rx.fills.order_by("number"))
    start = supply.supply_timeline([*earlier, supply.Fill(on, 1)])[-1].first_day
    fit = supply.fit_within_bud(
        grams, **daily_amount(rx), filled_on=on, bud=batch.bud, starts_on=start
    )
    fill = services.dispense_fill(
        rx, actor=staff["technician"], batch=batch, quantity_g=fit.suggested_g, filled_on=on
    )
    services.verify_fill(fill, actor=staff["pharmacist"])
    _backdate_fill(fill)


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


def reference_course(today, patient, *, staff, preparation, balance, rng) -> Prescription:
    """Nora's complete course of the preparation the pharmacy demo made her (the preserved
    tretinoin gel): 180 days twice daily, six monthly fills of 75 g (30 days) from fresh
    batches (35-day BUD), about 85 % of applications logged with a week away and a few
    forgotten, a mild irritation in week 3 reviewed and resolved, follow-ups at weeks 4, 8,
    12 and 26 done."""
    pharmacist, prescriber = staff["pharmacist"], staff["prescriber"]
    start = patient.assessments.get(timepoint="baseline").assessed_on
    rx = _prescribe(patient, preparation, prescriber, start)
    for n in range(6):
        on = start + timedelta(days=30 * n - (2 if n else 0))
        batch = _batch(
            preparation,
            D(75),
            on - timedelta(days=1),
            staff=staff,
            balance=balance,
            rng=rng,
        )
        _dispense(rx, batch, D(75), on, staff)
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
        assessment="Expected retinoid irritation in the first weeks. Advised once daily for "
        "a week, then back to twice daily; settled within a week.",
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
    """Other demo patients, one at each stage of a course, on the pharmacy demo's silicone
    gel (a 180-day BUD), a fresh batch for each 60-day fill."""
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
                staff=staff,
                balance=balance,
                rng=rng,
            )
            _dispense(rx, batch, grams, on, staff)
        if stage == "mid-course":  # the next refill's batch, waiting for verification
            _batch(
                preparation,
                grams,
                today,
                staff=staff,
                balance=balance,
                rng=rng,
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


def load_courses(
    today: date, *, staff: dict, pharmacy, reference, others, reference_face: dict
) -> dict:
    """The courses, on the pharmacy demo's formulary, MFRs, balance and second pharmacist
    (`pharmacy` is its PharmacyDemo)."""
    from scarrx.accounts.models import User
    from scarrx.demo.pharmacy import SECOND_PHARMACIST
    from scarrx.pharmacy.models import Balance

    rng = random.Random(2026_12_01)
    staff = {**staff, "approver": User.objects.get(username=SECOND_PHARMACIST[0])}
    balance = Balance.objects.filter(retired=False).order_by("pk").first()
    nora = next(b.preparation for b in pharmacy.batches if b.preparation.patient_id == reference.pk)
    start = reference.assessments.get(timepoint="baseline").assessed_on
    assessments = follow_up_assessments(reference, start, reference_face, staff["pharmacist"])
    reference_course(today, reference, staff=staff, preparation=nora, balance=balance, rng=rng)
    courses = stage_courses(
        today, others, staff=staff, mfr=pharmacy.mfrs["silicone"], balance=balance, rng=rng
    )
    services.refresh_standings()
    return {"courses": 1 + len(courses), "assessments": assessments}
