"""Logged applications (and skips), idempotent by the client's key, and the adherence
standing the worklist reads.

No ChangeRecord per application (docs/audit.md): a twice-daily course makes 360 of them,
and the row itself is the record (who, when, how; never changed or deleted). The patient
file summarises them per week.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Round
from django.utils import timezone

from scarrx.access import require, visible_to
from scarrx.accounts.roles import Perm
from scarrx.pharmacy.services.common import _inputs
from scarrx.treatment import adherence
from scarrx.treatment.models import Application, CourseStatus, Prescription, SkipReason, Via
from scarrx.treatment.services.checks import body_sites, choice, typed

CLOCK_SKEW = timedelta(minutes=5)  # a phone's clock a little ahead is not "the future"
RECENT_DAYS = 14  # the worklist's adherence window: the 14 whole days before today


def window() -> timedelta:
    return timedelta(hours=settings.ADHERENCE_WINDOW_HOURS)


def slots_around(prescription: Prescription, on: date) -> list[adherence.Slot]:
    """The course's scheduled slots from the day before `on` to the day after (their
    `day` counts from the first of those days: only dates, names and instants are used)."""
    first = max(on - timedelta(days=1), prescription.start_on)
    last = min(on + timedelta(days=1), prescription.last_day)
    if last < first:
        return []
    return list(
        adherence.schedule(
            start=first,
            days=(last - first).days + 1,
            times=prescription.slot_times,
            zone=prescription.patient.zone,
        )
    )


@dataclass(frozen=True)
class Logged:
    application: Application
    created: bool

    @property
    def counted(self) -> bool:
        return bool(self.application.slot) and not self.application.skipped


def _key(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError({"key": "Send a new random UUID with each application."}) from None


def _when(applied_at, prescription: Prescription) -> datetime:
    now = timezone.now()
    at = applied_at or now
    if not isinstance(at, datetime) or timezone.is_naive(at):
        raise ValidationError({"applied_at": "Give the date and time with its time zone."})
    if at > now + CLOCK_SKEW:
        raise ValidationError({"applied_at": "An application cannot be logged in the future."})
    days = settings.LOG_WINDOW_DAYS
    if at < now - timedelta(days=days):
        raise ValidationError(
            {"applied_at": f"Applications are logged within {days} days: this is too long ago."}
        )
    local = at.astimezone(prescription.patient.zone).date()
    if local < prescription.start_on:
        raise ValidationError(
            {"applied_at": f"The course starts on {prescription.start_on:%-d %b %Y}."}
        )
    if local > prescription.last_day + timedelta(days=1):
        raise ValidationError(
            {"applied_at": f"The course ended on {prescription.last_day:%-d %b %Y}."}
        )
    return at


def _slot_for(prescription: Prescription, at: datetime, named: str, skipped: bool, taken):
    """The slot this log satisfies by the adherence module's rule (the nearest free slot
    whose window holds it, of the named slot if any), or None. `taken`: the (day, name)
    of the slots already logged around it."""
    local = at.astimezone(prescription.patient.zone).date()
    free = [s for s in slots_around(prescription, local) if (s.on, s.name) not in taken]
    if not free:
        return None
    with _inputs():
        found = adherence.dose_adherence(
            free, [adherence.Logged(at, named or None, skipped)], window=window()
        )
    return next((o.slot for o in found.slots if o.logged is not None), None)


def _day_of(prescription: Prescription, applied_at, on, skipped: bool) -> date | None:
    """The patient's day a log is about, if it can be told before it is checked (a
    skip's `on`, else the day of `applied_at`), and if the course has slots near it."""
    day = None
    if skipped:
        day = on if isinstance(on, date) and not isinstance(on, datetime) else None
    else:
        at = applied_at or timezone.now()
        if isinstance(at, datetime) and not timezone.is_naive(at):
            day = at.astimezone(prescription.patient.zone).date()
    if day is None or not _near_course(prescription, day):
        return None
    return day


def _near_course(prescription: Prescription, day: date) -> bool:
    one = timedelta(days=1)
    return prescription.start_on - one <= day <= prescription.last_day + one


def _lock(prescription: Prescription, actor) -> str:
    """Hold the course's row for this log, if the actor may see its patient: its status."""
    found = (
        visible_to(actor, Prescription)
        .select_for_update(of=("self",))
        .filter(pk=prescription.pk)
        .values_list("status", flat=True)
        .first()
    )
    if found is None:
        raise PermissionDenied("You may not do this for this patient.")
    return found


def _nearby(prescription: Prescription, key: uuid.UUID, day: date | None) -> list[Application]:
    """In one query: the row this key made, if any, and the rows logged for slots from the
    day before `day` to the day after."""
    near = Q(key=key)
    if day is not None:
        near |= Q(slot_on__range=(day - timedelta(days=1), day + timedelta(days=1)))
    return list(prescription.applications.filter(near))


def _skip(skipped: bool, reason: str, named: str, on) -> str:
    if not skipped:
        if reason:
            raise ValidationError({"skip_reason": "Only a skip has a reason."})
        return ""
    choice(reason, "skip_reason", SkipReason)
    if not named or on is None:
        raise ValidationError({"slot": "Say which application was skipped, and on which day."})
    return reason


def _skip_instant(prescription: Prescription, named: str, on: date) -> datetime:
    if not prescription.start_on <= on <= prescription.last_day:
        raise ValidationError(
            {
                "on": f"The course runs from {prescription.start_on:%-d %b %Y} "
                f"to {prescription.last_day:%-d %b %Y}."
            }
        )
    for slot in slots_around(prescription, on):
        if slot.on == on and slot.name == named:
            return slot.at
    raise ValidationError({"on": f"There is no {named} application on {on:%-d %b %Y}."})


def _check_course(status: str) -> None:
    if status in (CourseStatus.STOPPED, CourseStatus.COMPLETED):
        raise ValidationError({"__all__": f"This course is {CourseStatus(status).label.lower()}."})


def record_application(
    prescription: Prescription,
    *,
    actor,
    key,
    via: str,
    applied_at: datetime | None = None,
    slot: str = "",
    on: date | None = None,
    skipped: bool = False,
    skip_reason: str = "",
    sites=(),
    note: str = "",
) -> Logged:
    """Log an application of the course (or a skip, with its reason, for a named slot and
    day). `key` is the client's idempotency key: the same key again returns the row it
    made, recorded once, whatever has changed since. Refused in the future, before the
    course starts, after it ends or longer ago than the log window. An application outside
    every slot's window is kept but counted nowhere.

    One transaction, holding the course's row: logs of one course are made one at a time
    (a retry waits for the request it repeats, then finds its row)."""
    require(actor, Perm.LOG_APPLICATION)  # and the patient, with the course's lock
    try:
        with transaction.atomic():
            status = _lock(prescription, actor)
            key = _key(key)
            guess = _day_of(prescription, applied_at, on, skipped)
            nearby = _nearby(prescription, key, guess)
            done = next((a for a in nearby if a.key == key), None)
            if done is not None:
                return Logged(done, created=False)
            _check_course(status)
            row, named = _new_row(
                prescription,
                actor,
                key,
                via,
                applied_at,
                slot,
                on,
                skipped,
                skip_reason,
                sites,
                note,
            )
            day = row.applied_at.astimezone(prescription.patient.zone).date()
            if day != guess:  # told only once checked: the slots around it read again
                nearby = _nearby(prescription, key, day)
            taken = {(a.slot_on, a.slot) for a in nearby if a.slot}
            found = _slot_for(prescription, row.applied_at, named, row.skipped, taken)
            if found is None and named:
                raise ValidationError({"slot": _taken_message(prescription, row, named, taken)})
            if found is not None:
                row.slot_on, row.slot = found.on, found.name
            row.save()
            row.applied_at = row.applied_at.astimezone(UTC)  # as stored, as a retry reads it
            if row.slot_on is not None and row.slot_on < timezone.localdate():
                _count_in_standing(prescription, row)
    except IntegrityError:
        # Only where the row lock did not serialise (a key reused across courses is per
        # course): the other request's row, or the slot it took.
        done = prescription.applications.filter(key=key).first()
        if done is not None:
            return Logged(done, created=False)
        raise ValidationError({"slot": "This application is logged already."}) from None
    return Logged(row, created=True)


def _new_row(
    prescription, actor, key, via, applied_at, slot, on, skipped, skip_reason, sites, note
) -> tuple[Application, str]:
    named = (slot or "").strip()
    if named and named not in prescription.slot_times:
        choices = ", ".join(prescription.slot_times)
        raise ValidationError({"slot": f"This course's applications are: {choices}."})
    reason = _skip(skipped, skip_reason, named, on)
    if skipped:
        applied_at = _skip_instant(prescription, named, on)
    at = _when(applied_at, prescription)
    note = typed(Application, "note", note)
    row = Application(
        prescription=prescription,
        key=key,
        applied_at=at,
        skipped=bool(skipped),
        skip_reason=reason,
        sites=body_sites(sites),
        note=note,
        recorded_by=actor,
        via=via if via in Via.values else Via.API,
    )
    return row, named


def _taken_message(prescription: Prescription, row: Application, named: str, taken) -> str:
    local = row.applied_at.astimezone(prescription.patient.zone)
    if not named:
        return "Both of the day's applications are logged already."
    hours = settings.ADHERENCE_WINDOW_HOURS
    if (local.date(), named) in taken:
        return f"The {named} application of {local:%-d %b} is logged already."
    return (
        f"{local:%H:%M} is more than {hours} hours from the {named} time: "
        f"log it without naming the {named} application."
    )


# --- the standing the worklist reads --------------------------------------------------


def recent_span(prescription: Prescription, today: date) -> tuple[date, date] | None:
    """The whole days of the worklist's window this course was active: from 14 days ago
    (or its start, or its last resumption) to yesterday (or its last day)."""
    first = max(today - timedelta(days=RECENT_DAYS), prescription.active_since)
    last = min(today - timedelta(days=1), prescription.last_day)
    return (first, last) if first <= last else None


def _count_in_standing(prescription: Prescription, row: Application) -> None:
    """A past slot just logged: counted into today's standing with one UPDATE when the
    standing is current and the slot in its window, else the standing recounted."""
    today = timezone.localdate()
    span = recent_span(prescription, today)
    if span is None or not span[0] <= row.slot_on <= span[1]:
        return
    if row.skipped:
        return
    applied = F("recent_applied") + 1
    counted = Prescription.objects.filter(
        pk=prescription.pk, recent_through=today, recent_scheduled__gt=0
    ).update(
        recent_applied=applied,
        recent_percent=Round(applied * Value(100.0) / F("recent_scheduled"), 1),
    )
    if not counted:
        refresh_standing(prescription, today)


def refresh_standing(prescription: Prescription, today: date | None = None) -> None:
    """Recount one course's dose-level adherence over the window (an index range)."""
    today = today or timezone.localdate()
    span = recent_span(prescription, today)
    scheduled = applied = 0
    if span is not None:
        scheduled = prescription.slots_between(*span)
        applied = (
            prescription.applications.filter(slot_on__range=span, skipped=False)
            .exclude(slot="")
            .count()
        )
    Prescription.objects.filter(pk=prescription.pk).update(
        recent_scheduled=scheduled,
        recent_applied=applied,
        recent_percent=adherence.percent(applied, scheduled),
        recent_through=today,
    )


def refresh_standings(today: date | None = None, *, chunk: int = 2000) -> int:
    """Recount every active course whose standing is older than today: the daily task
    (and the worklist, if the worker has not run). Set-based per chunk: one grouped count
    over the (prescription, day) index for each chunk of courses."""
    from django.db.models import Count, Q

    today = today or timezone.localdate()
    stale = Prescription.objects.filter(status=CourseStatus.ACTIVE).filter(
        Q(recent_through__lt=today) | Q(recent_through__isnull=True)
    )
    done = 0
    while True:
        courses = list(
            stale.only(
                "pk", "start_on", "duration_days", "times", "active_since", "recent_through"
            )[:chunk]
        )
        if not courses:
            return done
        spans = {c.pk: recent_span(c, today) for c in courses}
        lowest = min((span[0] for span in spans.values() if span), default=today)
        per_day: dict[int, dict[date, int]] = {}
        rows = (
            Application.objects.filter(
                prescription_id__in=[c.pk for c in courses],
                slot_on__gte=lowest,
                slot_on__lt=today,
                skipped=False,
            )
            .exclude(slot="")
            .values_list("prescription_id", "slot_on")
            .annotate(n=Count("pk"))
        )
        for course_id, day, n in rows:
            per_day.setdefault(course_id, {})[day] = n
        for course in courses:
            span = spans[course.pk]
            scheduled = applied = 0
            if span is not None:
                scheduled = course.slots_between(*span)
                days = per_day.get(course.pk, {})
                applied = sum(n for day, n in days.items() if span[0] <= day <= span[1])
            course.recent_scheduled, course.recent_applied = scheduled, applied
            course.recent_percent = adherence.percent(applied, scheduled)
            course.recent_through = today
        Prescription.objects.bulk_update(
            courses, ["recent_scheduled", "recent_applied", "recent_percent", "recent_through"]
        )
        done += len(courses)
