"""The first visit in a real browser: sign in, register a patient, record a baseline."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from scarrx.assessments.models import ScarAssessment
from scarrx.patients.models import Consent, Patient


def register_ada(page: Page) -> None:
    """Fill the intake form for Ada Lovelace, born 1995, consenting to all three today."""
    page.goto("/patients/new/")
    page.get_by_label("Given name").fill("Ada")
    page.get_by_label("Family name").fill("Lovelace")
    page.get_by_label("Date of birth").fill("1995-12-10")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Fitzpatrick phototype").select_option("3")
    for consent in ("Treatment", "Photographs", "Use of de-identified data in outcome reports"):
        page.get_by_role("group", name=consent, exact=True).get_by_label("Granted").check()
    page.get_by_label("Decisions made on").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Register patient").click()


@pytest.mark.e2e
def test_pharmacist_registers_a_patient_and_records_a_baseline(
    page: Page, sign_in, screenshot, pharmacist
):
    sign_in(pharmacist)

    register_ada(page)
    expect(page).to_have_url(re.compile(r"/patients/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Registered Ada Lovelace as SRX-")

    patient = Patient.objects.get()
    assert (patient.given_name, patient.family_name) == ("Ada", "Lovelace")
    assert str(patient.date_of_birth) == "1995-12-10"
    assert (patient.sex, patient.fitzpatrick) == ("female", 3)
    assert sorted(Consent.objects.filter(patient=patient, granted=True).values_list("kind")) == [
        ("deidentified_data",),
        ("photographs",),
        ("treatment",),
    ]
    expect(page.locator("main")).to_contain_text(patient.record_number)
    expect(page.get_by_text("No assessment yet.")).to_be_visible()

    page.get_by_role("button", name="Record assessment").click()  # <a role="button">
    expect(page.get_by_role("heading", name="Record a scar assessment")).to_be_visible()
    today = timezone.localdate()  # the pharmacy's day: the form's default, filled anyway
    page.locator("#id_assessed_on").fill(today.isoformat())
    page.locator("#id_timepoint").select_option("baseline")
    page.locator("#id_classification").select_option("atrophic")
    page.locator("#id_sites-0-site").select_option("cheeks")
    page.locator("#id_sites-0-cause").select_option("acne")
    page.locator("#id_gb_qualitative").select_option("3")
    page.locator("#id_gb_A1").fill("8")
    page.locator("#id_gb_A2").fill("15")
    page.locator("#id_gb_B2").fill("5")
    page.locator("#id_ecca_V").fill("12")
    page.locator("#id_ecca_U").fill("3")
    page.locator("#id_bother").select_option("7")
    page.get_by_role("button", name="Sign assessment").click()

    expect(page).to_have_url(re.compile(r"/assessments/[0-9a-f-]{36}/$"))
    expect(page.locator(".messages")).to_contain_text("Assessment signed")
    scores = page.locator("#scores")
    # 8 A1 (band 1 × 1) + 15 A2 (band 2 × 1) + 5 B2 (band 1 × 2) = 5
    expect(scores.locator("[data-score=gb_quantitative]")).to_have_text(re.compile(r"^\s*5\b"))
    # 12 V (grade 2 × 15) + 3 U (grade 1 × 20) = 50
    expect(scores.locator("[data-score=ecca]")).to_have_text(re.compile(r"^\s*50\b"))
    expect(scores).to_contain_text("Atrophic")
    expect(scores).to_contain_text("moderate")
    expect(page.locator("main")).to_contain_text("Cheeks")
    screenshot("assessment-detail")

    assessment = ScarAssessment.objects.get()
    assert assessment.patient == patient
    assert (assessment.assessor, assessment.assessed_on, assessment.timepoint) == (
        pharmacist,
        today,
        "baseline",
    )
    assert (assessment.gb_quantitative, assessment.ecca, assessment.bother) == (5, 50, 7)
    assert list(assessment.sites.values_list("site", "cause")) == [("cheeks", "acne")]

    page.locator("main").get_by_role("link", name="Ada Lovelace").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.public_id}/$"))
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    cells = rows.first.locator("td")
    expect(cells.nth(0)).to_have_text(f"{today.day} {today:%b %Y}")
    expect(cells.nth(1)).to_have_text("Baseline")
    expect(cells.nth(3)).to_have_text("5")
    expect(cells.nth(4)).to_have_text("50")
    timeline = page.locator("ul.timeline")
    expect(timeline).to_contain_text("Baseline assessment: Goodman & Baron 3 (moderate)")
    expect(timeline).to_contain_text(f"Registered as {patient.record_number}")
    expect(timeline).to_contain_text("Consent to photographs granted")
    screenshot("patient-detail")
