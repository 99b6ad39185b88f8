"""Reads of the treatment course: one course's adherence and refill state, follow-ups with
whether they are done, the pharmacy worklist, the calendar feed, the MedWatch export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from scarrx.access import visible_to
from scarrx.accounts.roles import Perm
from scarrx.assessments.models import ScarAssessment
from scarrx.treatment import adherence, supply
from scarrx.treatment.models import (
    OPEN_STATUSES,
    CourseStatus,
    Fill,
    FollowUp,
    Prescription,
    SideEffect,
)
from scarrx.treatment.services.applications import window

WORKLIST_ROWS = 25  # per section, most urgent first: what a shift works through
COUNT_CAP = 1000
REFILL_HORIZON_DAYS = 7
LOW_ADHERENCE = 80
FOLLOW_UP_LOOKBACK_DAYS = 42  # a visit more than six weeks late gives way to the next
EXPIRY_HORIZON_DAYS = 30


def follow_ups_with_state(follow_ups: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    """Follow-ups, each with `done`: the patient has a current assessment at its
    timepoint dated on or after the course's start."""
    assessed = ScarAssessment.objects.filter(
        patient_id=OuterRef("patient_id"),
        is_current=True,
        timepoint=OuterRef("timepoint"),
        assessed_on__gte=OuterRef("prescription__start_on"),
    )
    return follow_ups.annotate(done=Exists(assessed))


# --- one course ---------------------------------------------------------------------------


def paused_days(prescription: Prescription) -> tuple[set[date], date | None]:
    """The days the course was on hold, and the day it ended early (stopped or
    completed), from its status history."""
    held: set[date] = set()
    ended = None
    hold_from = None
    for change in prescription.status_changes.order_by("at", "pk"):
        day = timezone.localdate(change.at)
        if change.status == CourseStatus.ON_HOLD and hold_from is None:
            hold_from = day
        elif change.status == CourseStatus.ACTIVE and hold_from is not None:
            held.update(hold_from + timedelta(days=n) for n in range((day - hold_from).days))
            hold_from = None
        elif change.status in (CourseStatus.STOPPED, CourseStatus.COMPLETED):
            ended = day
    if hold_from is not None:
        end = ended or max(timezone.localdate(), hold_from)
        held.update(hold_from + timedelta(days=n) for n in range((end - hold_from).days + 1))
    return held, ended


def course_slots(prescription: Prescription) -> list[adherence.Slot]:
    """Every slot the patient was asked to apply: the schedule, less the days on hold and
    any after the course ended early."""
    slots = adherence.schedule(
        start=prescription.start_on,
        days=prescription.duration_days,
        times=prescription.slot_times,
        zone=prescription.patient.zone,
    )
    held, ended = paused_days(prescription)
    return [s for s in slots if s.on not in held and (ended is None or s.on <= ended)]


@dataclass
class Course:
    prescription: Prescription
    fills: list[Fill]
    dose: adherence.DoseAdherence
    not_counted: int  # logged outside every slot's window
    pdc: adherence.Pdc | None
    refills_left: int
    next_refill: date | None
    runs_out_on: date | None
    follow_ups: list[FollowUp] = field(default_factory=list)

    @property
    def adherent(self) -> bool | None:
        return self.dose.overall.adherent

    @property
    def what_next(self) -> str:
        """What happens next, in plain words (no surprise renewals)."""
        rx = self.prescription
        if rx.status == CourseStatus.STOPPED:
            return "This course is stopped. No more refills will be made."
        if rx.status == CourseStatus.COMPLETED:
            return "This course is complete. No more refills will be made."
        if rx.status == CourseStatus.ON_HOLD:
            return "This course is on hold: no refill is made while it is paused."
        if not self.fills:
            return "The pharmacy is preparing your first supply."
        if self.next_refill is None:
            return "Your supply lasts to the end of the course: no refill is needed."
        if self.refills_left == 0:
            return (
                f"Your supply runs out on {self.runs_out_on:%-d %B}. No refills are left: "
                "the pharmacy will ask your prescriber whether to continue."
            )
        if self.next_refill < timezone.localdate():
            return (
                f"Your refill was due on {self.next_refill:%-d %B}. The pharmacy will call "
                "you; nothing is sent or charged until you agree."
            )
        return (
            f"Your next refill is due on {self.next_refill:%-d %B}. The pharmacy prepares "
            "it only after checking with you: nothing is sent or charged automatically."
        )


def course(prescription: Prescription, as_of: datetime | None = None) -> Course:
    """One course's figures: dose-level adherence (per day, week, overall) from its logs,
    PDC from its fills, and its refill state."""
    from scarrx.treatment.services.fills import refills_left, supply_fills

    as_of = as_of or timezone.now()
    slots = course_slots(prescription)
    logs = [
        adherence.Logged(at, slot, skipped)
        for at, slot, skipped in prescription.applications.exclude(slot="").values_list(
            "applied_at", "slot", "skipped"
        )
    ]
    dose = adherence.dose_adherence(slots, logs, window=window(), as_of=as_of)
    fills = list(prescription.fills.select_related("batch", "verified_by").order_by("number"))
    plain = supply_fills(fills)
    today = timezone.localdate(as_of)
    end = min(today, prescription.last_day)
    measured = None
    if plain and end >= min(f.filled_on for f in plain):
        measured = adherence.pdc(
            plain, start=max(prescription.start_on, plain[0].filled_on), end=end
        )
    return Course(
        prescription=prescription,
        fills=fills,
        dose=dose,
        not_counted=prescription.applications.filter(slot="").count(),
        pdc=measured,
        refills_left=refills_left(prescription, made=len(fills)),
        next_refill=prescription.next_refill_due,
        runs_out_on=supply.runs_out_on(plain) if plain else None,
        follow_ups=list(follow_ups_with_state(prescription.follow_ups.all())),
    )


def today_slots(prescription: Prescription, now: datetime | None = None) -> list[dict]:
    """Today's applications (in the patient's zone) for the portal's first page, each
    with what was logged for it."""
    from scarrx.treatment.services.applications import slots_around

    now = now or timezone.now()
    day = now.astimezone(prescription.patient.zone).date()
    logged = {a.slot: a for a in prescription.applications.filter(slot_on=day)}
    return [
        {"slot": slot, "log": logged.get(slot.name), "due": slot.at <= now}
        for slot in slots_around(prescription, day)
        if slot.on == day
    ]


# --- the worklist -------------------------------------------------------------------------


@dataclass
class Section:
    key: str
    title: str
    rows: list
    count: int
    empty: str
    capped: bool = False  # more than COUNT_CAP

    @property
    def shown(self) -> str:
        """The count as the page shows it: "1,000+" past the cap."""
        return f"{self.count:,}+" if self.capped else f"{self.count:,}"


def _section(key, title, queryset, empty) -> Section:
    """The section's first rows, most urgent first, and how many there are, counted up to
    COUNT_CAP (an index range read no further than that: the worklist's cost does not grow
    with the size of the pharmacy, and past a thousand the exact number changes nothing)."""
    rows = list(queryset[:WORKLIST_ROWS])
    if len(rows) < WORKLIST_ROWS:
        return Section(key, title, rows, len(rows), empty)
    count = queryset.select_related(None).order_by().values("pk")[: COUNT_CAP + 1].count()
    return Section(key, title, rows, min(count, COUNT_CAP), empty, capped=count > COUNT_CAP)


_fills_counted = (
    Fill.objects.filter(prescription=OuterRef("pk"))
    .order_by()
    .values("prescription")
    .annotate(n=Count("pk"))
    .values("n")
)


def refills_due(user, today: date) -> QuerySet[Prescription]:
    return (
        visible_to(user, Prescription)
        .filter(
            status=CourseStatus.ACTIVE,
            next_refill_due__lte=today + timedelta(days=REFILL_HORIZON_DAYS),
        )
        .select_related("patient")
        # counted per row in a subquery (no GROUP BY: the index walk stops at the first rows)
        .annotate(fills_made=Coalesce(Subquery(_fills_counted), 0))
        .order_by("next_refill_due", "pk")
    )


def follow_ups_due(user, today: date) -> QuerySet[FollowUp]:
    due = visible_to(user, FollowUp).filter(
        due_on__range=(
            today - timedelta(days=FOLLOW_UP_LOOKBACK_DAYS),
            today + timedelta(days=REFILL_HORIZON_DAYS),
        ),
        prescription__status__in=(
            CourseStatus.ACTIVE,
            CourseStatus.ON_HOLD,
            CourseStatus.COMPLETED,
        ),
    )
    return (
        follow_ups_with_state(due)
        .filter(done=False)
        .select_related("patient", "prescription")
        .order_by("due_on", "pk")
    )


def falling_behind(user) -> QuerySet[Prescription]:
    return (
        visible_to(user, Prescription)
        .filter(status=CourseStatus.ACTIVE, recent_percent__lt=LOW_ADHERENCE)
        .select_related("patient")
        .order_by("recent_percent", "pk")
    )


def unreviewed_side_effects(user) -> QuerySet[SideEffect]:
    return (
        visible_to(user, SideEffect)
        .filter(review__isnull=True)
        .select_related("patient", "prescription", "batch")
        .order_by("onset_on", "pk")
    )


def fills_to_verify(user) -> QuerySet[Fill]:
    return (
        visible_to(user, Fill)
        .filter(verified_at__isnull=True)
        .select_related("patient", "prescription", "batch")
        .order_by("dispensed_at", "pk")
    )


def worklist(user, today: date | None = None) -> list[Section]:
    """The staff home page: what needs doing, each item linking to where it is done.
    Every query reads an index (the course standings are kept by the services)."""
    from scarrx.pharmacy.models import Batch, BatchStatus
    from scarrx.pharmacy.queries import lots_expiring

    today = today or timezone.localdate()
    sections = []
    if user.has_perm(Perm.VIEW_COURSE):
        sections += [
            _section("refills", "Refills due within 7 days", refills_due(user, today), "None due."),
            _section("fills", "Fills to verify", fills_to_verify(user), "Every fill is verified."),
            _section(
                "follow_ups", "Follow-up visits due", follow_ups_due(user, today), "None due."
            ),
            _section(
                "adherence",
                "Below 80 % of applications over the last 14 days",
                falling_behind(user),
                "Everyone is at 80 % or more.",
            ),
            _section(
                "side_effects",
                "Side effects to review",
                unreviewed_side_effects(user),
                "Every report is reviewed.",
            ),
        ]
    if user.has_perm(Perm.VIEW_BATCH):
        waiting = (
            visible_to(user, Batch)
            .filter(status=BatchStatus.READY_FOR_REVIEW)
            .select_related("preparation__patient", "formulation")
            .order_by("started_at", "pk")
        )
        sections.append(
            _section("batches", "Batches awaiting verification", waiting, "None waiting.")
        )
    if user.has_perm(Perm.VIEW_FORMULARY):
        sections.append(
            _section(
                "lots",
                "Lots expiring within 30 days",
                lots_expiring(EXPIRY_HORIZON_DAYS, on=today),
                "None expiring.",
            )
        )
    return sections


# --- the calendar feed --------------------------------------------------------------------


def calendar(patient) -> bytes:
    """The patient's private iCalendar feed (RFC 5545): application times as daily
    events in their zone, refill dates and follow-up visits. Names no medicine and no
    diagnosis."""
    from icalendar import Alarm, Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Pharmacy//Reminders//EN")  # no product or condition named
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "My skin-care reminders")
    portal = f"{settings.SITE_URL}/portal/"
    zone = patient.zone
    stamp = timezone.now()
    courses = Prescription.objects.filter(patient=patient, status__in=OPEN_STATUSES)
    for rx in courses:
        if rx.status == CourseStatus.ACTIVE:
            for name, clock in rx.slot_times.items():
                event = Event()
                event.add("uid", f"{rx.public_id}-{name}@reminders")
                event.add("dtstamp", stamp)
                event.add("summary", f"{name.capitalize()} application")
                event.add("dtstart", datetime.combine(rx.start_on, clock, tzinfo=zone))
                event.add("duration", timedelta(minutes=5))
                event.add("rrule", {"freq": "daily", "count": rx.duration_days})
                event.add("description", f"Log it in your portal: {portal}")
                alarm = Alarm()
                alarm.add("action", "DISPLAY")
                alarm.add("description", f"{name.capitalize()} application")
                alarm.add("trigger", timedelta(0))
                event.add_component(alarm)
                cal.add_component(event)
        if rx.next_refill_due:
            cal.add_component(
                _day_event(
                    f"{rx.public_id}-refill", rx.next_refill_due, "Refill due", portal, stamp
                )
            )
    visits = follow_ups_with_state(
        FollowUp.objects.filter(patient=patient, prescription__in=courses)
    )
    for visit in visits:
        if not visit.done:
            cal.add_component(
                _day_event(
                    f"{visit.public_id}-visit", visit.due_on, "Follow-up visit", portal, stamp
                )
            )
    cal.add_missing_timezones()
    return cal.to_ical()


def _day_event(uid: str, on: date, summary: str, portal: str, stamp):
    from icalendar import Event

    event = Event()
    event.add("uid", f"{uid}@reminders")
    event.add("dtstamp", stamp)
    event.add("summary", summary)
    event.add("dtstart", on)
    event.add("dtend", on + timedelta(days=1))
    event.add("description", f"Details in your portal: {portal}")
    return event


# --- MedWatch -----------------------------------------------------------------------------


def medwatch(effect: SideEffect) -> dict:
    """The fields an FDA MedWatch (Form 3500) report of this side effect needs, by the
    form's sections: A patient, B the adverse event, C/D the product, G the reporter."""
    from scarrx.accounts.models import Pharmacy
    from scarrx.pharmacy.labels import actives_text

    patient = effect.patient
    rx = effect.prescription
    review = getattr(effect, "review", None)
    batch = effect.batch
    pharmacy = Pharmacy.current()
    stopped = rx.status_changes.filter(status=CourseStatus.STOPPED).order_by("at").first()
    return {
        "A_patient": {
            "identifier": f"{patient.given_name[:1]}{patient.family_name[:1]}",
            "age_at_event_years": patient.age_on(effect.onset_on),
            "sex": patient.get_sex_display(),
            "weight": None,
        },
        "B_adverse_event": {
            "type": "Adverse event",
            "outcome": review.get_outcome_display() if review else "Not yet reviewed",
            "serious": bool(review and review.serious),
            "event_date": effect.onset_on,
            "report_date": timezone.localdate(effect.reported_at),
            "description": f"{effect.get_kind_display()} ({effect.get_severity_display()})"
            + (f": {effect.description}" if effect.description else ""),
            "action_taken": effect.get_action_display(),
            "pharmacist_assessment": review.assessment if review else "",
            "resolved_on": review.resolved_on if review else None,
        },
        "C_product": {
            "name": f"Compounded: {actives_text(batch)}" if batch else rx.preparation.name,
            "compounded": True,
            "lot_number": batch.lot_number if batch else None,
            "expiration_date_bud": batch.bud if batch else None,
            "dose_and_frequency": rx.directions,
            "route": batch.formulation.route if batch else "topical",
            "therapy_start": rx.start_on,
            "therapy_stop": timezone.localdate(stopped.at) if stopped else None,
            "indication": "Acne scarring",
            "rx_number": rx.rx_number,
            "event_abated_after_stop": None,
        },
        "G_reporter": {
            "name": pharmacy.name,
            "address": pharmacy.address,
            "phone": pharmacy.phone,
            "occupation": "Pharmacist",
            "reported_by_patient": effect.reported_by_patient,
        },
    }


def weekly_applications(prescription: Prescription):
    """Per course week: (first day, last day, applied, skipped) from the stored slots,
    for the timeline's one row a week."""
    rows = prescription.applications.exclude(slot="").values_list("slot_on", "skipped")
    weeks: dict[int, list[int]] = {}
    for on, skipped in rows:
        week = (on - prescription.start_on).days // 7
        tally = weeks.setdefault(week, [0, 0])
        tally[1 if skipped else 0] += 1
    for week, (applied, skipped) in sorted(weeks.items()):
        first = prescription.start_on + timedelta(weeks=week)
        yield (
            week + 1,
            first,
            min(first + timedelta(days=6), prescription.last_day),
            applied,
            skipped,
        )


# --- recall -------------------------------------------------------------------------------


def fill_path() -> str:
    """The recall genealogy's path to patients through fills (scarrx.pharmacy.queries
    PATIENT_PATHS): for each batch reached, its fills' patients, looked up on the (batch,
    patient) index (OFFSET 0 keeps PostgreSQL from a hash join over every fill). Table
    names come from the models, nothing from a user."""
    from django.db import connection

    fill = connection.ops.quote_name(Fill._meta.db_table)
    if connection.vendor == "postgresql":
        return (
            "SELECT r.id, f.patient_id FROM reached r CROSS JOIN LATERAL "  # noqa: S608
            f"(SELECT patient_id FROM {fill} WHERE batch_id = r.id OFFSET 0) f"
        )
    return f"SELECT f.batch_id, f.patient_id FROM reached r JOIN {fill} f ON f.batch_id = r.id"  # noqa: S608
