"""The patient's reminders: a private calendar address, and e-mails sent once.

The calendar feed and the e-mails name no medicine and no diagnosis: calendars are shared
and synced, and e-mail is read on lock screens. They say "application", "refill" and
"follow-up visit", and point to the portal.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scarrx.audit.services import record_change
from scarrx.treatment.models import (
    OPEN_STATUSES,
    CalendarFeed,
    CourseStatus,
    FollowUp,
    Prescription,
    Reminder,
    ReminderKind,
    ReminderRun,
)

REMIND_DAYS_AHEAD = 3  # an e-mail this many days before a refill or a visit
CLAIM_EXPIRES = timedelta(minutes=15)  # a claim older than this was a worker that died
RUN_EVERY = timedelta(minutes=10)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _own(actor, patient) -> None:
    """Only the patient makes or revokes their own calendar address."""
    if actor is None or not actor.is_authenticated or patient.user_id != actor.pk:
        raise PermissionDenied("Only the patient manages their calendar address.")


@transaction.atomic
def make_calendar_feed(patient, *, actor) -> str:
    """A new private calendar address for the patient (any earlier one stops working).
    Returns the token, shown once: only its digest is kept."""
    _own(actor, patient)
    revoked = CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(patient=patient, digest=digest(token), created_by=actor)
    record_change(
        actor=actor,
        action="calendar.link_made",
        obj=feed,
        patient=patient,
        summary="Calendar address made" + (", the earlier one revoked" if revoked else ""),
    )
    return token


@transaction.atomic
def revoke_calendar_feed(patient, *, actor) -> int:
    _own(actor, patient)
    feeds = list(CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True))
    CalendarFeed.objects.filter(pk__in=[f.pk for f in feeds]).update(revoked_at=timezone.now())
    for feed in feeds:
        record_change(
            actor=actor,
            action="calendar.link_revoked",
            obj=feed,
            patient=patient,
            summary="Calendar address revoked",
        )
    return len(feeds)


def feed_for(token: str) -> CalendarFeed | None:
    if not token or len(token) > 100:
        return None
    return (
        CalendarFeed.objects.filter(digest=digest(token), revoked_at__isnull=True)
        .select_related("patient")
        .first()
    )


# --- e-mail reminders -------------------------------------------------------------------


def _period(now: datetime) -> datetime:
    step = int(RUN_EVERY.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // step * step, tz=now.tzinfo)


def plan_run(now: datetime | None = None) -> bool:
    """Enqueue the reminder task for this period, once however many workers ask (the
    period is unique). True if this call enqueued it."""
    from scarrx.treatment.tasks import reminders_task

    _, created = ReminderRun.objects.get_or_create(period=_period(now or timezone.now()))
    if created:
        reminders_task.enqueue()
    return created


def plan_reminders(now: datetime | None = None) -> int:
    """Make the reminder rows due soon: refills of active courses and follow-up visits
    not yet done, for patients with an e-mail address. Unique, so planning twice (two
    workers) makes each once."""
    from scarrx.treatment.queries import follow_ups_with_state

    now = now or timezone.now()
    today = timezone.localdate(now)
    horizon = today + timedelta(days=REMIND_DAYS_AHEAD)
    rows = []
    refills = Prescription.objects.filter(
        status=CourseStatus.ACTIVE, next_refill_due__range=(today, horizon)
    ).exclude(patient__email="")
    for rx in refills.only("patient_id", "next_refill_due"):
        rows.append(
            Reminder(
                patient_id=rx.patient_id,
                kind=ReminderKind.REFILL,
                about_on=rx.next_refill_due,
                send_after=now,
            )
        )
    visits = FollowUp.objects.filter(
        due_on__range=(today, horizon),
        prescription__status__in=OPEN_STATUSES,
    ).exclude(patient__email="")
    for visit in follow_ups_with_state(visits):
        if not visit.done:
            rows.append(
                Reminder(
                    patient_id=visit.patient_id,
                    kind=ReminderKind.FOLLOW_UP,
                    about_on=visit.due_on,
                    send_after=now,
                )
            )
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _claim(reminder_id: int, worker: str, now: datetime) -> bool:
    """Claim one reminder with a conditional UPDATE: exactly one worker wins it."""
    claimed = Reminder.objects.filter(pk=reminder_id, sent_at__isnull=True).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_EXPIRES)
    )
    return claimed.update(claimed_at=now, claimed_by=worker[:64]) == 1


def message_for(reminder: Reminder) -> tuple[str, str]:
    """Subject and body: no medicine, no diagnosis."""
    portal = f"{settings.SITE_URL}/portal/"
    day = f"{reminder.about_on:%A %-d %B}"
    if reminder.kind == ReminderKind.REFILL:
        return (
            f"Your refill is due on {day}",
            f"Hello {reminder.patient.given_name},\n\nYour next refill is due on {day}. "
            f"Nothing is sent or charged until you or the pharmacy arrange it: see what "
            f"happens next, or pause, in your portal:\n{portal}\n",
        )
    return (
        f"Your follow-up visit is due on {day}",
        f"Hello {reminder.patient.given_name},\n\nYour follow-up visit is due on {day}. "
        f"Call the pharmacy to book it, or see your portal:\n{portal}\n",
    )


def send_due_reminders(worker: str, now: datetime | None = None, *, limit: int = 500) -> int:
    """Send the reminders due: each claimed first, so two workers never send one twice,
    and a worker that dies mid-run leaves the rest (and, after CLAIM_EXPIRES, the one it
    held unsent) to the next run."""
    now = now or timezone.now()
    due = (
        Reminder.objects.filter(sent_at__isnull=True, send_after__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_EXPIRES))
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for reminder_id in list(due):
        if not _claim(reminder_id, worker, now):
            continue  # another worker has it
        reminder = Reminder.objects.select_related("patient").get(pk=reminder_id)
        subject, body = message_for(reminder)
        send_mail(subject, body, None, [reminder.patient.email])
        Reminder.objects.filter(pk=reminder_id).update(sent_at=timezone.now())
        sent += 1
    return sent
