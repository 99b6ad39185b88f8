"""The course in a real browser: the patient logs the evening application on a phone and
sees it counted; the pharmacist sees a late refill on the worklist and opens it."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from scarrx.treatment import services
from tests.conftest import make_user
from tests.treatment.course import course_for

PHONE = {"width": 390, "height": 844}


def _course(patient, pharmacist, technician, prescriber, **overrides):
    return course_for(
        patient=patient,
        pharmacist=pharmacist,
        technician=technician,
        prescriber=prescriber,
        approver=make_user("pia", "pharmacist"),
        **overrides,
    )


def _evening_now(zone) -> str:
    """An evening time whose window is open now, with the morning before it."""
    now = timezone.now().astimezone(zone).time()
    return max(now, time(0, 10)).strftime("%H:%M")


@pytest.mark.e2e
def test_the_patient_logs_the_evening_application_on_a_phone_and_sees_it_counted(
    page: Page, sign_in, screenshot, patient, pharmacist, technician, prescriber
):
    yesterday = timezone.localdate() - timedelta(days=1)
    evening = _evening_now(patient.zone)
    _course(
        patient,
        pharmacist,
        technician,
        prescriber,
        written_on=yesterday,
        start_on=yesterday,
        times={"morning": "00:05", "evening": evening},
    )
    page.set_viewport_size(PHONE)
    sign_in(patient.user)
    expect(page).to_have_url(f"{page.url.split('/portal')[0]}/portal/")

    card = page.locator("li.slot", has=page.get_by_role("heading", name="Evening"))
    card.get_by_role("button", name="I've applied my evening dose").click()

    expect(page.locator(".messages")).to_contain_text("Evening application logged at")
    expect(card).to_contain_text("Applied at")
    expect(card).to_contain_text("Counted.")
    expect(page.locator(".tally")).to_contain_text("1 of")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot("portal-today-evening-logged")


@pytest.mark.e2e
def test_the_pharmacist_sees_a_late_refill_on_the_worklist(
    page: Page, sign_in, screenshot, patient, pharmacist, technician, prescriber
):
    start = timezone.localdate() - timedelta(days=14)
    rx, batch = _course(
        patient, pharmacist, technician, prescriber, written_on=start, start_on=start
    )
    services.dispense_fill(
        rx, actor=technician, batch=batch, quantity_g=Decimal(30), filled_on=start
    )  # 12 days' supply: it ran out two days ago
    sign_in(pharmacist)

    item = page.locator("#refills li").filter(has_text=patient.full_name)
    expect(item).to_contain_text("Refill late")
    expect(item).to_contain_text(rx.rx_number)
    screenshot("worklist-late-refill")
    item.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", name=f"Dispense refill 1 of {rx.rx_number}")).to_be_visible()
