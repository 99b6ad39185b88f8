"""The treatment course: prescriptions, fills, logged applications, side effects,
follow-ups and the patient's reminders.

Written only by `scarrx.treatment.services`. Every model reaches its patient through
`patient_path` and is read by staff holding `Perm.VIEW_COURSE`; the patient sees their own
in the portal. Records are facts: a status change is a row with who, when and why; nothing
clinical is deleted. The arithmetic (days supply, refill dates, PDC, dose-level adherence)
is in the pure modules `supply` and `adherence`.
"""

from __future__ import annotations

import uuid
from datetime import time

from django.conf import settings
from django.db import models

from scarrx.assessments.models import Timepoint
from scarrx.patients.models import Patient
from scarrx.pharmacy.models import GRAMS, Batch, Preparation
from scarrx.records import NeverDeleted
from scarrx.treatment.supply import Area

USER = settings.AUTH_USER_MODEL
VIEW_COURSE = "treatment.view_prescription"
DEFAULT_FOLLOW_UP_WEEKS = [4, 8, 12, 26]


class CourseStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


OPEN_STATUSES = (CourseStatus.ACTIVE, CourseStatus.ON_HOLD)  # a course still running


AREA_CHOICES = [(a.value, a.value.replace("_", " ").capitalize()) for a in Area]


class Prescription(NeverDeleted):
    """A prescriber's order for a patient's preparation, with structured directions."""

    view_permission = VIEW_COURSE
    portal_visible = True

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rx_number = models.CharField("Rx number", max_length=20, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="prescriptions")
    preparation = models.ForeignKey(Preparation, on_delete=models.PROTECT, related_name="+")
    # The prescriber as written on the order (a user of the console when there is one).
    prescriber = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prescriber_name = models.CharField(max_length=120)
    prescriber_npi = models.CharField("prescriber NPI", max_length=10)
    prescriber_licence = models.CharField(max_length=40)
    written_on = models.DateField()
    start_on = models.DateField()
    # Wall-clock times in the patient's zone: [["morning", "08:00"], ["evening", "20:00"]].
    times = models.JSONField()
    sites = models.JSONField(default=list)  # scarrx.body.Site values
    area = models.CharField(max_length=20, choices=AREA_CHOICES, blank=True)
    grams_per_application = models.DecimalField(**GRAMS, null=True, blank=True)
    duration_days = models.PositiveSmallIntegerField()
    refills_authorised = models.PositiveSmallIntegerField()
    directions = models.TextField()  # the sig printed on the label
    follow_up_weeks = models.JSONField(default=list)
    reassessment_before_refill = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=CourseStatus.choices, default=CourseStatus.ACTIVE
    )
    written_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The standing, kept by the services (and the daily task) so the worklist reads an
    # index instead of every application: when the next refill is due (None: no refill
    # needed), and dose-level adherence over the 14 whole days before `recent_through`.
    next_refill_due = models.DateField(null=True, blank=True)
    active_since = models.DateField()  # the start, or the day it was last resumed
    recent_scheduled = models.PositiveIntegerField(default=0)
    recent_applied = models.PositiveIntegerField(default=0)
    recent_percent = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    recent_through = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-start_on", "-pk"]
        indexes = [
            # the worklist's sections read these in their own order (ties by id), so a
            # section's first rows stop the index walk: no sort of every match
            models.Index(fields=["status", "next_refill_due", "id"], name="rx_refill_due"),
            models.Index(fields=["status", "recent_percent", "id"], name="rx_recent_adherence"),
            models.Index(fields=["status", "recent_through"], name="rx_standing_age"),
        ]
        permissions = [("pause_prescription", "Pause, resume or stop one's own course")]

    def __str__(self) -> str:
        return f"{self.rx_number}: {self.preparation}"

    @property
    def slot_times(self) -> dict[str, time]:
        return {name: time.fromisoformat(clock) for name, clock in self.times}

    @property
    def applications_per_day(self) -> int:
        return len(self.times)

    def slots_between(self, first, last) -> int:
        """The applications scheduled from `first` to `last`, both days included."""
        return ((last - first).days + 1) * self.applications_per_day

    @property
    def last_day(self):
        from datetime import timedelta

        return self.start_on + timedelta(days=self.duration_days - 1)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def held_by_patient(self) -> bool:
        """On hold because the patient paused it (they may resume it themselves)."""
        if self.status != CourseStatus.ON_HOLD:
            return False
        last = self.status_changes.order_by("-at", "-pk").first()
        return bool(last and last.by_patient)


class StatusChange(NeverDeleted):
    """Every status a prescription has had, with who, when and why."""

    patient_path = "prescription__patient"
    view_permission = VIEW_COURSE
    portal_visible = True

    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="status_changes"
    )
    status = models.CharField(max_length=10, choices=CourseStatus.choices)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    by_patient = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class Fill(NeverDeleted):
    """One dispensing of a prescription from a released batch: the original fill is
    number 0, refills count up to the refills authorised."""

    view_permission = VIEW_COURSE
    portal_visible = True

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="fills")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="fills")
    number = models.PositiveSmallIntegerField()
    quantity_g = models.DecimalField(**GRAMS)
    filled_on = models.DateField()
    days_supply = models.PositiveSmallIntegerField()
    supply_starts_on = models.DateField()  # later than filled_on for an early refill
    runs_out_on = models.DateField()  # the first day no supply covers, all fills so far
    refill_due_on = models.DateField(null=True, blank=True)  # None: the course is covered
    dispensed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    dispensed_at = models.DateTimeField(auto_now_add=True)
    verified_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["prescription", "number"]
        constraints = [
            models.UniqueConstraint(fields=["prescription", "number"], name="one_fill_number")
        ]
        indexes = [
            models.Index(fields=["batch", "patient"], name="fill_batch_patient"),
            models.Index(fields=["verified_at"], name="fill_verified"),
            models.Index(
                fields=["dispensed_at", "id"],
                condition=models.Q(verified_at__isnull=True),
                name="fill_to_verify",
            ),
        ]
        permissions = [("verify_fill", "Verify a fill before it is handed over")]

    def __str__(self) -> str:
        return f"{self.rx_number} fill {self.number}"

    @property
    def rx_number(self) -> str:
        return self.prescription.rx_number

    @property
    def is_refill(self) -> bool:
        return self.number > 0

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class SkipReason(models.TextChoices):
    IRRITATION = "irritation", "Skin irritated"
    FORGOT = "forgot", "Forgot"
    AWAY = "away", "Away from home"
    OTHER = "other", "Other"


class Via(models.TextChoices):
    PORTAL = "portal", "Portal"
    CONSOLE = "console", "Staff console"
    API = "api", "API"


class Application(NeverDeleted):
    """One logged application, or a skip, of a scheduled slot (morning, evening).

    Not a ChangeRecord each (docs/audit.md): the row itself says who recorded it, when and
    how, and is never changed or deleted. `key` is the client's idempotency key: a retried
    request finds the row it made. `slot` is blank for an application logged outside
    every slot's window: kept, counted nowhere."""

    patient_path = "prescription__patient"
    view_permission = VIEW_COURSE
    portal_visible = True
    append_only = True

    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="applications"
    )
    key = models.UUIDField()
    slot_on = models.DateField(null=True, blank=True)  # the slot's day, in the patient's zone
    slot = models.CharField(max_length=20, blank=True)
    applied_at = models.DateTimeField()  # for a skip, the slot's scheduled instant
    skipped = models.BooleanField(default=False)
    skip_reason = models.CharField(max_length=12, choices=SkipReason.choices, blank=True)
    sites = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    via = models.CharField(max_length=8, choices=Via.choices)

    class Meta:
        ordering = ["applied_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["prescription", "key"], name="application_once"),
            # A slot counts once: a second log for it is refused, never double-counted.
            models.UniqueConstraint(
                fields=["prescription", "slot_on", "slot"],
                condition=~models.Q(slot=""),
                name="slot_logged_once",
            ),
        ]


class Kind(models.TextChoices):
    IRRITATION = "irritation", "Irritation"
    REDNESS = "redness", "Redness"
    BURNING = "burning", "Burning or stinging"
    ITCHING = "itching", "Itching"
    DRYNESS = "dryness", "Dryness"
    PEELING = "peeling", "Peeling"
    CONTACT_DERMATITIS = "contact_dermatitis", "Contact dermatitis"
    ALLERGIC_REACTION = "allergic_reaction", "Allergic reaction"
    OTHER = "other", "Other"


class Severity(models.TextChoices):
    MILD = "mild", "Mild: noticeable, does not get in the way"
    MODERATE = "moderate", "Moderate: uncomfortable, gets in the way"
    SEVERE = "severe", "Severe: stops normal activities"


class Action(models.TextChoices):
    CONTINUE = "continue", "Continue as prescribed"
    REDUCE_FREQUENCY = "reduce_frequency", "Apply less often"
    PAUSE = "pause", "Pause the course"
    STOP = "stop", "Stop the course"


class Outcome(models.TextChoices):
    ONGOING = "ongoing", "Not yet recovered"
    RECOVERING = "recovering", "Recovering"
    RESOLVED = "resolved", "Recovered, resolved"
    RESOLVED_WITH_SEQUELAE = "resolved_with_sequelae", "Resolved with lasting effects"
    UNKNOWN = "unknown", "Unknown"


class SideEffect(NeverDeleted):
    """A side effect reported by the patient or by staff, tied to the fill and batch lot
    in use when it began. A pharmacist reviews each."""

    view_permission = VIEW_COURSE
    portal_visible = True

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="side_effects"
    )
    fill = models.ForeignKey(
        Fill, null=True, blank=True, on_delete=models.PROTECT, related_name="side_effects"
    )
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.TextField(blank=True, max_length=2000)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    onset_on = models.DateField()
    action = models.CharField(max_length=20, choices=Action.choices)
    reported_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True)
    via = models.CharField(max_length=8, choices=Via.choices)

    class Meta:
        ordering = ["-onset_on", "-pk"]
        indexes = [models.Index(fields=["onset_on", "id"], name="side_effect_onset")]
        permissions = [("review_sideeffect", "Review a side effect (pharmacist)")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.onset_on}"

    @property
    def reported_by_patient(self) -> bool:
        return self.via == Via.PORTAL


class Review(NeverDeleted):
    """A pharmacist's review of a side effect."""

    patient_path = "side_effect__patient"
    view_permission = VIEW_COURSE

    side_effect = models.OneToOneField(SideEffect, on_delete=models.PROTECT, related_name="review")
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    assessment = models.TextField(max_length=2000)  # the pharmacist's note
    outcome = models.CharField(max_length=25, choices=Outcome.choices)
    resolved_on = models.DateField(null=True, blank=True)
    serious = models.BooleanField(default=False)  # to be reported to FDA MedWatch


class FollowUp(NeverDeleted):
    """A follow-up visit of the course (an assessment at its timepoint). Done once the
    patient has a current assessment at that timepoint."""

    view_permission = VIEW_COURSE
    portal_visible = True

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="follow_ups"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    week = models.PositiveSmallIntegerField()
    timepoint = models.CharField(max_length=10, choices=Timepoint.choices)
    due_on = models.DateField()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["prescription", "week"], name="one_follow_up_a_week")
        ]
        indexes = [models.Index(fields=["due_on", "id"], name="follow_up_due")]


class CalendarFeed(models.Model):
    """A patient's private calendar address. Only a digest of its token is kept; making a
    new address revokes the old one."""

    view_permission = VIEW_COURSE
    portal_visible = True

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class ReminderKind(models.TextChoices):
    REFILL = "refill", "Refill due"
    FOLLOW_UP = "follow_up", "Follow-up visit"


class Reminder(models.Model):
    """One e-mail reminder. The unique constraint makes it once, however many workers
    plan; a worker claims it with a conditional UPDATE before sending, so it goes once."""

    view_permission = VIEW_COURSE

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    about_on = models.DateField()  # the refill or visit date it reminds of
    send_after = models.DateTimeField()
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "kind", "about_on"], name="remind_once")
        ]
        indexes = [models.Index(fields=["sent_at", "send_after"], name="reminder_due")]


class ReminderRun(models.Model):
    """One planned run of the reminder task per period: the unique period means two
    workers enqueue it once."""

    period = models.DateTimeField(unique=True)
    enqueued_at = models.DateTimeField(auto_now_add=True)
