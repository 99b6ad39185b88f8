"""The console on a phone (390 px, and 360 px): no page scrolls sideways, and a
pharmacist enters the demo's reference case, six face sites, and amends it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from scarrx.assessments.models import ScarAssessment
from scarrx.assessments.services import record_assessment
from scarrx.demo.photos import add_photo_pair
from scarrx.patients.services import record_consent
from tests.conftest import BASELINE

FACE = ["forehead", "temples", "cheeks", "nose", "chin", "jawline"]


@pytest.fixture
def phone(page: Page) -> Page:
    page.set_viewport_size({"width": 390, "height": 844})
    return page


@pytest.fixture
def patient_file(pharmacist, patient):
    """The patient with an assessment and a measured, aligned before-and-after pair."""
    today = timezone.localdate()
    record_consent(
        patient=patient, actor=pharmacist, kind="photographs", granted=True, given_on=today
    )
    assessment = record_assessment(patient=patient, actor=pharmacist, **BASELINE)
    followup = add_photo_pair(
        patient=patient,
        actor=pharmacist,
        baseline_on=today - timedelta(days=60),
        followup_on=today - timedelta(days=1),
        seed=24,
        delta_a=13.0,
        improvement=6.0,
    )
    return patient, assessment, followup


def pages(patient, assessment, followup) -> dict[str, str]:
    return {
        "patient list": "/patients/",
        "intake": "/patients/new/",
        "patient page": f"/patients/{patient.public_id}/",
        "timeline": f"/patients/{patient.public_id}/timeline/",
        "edit": f"/patients/{patient.public_id}/edit/",
        "audit": f"/audit/patients/{patient.public_id}/",
        "new assessment": f"/patients/{patient.public_id}/assessments/new/",
        "assessment": f"/assessments/{assessment.public_id}/",
        "amend": f"/assessments/{assessment.public_id}/amend/",
        "photo upload": f"/patients/{patient.public_id}/photos/new/",
        "photo": f"/photos/{followup.photo.public_id}/",
        "compare": f"/measurements/{followup.public_id}/compare/",
        "capture guide": "/photos/guide/",
    }


@pytest.mark.e2e
@pytest.mark.parametrize("width", [360, 390])
def test_no_page_scrolls_sideways_on_a_phone(page: Page, sign_in, pharmacist, patient_file, width):
    sign_in(pharmacist)
    page.set_viewport_size({"width": width, "height": 800})
    too_wide = {}
    for name, url in pages(*patient_file).items():
        page.goto(url)
        page.wait_for_load_state("networkidle")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            too_wide[name] = scroll_width
    assert too_wide == {}
    header = page.locator("header.console")
    assert header.evaluate("h => h.scrollWidth <= h.clientWidth")  # the user's name fits


def add_site(page: Page, number: int, site: str) -> None:
    row = page.locator("[data-site-row]:not([hidden])").nth(number - 1)
    if not row.count():
        page.get_by_role("button", name="Add a site").click()
        row = page.locator("[data-site-row]:not([hidden])").nth(number - 1)
    expect(row.locator("legend")).to_have_text(f"Site {number}")
    row.get_by_label("Site", exact=True).select_option(site)
    row.get_by_label("Cause").select_option("acne")
    row.get_by_label("Scar age (years)").fill("6")


def fill(page: Page, values: dict[str, str]) -> None:
    for field, value in values.items():
        box = page.locator(f"#id_{field}")
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(value)
        else:
            box.fill(value)


@pytest.mark.e2e
def test_pharmacist_enters_the_six_site_reference_case_on_a_phone_and_amends_it(
    phone: Page, sign_in, screenshot, pharmacist, patient
):
    sign_in(pharmacist)
    phone.goto(f"/patients/{patient.public_id}/assessments/new/")
    fill(phone, {"assessed_on": timezone.localdate().isoformat(), "classification": "atrophic"})
    for morphology in ("Icepick", "Boxcar", "Rolling", "Macular"):
        phone.get_by_label(morphology, exact=True).check()
    for number, site in enumerate(FACE, start=1):
        add_site(phone, number, site)
    fill(
        phone,
        {
            "gb_qualitative": "4",
            **{f"gb_{k}": v for k, v in {"A1": "24", "B1": "14", "B2": "12", "B3": "4",
                                          "C1": "9", "C2": "6", "C3": "2"}.items()},
            "ecca_V": "15", "ecca_U": "26", "ecca_M": "8", "ecca_elastolysis": "1",
            "scar_s_face": "4", "scar_s_chest": "1", "scar_s_back": "2", "bother": "8",
        },
    )  # fmt: skip
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("phone-six-sites")
    phone.get_by_role("button", name="Sign assessment").click()

    expect(phone).to_have_url(re.compile(r"/assessments/[0-9a-f-]{36}/$"))
    scores = phone.locator("#scores")
    expect(scores.locator("[data-score=gb_quantitative]")).to_have_text(re.compile(r"^\s*22\b"))
    expect(scores.locator("[data-score=ecca]")).to_have_text(re.compile(r"^\s*170\b"))
    signed = ScarAssessment.objects.get()
    assert [s.site for s in signed.sites.all()] == FACE

    phone.get_by_role("button", name="Amend").click()  # <a role="button">
    phone.get_by_label("Reason for amending").fill("Jawline scars were on the neck")
    jawline = phone.locator("[data-site-row]").nth(5)
    jawline.get_by_role("button", name="Remove this site").click()
    expect(jawline).to_be_hidden()
    add_site(phone, 6, "neck")
    phone.get_by_role("button", name="Sign amendment").click()

    expect(phone).to_have_url(re.compile(r"/assessments/[0-9a-f-]{36}/$"))
    amended = ScarAssessment.objects.get(is_current=True)
    assert amended.amends == signed
    assert [s.site for s in amended.sites.all()] == [*FACE[:5], "neck"]
    screenshot("phone-amended")
