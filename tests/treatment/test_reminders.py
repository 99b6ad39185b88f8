import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from icalendar import Calendar

from scarrx.patients.models import Patient
from scarrx.treatment import services
from scarrx.treatment.models import Reminder, ReminderRun
from scarrx.treatment.tasks import reminders_task
from tests.conftest import client_for


def feed(client, token):
    return client.get(f"/portal/calendar/{token}.ics")


def test_the_calendar_feed_has_times_refills_and_visits_and_names_no_medicine(
    rx, batch, technician, patient
):
    services.dispense_fill(rx, actor=technician, batch=batch, quantity_g=Decimal(30))
    token = services.make_calendar_feed(patient, actor=patient.user)

    response = feed(client_for(None), token)

    assert response.status_code == 200 and response["Content-Type"] == "text/calendar"
    cal = Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {
        "Morning application",
        "Evening application",
        "Refill due",
        "Follow-up visit",
    }
    morning = events["Morning application"]
    assert (
        morning["dtstart"].dt.hour == 8 and str(morning["dtstart"].dt.tzinfo) == "America/New_York"
    )
    assert morning["rrule"]["COUNT"] == [180]
    assert cal.walk("VTIMEZONE")
    text = response.content.decode().lower()
    for secret in ("pentoxifylline", "silicone", "gel", "scar", "acne", rx.rx_number.lower()):
        assert secret not in text


def test_a_new_calendar_address_revokes_the_old_one(rx, patient):
    old = services.make_calendar_feed(patient, actor=patient.user)
    new = services.make_calendar_feed(patient, actor=patient.user)
    client = client_for(None)
    assert feed(client, old).status_code == 404
    assert feed(client, new).status_code == 200
    services.revoke_calendar_feed(patient, actor=patient.user)
    assert feed(client, new).status_code == 404
    assert feed(client, "guess").status_code == 404


def test_only_the_patient_makes_their_calendar_address(rx, patient, pharmacist):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.make_calendar_feed(patient, actor=pharmacist)


def _due_refill(rx, batch, technician, patient, clock):
    Patient.objects.filter(pk=patient.pk).update(email="ada@example.org")
    services.dispense_fill(rx, actor=technician, batch=batch, quantity_g=Decimal(30))
    clock.shift(timedelta(days=7))  # refill due on day 8 (5 days' lead on 12 days)


def test_a_refill_reminder_is_sent_once_even_when_planned_and_run_twice(
    rx, batch, technician, patient, clock
):
    _due_refill(rx, batch, technician, patient, clock)
    assert services.plan_reminders() == 1
    services.plan_reminders()
    assert Reminder.objects.count() == 1

    assert services.send_due_reminders("worker-a") == 1
    assert services.send_due_reminders("worker-b") == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.org"] and "refill is due" in message.subject
    assert "pentoxifylline" not in message.body.lower()
    assert "Nothing is sent or charged" in message.body


def test_a_claim_left_by_a_worker_that_died_is_taken_up_later(
    rx, batch, technician, patient, clock
):
    _due_refill(rx, batch, technician, patient, clock)
    services.plan_reminders()
    reminder = Reminder.objects.get()
    Reminder.objects.filter(pk=reminder.pk).update(claimed_at=timezone.now(), claimed_by="died")
    assert services.send_due_reminders("worker-b") == 0  # still held
    clock.shift(timedelta(minutes=16))
    assert services.send_due_reminders("worker-b") == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_reminder_once(rx, batch, technician, patient, clock):
    _due_refill(rx, batch, technician, patient, clock)
    services.plan_reminders()
    sent = []
    start = threading.Barrier(2)

    def work(name):
        try:
            start.wait()
            sent.append(services.send_due_reminders(name))
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(sent) == [0, 1] and len(mail.outbox) == 1


def test_the_reminder_run_is_enqueued_once_a_period_and_does_the_work(
    rx, batch, technician, patient, clock, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    _due_refill(rx, batch, technician, patient, clock)

    assert services.plan_run() is True
    assert services.plan_run() is False
    assert ReminderRun.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_task_function_itself_runs_without_a_worker(rx, batch, technician, patient, clock):
    _due_refill(rx, batch, technician, patient, clock)
    assert reminders_task.call()["sent"] == 1
