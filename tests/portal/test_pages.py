import re
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from scarrx.audit.models import AccessRecord
from scarrx.treatment import services
from scarrx.treatment.models import Application, CourseStatus, SideEffect
from tests.conftest import client_for

KEY = re.compile(r'name="key" value="([0-9a-f-]{36})"')


def test_a_patient_lands_on_today_with_no_course_yet(patient):
    client = client_for(patient.user)
    assert client.get("/").url == "/portal/"
    page = client.get("/portal/")
    assert page.status_code == 200 and b"You have no course yet" in page.content


def test_today_shows_the_morning_logged_and_the_evening_to_come(rx, patient, clock):
    client = client_for(patient.user)
    page = client.get("/portal/").content.decode()
    assert "applied my morning dose" in page  # 12:00, the morning window still open
    assert "You can log it from 16:00" in page

    key = KEY.search(page).group(1)
    response = client.post("/portal/log/", {"key": key, "slot": "morning"})
    assert response.status_code == 302
    again = client.post("/portal/log/", {"key": key, "slot": "morning"})  # a double tap
    assert again.status_code == 302
    assert Application.objects.count() == 1
    page = client.get("/portal/").content.decode()
    assert "Morning application logged at 12:00" in page
    assert "✓ Applied at 12:00. Counted." in page
    assert AccessRecord.objects.filter(patient=patient, what="portal-today").exists()


def test_a_skip_from_today_records_the_reason(rx, patient):
    client = client_for(patient.user)
    key = KEY.search(client.get("/portal/").content.decode()).group(1)
    client.post(
        "/portal/log/", {"key": key, "slot": "morning", "skipped": "on", "skip_reason": "away"}
    )
    row = Application.objects.get()
    assert row.skipped and row.skip_reason == "away"


def test_the_course_page_says_when_the_next_refill_is_and_that_nothing_is_automatic(
    rx, batch, technician, patient
):
    services.dispense_fill(rx, actor=technician, batch=batch, quantity_g=Decimal(30))
    page = client_for(patient.user).get("/portal/course/").content.decode()
    due = (timezone.localdate() + timedelta(days=7)).strftime("%A %-d %B")
    assert due in page
    assert "nothing is sent or charged automatically" in page
    assert "Pause my course" in page and "Stop my course" in page


def test_the_patient_pauses_then_resumes_from_the_portal(rx, patient):
    client = client_for(patient.user)
    client.post("/portal/course/status/", {"status": "on_hold"})
    rx.refresh_from_db()
    assert rx.status == CourseStatus.ON_HOLD
    page = client.get("/portal/course/").content.decode()
    assert "no refill is made while it is paused" in page and "Resume my course" in page
    client.post("/portal/course/status/", {"status": "active"})
    rx.refresh_from_db()
    assert rx.status == CourseStatus.ACTIVE


def test_a_side_effect_from_the_portal(rx, patient):
    client = client_for(patient.user)
    response = client.post(
        "/portal/side-effect/",
        {
            "kind": "dryness",
            "severity": "mild",
            "onset_on": str(timezone.localdate()),
            "action": "continue",
        },
    )
    assert response.status_code == 302
    assert SideEffect.objects.get().reported_by_patient
    refused = client.post("/portal/side-effect/", {"kind": "dryness"})
    assert refused.status_code == 422 and SideEffect.objects.count() == 1


def test_the_calendar_address_is_shown_once(rx, patient):
    client = client_for(patient.user)
    page = client.post("/portal/calendar/").content.decode()
    link = re.search(r'value="(http[^"]+\.ics)"', page).group(1)
    assert client_for(None).get(link).status_code == 200
    assert link not in client.get("/portal/calendar/").content.decode()


def test_staff_cannot_open_the_portal(as_pharmacist):
    assert as_pharmacist.get("/portal/").status_code == 404
