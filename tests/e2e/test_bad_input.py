"""Bad input typed into the pages is refused beside the field, and nothing is saved."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from scarrx.assessments.models import ScarAssessment
from scarrx.audit.models import ChangeRecord
from scarrx.patients.models import Consent, Patient


@pytest.mark.e2e
def test_intake_refuses_a_date_of_birth_in_the_future(page: Page, sign_in, screenshot, pharmacist):
    sign_in(pharmacist)
    future = timezone.localdate() + timedelta(days=400)
    page.goto("/patients/new/")
    page.get_by_label("Given name").fill("Future")
    page.get_by_label("Family name").fill("Child")
    page.get_by_label("Date of birth").fill(future.isoformat())
    page.get_by_label("Sex").select_option("male")
    page.get_by_label("Fitzpatrick phototype").select_option("2")
    page.get_by_role("group", name="Treatment", exact=True).get_by_label("Granted").check()
    page.get_by_label("Decisions made on").fill(timezone.localdate().isoformat())
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Register patient").click()
    assert posted.value.status == 422

    expect(page).to_have_url(re.compile(r"/patients/new/$"))
    errors = page.locator(".errorlist")
    expect(errors).to_have_count(1)
    expect(errors).to_contain_text("Date of birth")
    expect(errors).to_contain_text("future")
    # What was typed is kept, so the pharmacist corrects one field rather than starting over.
    expect(page.get_by_label("Given name")).to_have_value("Future")
    screenshot("intake-error")

    assert not Patient.objects.exists()
    assert not Consent.objects.exists()
    assert not ChangeRecord.objects.filter(action__startswith="patient.").exists()


@pytest.mark.e2e
def test_assessment_refuses_a_negative_count(page: Page, sign_in, screenshot, pharmacist, patient):
    sign_in(pharmacist)
    page.goto(f"/patients/{patient.public_id}/assessments/new/")
    page.locator("#id_classification").select_option("atrophic")
    page.locator("#id_sites-0-site").select_option("cheeks")
    page.locator("#id_sites-0-cause").select_option("acne")
    page.locator("#id_gb_A1").fill("8")
    page.locator("#id_gb_B2").fill("-3")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign assessment").click()
    assert posted.value.status == 422

    expect(page.get_by_role("heading", name="Record a scar assessment")).to_be_visible()
    error = page.locator(".field", has=page.locator("#id_gb_B2")).locator(".errorlist")
    expect(error).to_have_count(1)  # beside its field, which names it
    expect(page.locator(".errorlist")).to_have_count(1)
    expect(error).to_contain_text("greater than or equal to 0")
    expect(page.locator("#id_gb_A1")).to_have_value("8")
    screenshot("assessment-error")

    assert not ScarAssessment.objects.exists()
    assert not ChangeRecord.objects.filter(action__startswith="assessment.").exists()
