import json
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from scarrx.accounts.services import issue_api_token
from scarrx.treatment import queries, services
from scarrx.treatment.models import Application
from tests.conftest import client_for
from tests.treatment.course import key, local_at, prescribe


def log(rx, actor, **kwargs):
    kwargs.setdefault("key", key())
    return services.record_application(rx, actor=actor, via="portal", **kwargs)


def test_an_application_satisfies_the_slot_nearest_its_time(rx, patient):
    today = timezone.localdate()
    logged = log(rx, patient.user, applied_at=local_at(rx, today, "08:40"))
    assert logged.created and logged.counted
    assert (logged.application.slot_on, logged.application.slot) == (today, "morning")


def test_the_same_key_is_recorded_once_and_answered_the_same(rx, patient):
    client = client_for(patient.user)
    body = {
        "key": key(),
        "slot": "morning",
        "applied_at": local_at(rx, rx.start_on, "08:05").isoformat(),
    }

    first = client.post("/api/v1/portal/applications", body, content_type="application/json")
    again = client.post("/api/v1/portal/applications", body, content_type="application/json")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Application.objects.count() == 1


def test_a_slot_counts_once_even_with_a_new_key(rx, patient):
    at = local_at(rx, rx.start_on, "08:05")
    log(rx, patient.user, slot="morning", applied_at=at)
    with pytest.raises(ValidationError) as refused:
        log(rx, patient.user, slot="morning", applied_at=at + timedelta(minutes=3))
    assert "logged already" in refused.value.message_dict["slot"][0]
    assert Application.objects.count() == 1


def test_an_application_outside_every_window_is_kept_but_not_counted(rx, patient, clock):
    clock.shift(timedelta(hours=3))
    logged = log(rx, patient.user, applied_at=local_at(rx, rx.start_on, "13:30"))
    assert logged.created and not logged.counted
    assert queries.course(rx).not_counted == 1


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (timedelta(hours=1), "future"),
        (timedelta(days=-4), "within 3 days"),
    ],
)
def test_logging_in_the_future_or_long_after_is_refused(rx, patient, clock, when, words):
    clock.shift(timedelta(days=5))
    with pytest.raises(ValidationError) as refused:
        log(rx, patient.user, applied_at=timezone.now() + when)
    assert words in refused.value.message_dict["applied_at"][0]
    assert not Application.objects.exists()


def test_logging_before_the_course_starts_is_refused(patient, preparation, prescriber):
    today = timezone.localdate()
    rx = prescribe(patient, preparation, prescriber, start_on=today + timedelta(days=2))
    with pytest.raises(ValidationError) as refused:
        log(rx, patient.user, applied_at=timezone.now())
    assert "starts on" in refused.value.message_dict["applied_at"][0]


def test_a_skip_says_why_and_counts_as_no_application(rx, patient):
    with pytest.raises(ValidationError) as refused:
        log(rx, patient.user, slot="morning", on=rx.start_on, skipped=True)
    assert "skip_reason" in refused.value.message_dict

    logged = log(rx, patient.user, slot="morning", on=rx.start_on, skipped=True, skip_reason="away")
    assert logged.application.skipped and not logged.counted
    assert logged.application.applied_at == local_at(rx, rx.start_on, "08:00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "not-a-uuid"}, "key"),
        ({"slot": "lunchtime"}, "slot"),
        ({"sites": ["elbow"]}, "sites"),
        ({"skipped": True, "skip_reason": "bored", "slot": "morning"}, "skip_reason"),
    ],
)
def test_bad_application_input_is_a_422_naming_the_field(rx, patient, body, field):
    client = client_for(patient.user)
    response = client.post(
        "/api/v1/portal/applications", {"key": key(), **body}, content_type="application/json"
    )
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Application.objects.exists()


def test_a_patient_cannot_log_for_another_patient(rx, other_patient):
    client = client_for(other_patient.user)
    response = client.post(
        "/api/v1/portal/applications",
        {"key": key(), "prescription": str(rx.public_id)},
        content_type="application/json",
    )
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        log(rx, other_patient.user)
    assert not Application.objects.exists()


def test_staff_log_on_the_patients_behalf(rx, technician):
    client = client_for(technician)
    response = client.post(
        f"/api/v1/prescriptions/{rx.public_id}/applications",
        {"key": key(), "applied_at": local_at(rx, rx.start_on, "08:30").isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 201
    row = Application.objects.get()
    assert row.recorded_by == technician and row.via == "api" and row.slot == "morning"


def test_a_stopped_course_takes_no_more_logs(rx, patient, pharmacist):
    services.change_status(rx, actor=pharmacist, status="stopped", reason="Finished early")
    with pytest.raises(ValidationError):
        log(rx, patient.user)


def test_the_morning_stays_at_eight_across_the_clock_change(
    patient, preparation, prescriber, clock, settings
):
    settings.LOG_WINDOW_DAYS = 5
    # The course began before the spring-forward night of 8 March (New York).
    start = timezone.localdate() - timedelta(days=4)
    rx = prescribe(patient, preparation, prescriber, written_on=start, start_on=start)
    before = log(rx, patient.user, applied_at=local_at(rx, start + timedelta(days=1), "08:00"))
    after = log(rx, patient.user, applied_at=local_at(rx, start + timedelta(days=3), "08:00"))
    assert before.counted and after.counted
    instants = [a.applied_at for a in Application.objects.order_by("applied_at")]
    assert [i.astimezone(patient.zone).hour for i in instants] == [8, 8]
    assert instants[1] - instants[0] == timedelta(days=2, hours=-1)  # an hour lost


def test_adherence_follows_the_logs_per_week(rx, patient, clock):
    for day in range(7):
        on = rx.start_on + timedelta(days=day)
        clock.move_to(local_at(rx, on, "12:00"))
        if day < 6:
            log(rx, patient.user, applied_at=local_at(rx, on, "08:10"))
        clock.move_to(local_at(rx, on, "20:30"))
        if day % 2 == 0:
            log(rx, patient.user, applied_at=local_at(rx, on, "20:10"))
        clock.move_to(local_at(rx, on + timedelta(days=1), "01:00"))
    week = queries.course(rx).dose.weeks[0]
    assert (week.scheduled, week.applied) == (14, 10)
    assert not week.adherent  # 10 of 14 is 71 %


# --- retries at the same moment ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_the_same_key_record_once(patient, preparation, prescriber):
    """Eight threads send the same two applications at once (a phone retrying on a bad
    network): each is recorded once, and every answer to one key is the same."""
    yesterday = timezone.localdate() - timedelta(days=1)
    rx = prescribe(patient, preparation, prescriber, written_on=yesterday, start_on=yesterday)
    bodies = [
        {"key": key(), "applied_at": local_at(rx, yesterday, "20:05").isoformat()},
        {
            "key": key(),
            "applied_at": local_at(rx, yesterday + timedelta(days=1), "08:02").isoformat(),
        },
    ]
    answers: dict[str, list[tuple[int, bytes]]] = {b["key"]: [] for b in bodies}
    start = threading.Barrier(8)

    def send(body):
        try:
            client = client_for(patient.user)
            start.wait()
            response = client.post(
                "/api/v1/portal/applications", json.dumps(body), content_type="application/json"
            )
            answers[body["key"]].append((response.status_code, response.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(bodies[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    rows = {str(a.key): (a.slot_on, a.slot) for a in Application.objects.all()}
    assert rows == {
        bodies[0]["key"]: (yesterday, "evening"),
        bodies[1]["key"]: (yesterday + timedelta(days=1), "morning"),
    }
    for got in answers.values():
        assert len(got) == 4 and len(set(got)) == 1 and got[0][0] == 201


def test_staff_type_the_time_as_the_patients_clock_showed_it(
    patient, preparation, prescriber, technician, clock
):
    """On the console, a time typed for a patient in London is read in London (08:30 there
    is the morning application), not in the pharmacy's New York; a time the patient's
    clocks skipped is refused, naming the field, and nothing is logged."""
    from datetime import UTC, date, datetime

    from tests.treatment.course import prescribe as write

    patient.time_zone = "Europe/London"
    patient.save(update_fields=["time_zone"])
    course = write(
        patient, preparation, prescriber, written_on=date(2026, 3, 1), start_on=date(2026, 3, 1)
    )
    client = client_for(technician)
    url = f"/prescriptions/{course.public_id}/applications/"
    form = {"key": key(), "slot": "morning", "applied_at": "2026-03-10T08:30"}
    assert client.post(url, form).status_code == 302
    row = Application.objects.get()
    assert row.applied_at == datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    assert (row.slot_on, row.slot) == (date(2026, 3, 10), "morning")

    patient.time_zone = "America/New_York"
    patient.save(update_fields=["time_zone"])
    form = {"key": key(), "slot": "morning", "applied_at": "2026-03-08T02:30"}
    response = client.post(url, form)
    assert response.status_code == 422
    assert "never happened in America/New_York" in response.content.decode()
    assert Application.objects.count() == 1


def test_a_log_costs_the_same_few_queries_however_long_the_course(
    rx, patient, clock, django_assert_max_num_queries
):
    """The portal's log reads only the slots around it: its queries (token and its use,
    role, course, read record, course lock, key and nearby slots, insert, the standing's
    one update, and four transaction statements) do not grow with what is logged."""
    token = issue_api_token(user=patient.user, name="phone")
    for _ in range(18):
        log(
            rx, patient.user, slot="morning", applied_at=local_at(rx, timezone.localdate(), "08:05")
        )
        clock.shift(timedelta(days=1))
    services.refresh_standings()  # the daily task, run this morning
    body = {
        "key": key(),
        "slot": "evening",
        "applied_at": local_at(rx, timezone.localdate() - timedelta(days=1), "20:20").isoformat(),
    }
    with django_assert_max_num_queries(13):
        response = Client().post(
            "/api/v1/portal/applications",
            body,
            content_type="application/json",
            headers={"authorization": f"Bearer {token}"},
        )
    assert response.status_code == 201, response.content
    assert response.json()["counted"] is True
    assert Application.objects.filter(prescription=rx).count() == 19


def test_a_day_named_with_an_application_that_is_no_skip_changes_nothing(
    patient, preparation, prescriber, clock
):
    """`on` is a skip's day: sent with an application it is ignored, and the slots taken
    around the application's own time decide (the bedtime slot, the evening taken)."""
    today = timezone.localdate()
    start = today - timedelta(days=3)
    rx = prescribe(
        patient,
        preparation,
        prescriber,
        written_on=start,
        start_on=start,
        times={"evening": "16:00", "bedtime": "19:00"},
    )
    yesterday = today - timedelta(days=1)
    log(rx, patient.user, applied_at=local_at(rx, yesterday, "16:00"))
    logged = log(rx, patient.user, applied_at=local_at(rx, yesterday, "17:00"), on=start)
    assert (logged.application.slot_on, logged.application.slot) == (yesterday, "bedtime")


@pytest.mark.parametrize("far", ["0001-01-01", "9999-12-31"])
def test_a_day_at_the_calendars_ends_is_no_server_error(rx, patient, clock, far):
    client = client_for(patient.user)
    at = local_at(rx, rx.start_on, "08:05").isoformat()
    logged = client.post(
        "/api/v1/portal/applications",
        {"key": key(), "applied_at": at, "on": far},
        content_type="application/json",
    )
    assert logged.status_code == 201, logged.content
    skipped = client.post(
        "/api/v1/portal/applications",
        {"key": key(), "skipped": True, "skip_reason": "away", "slot": "evening", "on": far},
        content_type="application/json",
    )
    assert skipped.status_code == 422
    assert skipped.json()["errors"][0]["field"] == "on"
    assert Application.objects.count() == 1
