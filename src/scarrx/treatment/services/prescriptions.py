"""Prescriptions: writing one with structured directions, and its status with history."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from scarrx.access import require
from scarrx.accounts.roles import PATIENT, PRESCRIBER, Perm, role_of
from scarrx.assessments.models import Timepoint
from scarrx.audit.services import record_change
from scarrx.patients.models import Patient
from scarrx.pharmacy.models import Preparation, Stage
from scarrx.pharmacy.services import open_warnings, screen_again
from scarrx.pharmacy.services.common import _inputs, _text, today
from scarrx.problems import Problems
from scarrx.text import text_errors
from scarrx.treatment import adherence, supply
from scarrx.treatment.models import (
    DEFAULT_FOLLOW_UP_WEEKS,
    CourseStatus,
    FollowUp,
    Prescription,
    StatusChange,
)
from scarrx.treatment.services.checks import body_sites, typed

SLOT_NAMES = ("morning", "midday", "evening", "bedtime")
MAX_DURATION_DAYS = 730
MAX_REFILLS = 24
MAX_FOLLOW_UP_WEEK = 104


def valid_npi(npi: str) -> bool:
    """A National Provider Identifier: 10 digits whose last is the Luhn check digit of the
    first nine prefixed by 80840 (CMS, NPI check digit)."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return (10 - total % 10) % 10 == int(npi[9])


def _times(raw) -> list[list[str]]:
    """[(name, "08:00"), ...] or {"morning": "08:00"}: checked, in time order."""
    pairs = list(raw.items()) if isinstance(raw, dict) else list(raw or [])
    if not pairs:
        raise ValidationError({"times": "Give at least one time of day, e.g. morning 08:00."})
    checked: dict[str, time] = {}
    for item in pairs:
        try:
            name, clock = item
        except (TypeError, ValueError):
            raise ValidationError({"times": "Each time is a slot name and a time."}) from None
        if name not in SLOT_NAMES:
            raise ValidationError(
                {"times": f"{name!r} is not a time of day: choose from {', '.join(SLOT_NAMES)}."}
            )
        if name in checked:
            raise ValidationError({"times": f"{name} is given twice."})
        if isinstance(clock, str):
            try:
                clock = time.fromisoformat(clock)
            except ValueError:
                raise ValidationError({f"times.{name}": "Enter a time such as 08:00."}) from None
        if not isinstance(clock, time):
            raise ValidationError({f"times.{name}": "Enter a time such as 08:00."})
        checked[name] = clock.replace(second=0, microsecond=0, tzinfo=None)
    with _inputs():
        adherence.schedule(start=date(2000, 1, 1), days=1, times=checked, zone="UTC")
    return [[n, c.strftime("%H:%M")] for n, c in sorted(checked.items(), key=lambda i: i[1])]


def _whole(value, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValidationError({field: "Enter a whole number."})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: "Enter a whole number."}) from None
    if str(number) != str(value).strip() and not isinstance(value, int):
        raise ValidationError({field: "Enter a whole number."})
    if not low <= number <= high:
        raise ValidationError({field: f"Must be from {low} to {high}."})
    return number


def _amount(area, grams) -> tuple[str, Decimal | None]:
    """A body area from the fingertip-unit table, or grams for a spot treatment."""
    area = (area or "").strip()
    if grams in ("", None):
        grams = None
    if bool(area) == (grams is not None):
        raise ValidationError(
            {"area": "Choose the treated area, or give grams per application (not both)."}
        )
    if area:
        try:
            supply.Area(area)
        except ValueError:
            raise ValidationError({"area": f"Choose from: {', '.join(supply.Area)}."}) from None
        return area, None
    try:
        grams = Decimal(str(grams))
    except ArithmeticError:
        raise ValidationError({"grams_per_application": "Enter a number of grams."}) from None
    if not grams.is_finite() or not Decimal("0.01") <= grams <= Decimal(50):
        raise ValidationError({"grams_per_application": "Must be from 0.01 g to 50 g."})
    return "", grams


def _follow_up_weeks(raw) -> list[int]:
    weeks = sorted({_whole(w, "follow_up_weeks", 1, MAX_FOLLOW_UP_WEEK) for w in raw})
    return weeks


def _prescriber(actor, prescriber, name, npi, licence) -> dict:
    if role_of(actor) == PRESCRIBER:
        if prescriber is not None and prescriber != actor:
            raise ValidationError({"prescriber": "A prescriber writes in their own name."})
        prescriber = actor
    if prescriber is not None:
        if role_of(prescriber) != PRESCRIBER:
            raise ValidationError({"prescriber": "This person is not a prescriber."})
        name = name or prescriber.get_full_name() or prescriber.username
        licence = licence or prescriber.licence_number
    npi = (npi or "").strip()
    if not valid_npi(npi):
        raise ValidationError({"prescriber_npi": "Enter the prescriber's 10-digit NPI."})
    return {
        "prescriber": prescriber,
        "prescriber_name": _text(name, "prescriber_name", limit=120),
        "prescriber_npi": npi,
        "prescriber_licence": _text(licence, "prescriber_licence", limit=40),
    }


def _dates(written_on, start_on) -> tuple[date, date]:
    for field, value in (("written_on", written_on), ("start_on", start_on)):
        if not isinstance(value, date):
            raise ValidationError({field: "Enter a date."})
    if written_on > today():
        raise ValidationError({"written_on": "A prescription cannot be dated in the future."})
    if start_on < written_on:
        raise ValidationError({"start_on": "The course cannot start before it is written."})
    if start_on > today() + timedelta(days=365):
        raise ValidationError({"start_on": "The course must start within a year."})
    return written_on, start_on


def _daily_use(slots: int, area: str, grams: Decimal | None) -> None:
    with _inputs():
        supply.daily_use(slots, area=area or None, grams_per_application=grams)


def safety_problem(preparation: Preparation) -> str:
    """Why a preparation may not be prescribed yet: a safety warning not overridden."""
    found = list(open_warnings(preparation))
    if not found:
        return ""
    words = "; ".join(w.message for w in found)
    return (
        f"The preparation's safety screen found: {words}. A pharmacist must override each "
        "warning, with a reason, before it is prescribed."
    )


def write_prescription(
    *,
    actor,
    patient: Patient,
    preparation: Preparation,
    written_on: date,
    start_on: date,
    times,
    duration_days,
    refills_authorised,
    directions: str,
    sites=(),
    area: str = "",
    grams_per_application=None,
    prescriber=None,
    prescriber_name: str = "",
    prescriber_npi: str = "",
    prescriber_licence: str = "",
    follow_up_weeks=tuple(DEFAULT_FOLLOW_UP_WEEKS),
    reassessment_before_refill: bool = False,
) -> Prescription:
    """A prescription for the patient's preparation, with structured directions, its
    follow-up visits scheduled. The preparation's safety screens run again first, on the
    patient's record as it is now (a new warning is kept in its own transaction); one no
    pharmacist has overridden refuses the prescription."""
    require(actor, Perm.PRESCRIBE, patient)
    if preparation.patient_id != patient.pk:
        raise ValidationError({"preparation": "This preparation was made for another patient."})
    screen_again(preparation, actor=actor, stage=Stage.PRESCRIBING)
    with transaction.atomic():
        problem = safety_problem(preparation)
        if problem:
            raise ValidationError({"preparation": problem})
        problems = Problems()  # every field's problem at once
        who = problems.check(
            _prescriber, actor, prescriber, prescriber_name, prescriber_npi, prescriber_licence
        )
        dates = problems.check(_dates, written_on, start_on)
        slots = problems.check(_times, times)
        amount = problems.check(_amount, area, grams_per_application)
        if slots is not None and amount is not None:
            problems.check(_daily_use, len(slots), *amount)
        checked = {
            "sites": problems.check(body_sites, sites),
            "duration_days": problems.check(
                _whole, duration_days, "duration_days", 1, MAX_DURATION_DAYS
            ),
            "refills_authorised": problems.check(
                _whole, refills_authorised, "refills_authorised", 0, MAX_REFILLS
            ),
            "directions": problems.check(_text, directions, "directions", limit=500),
            "follow_up_weeks": problems.check(_follow_up_weeks, follow_up_weeks),
        }
        typed = {"directions": directions, "prescriber_name": prescriber_name}
        problems.also(text_errors(Prescription, typed | {"prescriber_licence": prescriber_licence}))
        problems.refuse()
        (written_on, start_on), (area, grams) = dates, amount
        prescription = Prescription(
            patient=patient,
            preparation=preparation,
            **who,
            written_on=written_on,
            start_on=start_on,
            times=slots,
            area=area,
            grams_per_application=grams,
            **checked,
            reassessment_before_refill=bool(reassessment_before_refill),
            written_by=actor,
            active_since=start_on,
            rx_number=f"tmp-{patient.public_id.hex[:8]}-{today():%y%m%d}",
        )
        prescription.save()
        # Sequential and unique because it derives from the primary key, as record numbers do.
        prescription.rx_number = f"RX-{prescription.pk:06d}"
        prescription.save(update_fields=["rx_number"])
        StatusChange.objects.create(
            prescription=prescription, status=CourseStatus.ACTIVE, by=actor, reason="Written"
        )
        _schedule_follow_ups(prescription)
        record_change(
            actor=actor,
            action="prescription.written",
            obj=prescription,
            summary=f"{prescription.rx_number}: {preparation.name}, {prescription.directions}",
            data={
                "rx_number": prescription.rx_number,
                "preparation": preparation.name,
                "times": slots,
                "area": area,
                "grams_per_application": grams,
                "duration_days": prescription.duration_days,
                "refills_authorised": prescription.refills_authorised,
                "prescriber": who["prescriber_name"],
                "prescriber_npi": who["prescriber_npi"],
            },
        )
        return prescription


def timepoint_for(week: int) -> str:
    wanted = f"week_{week}"
    return wanted if wanted in Timepoint.values else Timepoint.OTHER


def _schedule_follow_ups(prescription: Prescription) -> None:
    FollowUp.objects.bulk_create(
        FollowUp(
            prescription=prescription,
            patient=prescription.patient,
            week=week,
            timepoint=timepoint_for(week),
            due_on=prescription.start_on + timedelta(weeks=week),
        )
        for week in prescription.follow_up_weeks
    )


# --- status ------------------------------------------------------------------------------

STAFF_MOVES = {
    CourseStatus.ACTIVE: (CourseStatus.ON_HOLD, CourseStatus.STOPPED, CourseStatus.COMPLETED),
    CourseStatus.ON_HOLD: (CourseStatus.ACTIVE, CourseStatus.STOPPED, CourseStatus.COMPLETED),
}
VERBS = {
    CourseStatus.ACTIVE: "resumed",
    CourseStatus.ON_HOLD: "put on hold",
    CourseStatus.STOPPED: "stopped",
    CourseStatus.COMPLETED: "completed",
}


def _check_move(prescription: Prescription, status: str, actor, by_patient: bool) -> None:
    allowed = STAFF_MOVES.get(prescription.status, ())
    if status not in allowed:
        raise ValidationError(
            {
                "status": f"A course that is {prescription.get_status_display().lower()} "
                f"cannot be {VERBS.get(status, status)}."
            }
        )
    if by_patient:
        if status == CourseStatus.COMPLETED:
            raise ValidationError({"status": "The pharmacy marks a course completed."})
        if status == CourseStatus.ACTIVE and not prescription.held_by_patient:
            raise ValidationError(
                {"status": "The pharmacy put this course on hold: call them to resume it."}
            )


@transaction.atomic
def change_status(
    prescription: Prescription, *, actor, status: str, reason: str = ""
) -> Prescription:
    """Hold, resume, stop or complete a course, with a history row. A patient may pause,
    resume their own pause, or stop; staff say why for a hold or a stop."""
    by_patient = role_of(actor) == PATIENT
    perm = Perm.PAUSE_OWN_COURSE if by_patient else Perm.CHANGE_COURSE
    require(actor, perm, prescription.patient)
    prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
    _check_move(prescription, status, actor, by_patient)
    reason = typed(StatusChange, "reason", reason)
    if by_patient and not reason:
        reason = "At the patient's request"
    if not reason and status in (CourseStatus.ON_HOLD, CourseStatus.STOPPED):
        raise ValidationError({"reason": "Say why."})
    before = prescription.status
    prescription.status = status
    if status == CourseStatus.ACTIVE:
        prescription.active_since = max(today(), prescription.start_on)
    else:
        prescription.next_refill_due = None
    prescription.save(update_fields=["status", "next_refill_due", "active_since"])
    StatusChange.objects.create(
        prescription=prescription, status=status, by=actor, by_patient=by_patient, reason=reason
    )
    if status == CourseStatus.ACTIVE:
        from scarrx.treatment.services.fills import refresh_refill_due

        refresh_refill_due(prescription)
    record_change(
        actor=actor,
        action="prescription.status_changed",
        obj=prescription,
        summary=f"{prescription.rx_number} {VERBS[status]}"
        + (" by the patient" if by_patient else ""),
        data={"status": [before, status]},
        reason=reason,
    )
    return prescription
