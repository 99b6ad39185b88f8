"""The pharmacy in a real browser: a technician starts a batch of a patient's preparation,
scans one component's lot and weighs every component, ticks the checklist, photographs
the gel, records QC and sends it for verification; a second pharmacist verifies it and
the label PDF downloads. The bench also fits a phone without scrolling sideways."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import Page, expect

from scarrx.pharmacy import services
from scarrx.pharmacy.models import Batch
from scarrx.pharmacy.services import ComponentLine, StepLine
from tests.pharmacy.conftest import formulary, mfr_fields, second_pharmacist, today  # noqa: F401
from tests.pharmacy.pictures import jpeg

UUID = r"[0-9a-f-]{36}"
STEPS = [
    StepLine("Weigh every component from the lot shown."),
    StepLine("Mix until smooth."),
    StepLine("Photograph the finished gel.", photo=True),
]


@pytest.fixture
def preparation(formulary, pharmacist, second_pharmacist, patient):  # noqa: F811
    i = formulary["ingredients"]
    draft = services.draft_formulation(
        actor=pharmacist,
        code="E2E-PTX",
        components=[ComponentLine(i["ptx"], D(1)), ComponentLine(i["silicone"], None)],
        steps=STEPS,
        **mfr_fields(),
    )
    mfr = services.approve_formulation(draft, actor=second_pharmacist)
    return services.derive_preparation(actor=pharmacist, patient=patient, formulation=mfr)


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.e2e
def test_technician_compounds_pharmacist_verifies_and_the_label_downloads(
    page: Page,
    sign_in,
    screenshot,
    technician,
    second_pharmacist,  # noqa: F811 - the pharmacy tests' fixture, imported above
    preparation,
    formulary,  # noqa: F811
    tmp_path,
):
    sign_in(technician)
    page.goto(f"/preparations/{preparation.public_id}/")
    expect(page.locator(".patient-header")).to_contain_text("Ada Example")
    page.get_by_label("Quantity to dispense (g)").fill("30")
    page.get_by_role("button", name="Start a batch").click()
    expect(page).to_have_url(re.compile(rf"/batches/{UUID}/$"))
    expect(page.locator(".calculation")).to_contain_text("0.300 g = 1 % × 30.000 g")

    # The pentoxifylline lot is scanned: the scanner types the label's GS1 data and Enter.
    ptx = formulary["lots"]["ptx"]
    first = page.locator("article.component").nth(0)
    first.get_by_label("Scan the container's label").fill(
        f"(17){ptx.expiry_date:%y%m%d}(10){ptx.lot_number}"
    )
    first.get_by_label("Scan the container's label").press("Enter")
    expect(first.locator(".scan-result")).to_contain_text(f"Picked lot {ptx.lot_number}")
    expect(first.locator("select[data-lot]")).to_have_value(f"lot:{ptx.public_id}")
    first.get_by_label("Actual weight (g)").fill("0.302")
    first.get_by_role("button", name="Record weight").click()
    expect(page.locator(".messages")).to_contain_text("Pentoxifylline weighed.")

    base = page.locator("article.component").nth(1)
    base.get_by_label("Actual weight (g)").fill("29.71")
    base.get_by_role("button", name="Record weight").click()
    expect(page.locator("article.component .badge.yes")).to_have_count(2)

    for _ in range(2):
        page.locator("ol.checklist").get_by_role("button", name="Done").first.click()
    page.locator("ol.checklist input[type=file]").set_input_files(
        files=[{"name": "gel.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
    )
    page.get_by_role("button", name="Upload photo").click()
    expect(page.locator("figure.finished img")).to_be_visible()

    page.locator("#id_appearance").fill("Smooth, clear gel")
    page.get_by_label("Appearance meets the specification").check()
    page.get_by_label("Final weight (g)").fill("29.95")
    page.get_by_role("button", name="Record QC").click()
    page.get_by_role("button", name="Send for verification").click()
    expect(page.locator("#batch-status")).to_have_text("Ready for review")
    expect(page.locator("#verification")).to_contain_text("Waiting for a pharmacist")
    screenshot("pharmacy-bench-ready")

    page.set_viewport_size({"width": 360, "height": 800})
    assert no_sideways_scroll(page)
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("pharmacy-bench-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A pharmacist who did not compound it verifies and releases it.
    page.context.clear_cookies()
    sign_in(second_pharmacist)
    batch = Batch.objects.get()
    page.goto(f"/batches/{batch.public_id}/")
    expect(page.locator("#verification")).to_contain_text("Beyond-use date by USP <795>")
    page.get_by_role("button", name="Verify and release").click()
    expect(page.locator("#batch-status")).to_have_text("Released")
    batch.refresh_from_db()
    expect(page.locator("#lot-number")).to_have_text(batch.lot_number)
    screenshot("pharmacy-batch-released")

    with page.expect_download() as download:
        page.get_by_role("button", name="Label (PDF)").click()
    saved = tmp_path / "label.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert batch.lot_number in download.value.suggested_filename


@pytest.mark.e2e
def test_pharmacy_pages_fit_a_phone(page: Page, sign_in, screenshot, pharmacist, preparation):
    sign_in(pharmacist)
    page.set_viewport_size({"width": 360, "height": 800})
    for name, url in [
        ("home", "/pharmacy/"),
        ("formulary", "/pharmacy/ingredients/"),
        ("mfrs", "/pharmacy/formulations/"),
        ("preparation", f"/preparations/{preparation.public_id}/"),
        ("reports", "/pharmacy/reports/"),
        ("label-template", "/pharmacy/label-template/"),
    ]:
        page.goto(url)
        assert no_sideways_scroll(page), url
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot(f"pharmacy-{name}-390")
        page.set_viewport_size({"width": 360, "height": 800})
