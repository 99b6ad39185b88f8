"""Progress photos in a real browser: a technician uploads a patient's photo with the chart
and sees it analysed; a pharmacist draws the scar and reference regions on it, measures,
aligns a follow-up to it and opens the side-by-side page. Also the fallback where the
chart was not found and the pharmacist clicks its four corners."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from scarrx.imaging.phantom import WARM_CAST, PhantomPhoto, SceneSpec, make_scene, photograph
from scarrx.patients.services import record_consent
from scarrx.photos.models import Measurement, Photo
from scarrx.photos.services import measure_photo, upload_photo
from tests.photos.conftest import FOLLOW_UP_CAMERA, FOLLOW_UP_TAKEN, a_star_difference

UUID = r"[0-9a-f-]{36}"


@pytest.fixture(scope="module")
def baseline_phantom() -> PhantomPhoto:
    return photograph(make_scene(SceneSpec(seed=2, scar_delta_a=13.0)), WARM_CAST)


@pytest.fixture(scope="module")
def followup_phantom() -> PhantomPhoto:
    spec = SceneSpec(seed=2, scar_delta_a=8.0, chart_origin_mm=(22.0, 13.0))
    return photograph(make_scene(spec), FOLLOW_UP_CAMERA)


def click_points(page: Page, image: Locator, points, size: tuple[int, int]) -> None:
    """Click photo pixels on the image as displayed (scaled to its bounding box)."""
    box = image.bounding_box()
    assert box, "the photo is not displayed"
    width, height = size
    for x, y in points:
        image.click(position={"x": x * box["width"] / width, "y": y * box["height"] / height})


def wait_until_loaded(images: Locator) -> None:
    """Every image has loaded and decoded (img.decode() rejects for a broken one)."""
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
        assert images.nth(i).evaluate("img => img.decode().then(() => img.naturalWidth)") > 0


def point_count(value: str) -> int:
    return len(value.split())


@pytest.mark.e2e
def test_technician_uploads_pharmacist_measures_and_compares_with_the_follow_up(
    page: Page,
    sign_in,
    screenshot,
    technician,
    pharmacist,
    patient,
    photo_consent,
    baseline_phantom,
    followup_phantom,
):
    # The technician uploads the baseline photo with the chart in the frame.
    sign_in(technician)
    page.goto(f"/patients/{patient.public_id}/photos/new/")
    page.locator("#id_file").set_input_files(
        files=[{"name": "IMG_0412.jpg", "mimeType": "image/jpeg", "buffer": baseline_phantom.jpeg}]
    )
    page.locator("#id_site").select_option("cheeks")
    page.locator("#id_view").select_option("front")
    page.locator("#id_taken_at").fill("2026-01-10T10:30")
    page.get_by_role("button", name="Upload and analyse").click()

    expect(page).to_have_url(re.compile(rf"/photos/{UUID}/$"))
    expect(page.locator(".messages")).to_contain_text("Photo stored and calibrated")
    calibration = page.locator("#calibration")
    expect(calibration.locator("[data-calibrated]")).to_have_text("Calibrated")
    expect(calibration).to_contain_text(f"{baseline_phantom.px_per_mm:.1f} px/mm")
    photo = Photo.objects.get()
    assert photo.calibrated and photo.uploaded_by == technician

    # The pharmacist finds it on the patient's page and draws the two regions.
    page.context.clear_cookies()
    sign_in(pharmacist)
    page.goto(f"/patients/{patient.public_id}/")
    page.locator(f".photo-grid a[href='/photos/{photo.public_id}/']").click()
    expect(page).to_have_url(re.compile(rf"/photos/{photo.public_id}/$"))
    image = page.locator(".drawable img")
    wait_until_loaded(image)

    size = (photo.width, photo.height)
    page.get_by_role("button", name="Draw scar region").click()
    click_points(page, image, baseline_phantom.roi[::2], size)
    page.get_by_role("button", name="Draw reference skin").click()
    click_points(page, image, baseline_phantom.reference, size)
    assert point_count(page.locator("#id_roi").input_value()) == 12
    assert point_count(page.locator("#id_reference").input_value()) == 4
    expect(page.locator(".drawable svg polygon.roi")).to_have_count(1)
    expect(page.locator(".drawable svg polygon.reference")).to_have_count(1)
    page.get_by_role("button", name="Measure").click()

    expect(page.locator(".messages")).to_contain_text("Regions measured.")
    shown = page.locator("[data-metric=delta_a]")
    expect(shown).to_be_visible()
    assert float(shown.inner_text()) == pytest.approx(a_star_difference(baseline_phantom), abs=1.0)
    expect(page.locator("main")).to_contain_text("Exploratory")
    wait_until_loaded(image)
    screenshot("photo-detail")
    baseline = Measurement.objects.get()

    # A follow-up arrives (through the service, to save time); align it and compare.
    followup = upload_photo(
        patient=patient,
        actor=technician,
        data=followup_phantom.jpeg,
        site="cheeks",
        view="front",
        taken_at=FOLLOW_UP_TAKEN,
    )
    page.goto(f"/photos/{followup.public_id}/")
    page.get_by_role("button", name="Align to baseline and measure its regions").click()

    expect(page).to_have_url(re.compile(rf"/measurements/{UUID}/compare/$"))
    pair = page.locator("#side-by-side img")
    expect(pair).to_have_count(2)
    wait_until_loaded(pair)
    slider = page.locator("#slider")
    expect(slider.get_by_role("slider")).to_be_visible()
    wait_until_loaded(slider.locator("img"))
    slider.get_by_role("slider").fill("20")  # the baseline shows left of the divider
    clipped = re.compile(r"inset\(0(px)? 80% 0(px)? 0(px)?\)")
    expect(slider.locator("img.top")).to_have_attribute("style", clipped)
    row = page.locator("#change tr", has_text="Scar − reference a*")
    expect(row).to_have_count(1)
    change = float(row.locator("td").nth(3).inner_text().replace("−", "-"))
    assert change == pytest.approx(-5.0, abs=1.0)
    quality = float(page.locator("[data-metric=alignment_quality]").inner_text())
    assert quality >= 0.6
    slider.get_by_role("slider").fill("50")
    screenshot("photo-compare")
    assert Measurement.objects.get(photo=followup).baseline == baseline


@pytest.mark.e2e
def test_pharmacist_clicks_the_corners_of_a_chart_that_was_not_found(
    page: Page, sign_in, screenshot, technician, pharmacist, patient, photo_consent
):
    # A dim room's noise: the whole chart is in the frame, but detection misses it.
    missed = photograph(make_scene(SceneSpec(seed=3)), replace(WARM_CAST, noise=0.25))
    photo = upload_photo(
        patient=patient,
        actor=technician,
        data=missed.jpeg,
        site="cheeks",
        view="front",
        taken_at=FOLLOW_UP_TAKEN,
    )
    assert not photo.calibrated

    sign_in(pharmacist)
    page.goto(f"/photos/{photo.public_id}/")
    expect(page.locator("#calibration [data-calibrated]")).to_have_text("Uncalibrated")
    image = page.locator(".drawable img")
    wait_until_loaded(image)
    page.get_by_role("button", name="Click the four corners on the photo above").click()
    click_points(page, image, missed.chart_corners.tolist(), (photo.width, photo.height))
    screenshot("photo-corners-clicked")
    expect(page.locator("#id_corners")).to_have_value(re.compile(r"^\S+ \S+ \S+ \S+$"))
    page.get_by_role("button", name="Use these corners").click()

    expect(page.locator(".messages")).to_contain_text("Chart corners saved.")
    expect(page.locator("#calibration [data-calibrated]")).to_have_text("Calibrated")
    screenshot("photo-corners-given")
    photo.refresh_from_db()
    assert photo.calibrated and photo.calibration["chart_source"] == "given"


@pytest.mark.e2e
def test_pharmacist_recalibrates_a_photo_with_a_reason_and_is_told_to_measure_again(
    page: Page,
    sign_in,
    screenshot,
    technician,
    pharmacist,
    patient,
    photo_consent,
    baseline_phantom,
):
    photo = upload_photo(
        patient=patient,
        actor=technician,
        data=baseline_phantom.jpeg,
        site="cheeks",
        view="front",
        taken_at=FOLLOW_UP_TAKEN,
    )
    measure_photo(
        photo,
        actor=pharmacist,
        roi=[list(p) for p in baseline_phantom.roi],
        reference=[list(p) for p in baseline_phantom.reference],
    )
    sign_in(pharmacist)
    page.goto(f"/photos/{photo.public_id}/")
    expect(page.locator("[data-metric=delta_a]")).to_be_visible()
    image = page.locator(".drawable img")
    wait_until_loaded(image)

    page.get_by_text("Chart outlined in the wrong place? Click its four corners again").click()
    page.get_by_role("button", name="Click the four corners on the photo above").click()
    click_points(page, image, baseline_phantom.chart_corners.tolist(), (photo.width, photo.height))
    page.get_by_role("button", name="Use these corners").click()
    expect(page.locator("#corners .errorlist")).to_contain_text("Reason: The photo is already")
    expect(page.locator("[data-metric=delta_a]")).to_be_visible()  # nothing changed

    # The refused page keeps the clicked corners: give the reason and send them again.
    expect(page.locator("#id_corners")).to_have_value(re.compile(r"^\S+ \S+ \S+ \S+$"))
    page.get_by_label("Reason for the change").fill("Detector outline was off the chart")
    page.get_by_role("button", name="Use these corners").click()

    expect(page.locator(".messages")).to_contain_text("Chart corners saved.")
    expect(page.locator("#remeasure")).to_contain_text("the regions need measuring again")
    expect(page.locator("[data-metric=delta_a]")).to_have_count(0)
    screenshot("photo-recalibrated")
    page.get_by_role("button", name="Measure").click()  # the regions are drawn already
    expect(page.locator(".messages")).to_contain_text("Regions measured.")
    expect(page.locator("[data-metric=delta_a]")).to_be_visible()
    assert Measurement.objects.filter(photo=photo, is_current=True).count() == 1


@pytest.mark.e2e
def test_upload_page_says_plainly_when_there_is_no_photo_consent(
    page: Page, sign_in, screenshot, technician, pharmacist, patient
):
    today = timezone.localdate()
    for granted in (True, False):
        record_consent(
            patient=patient, actor=pharmacist, kind="photographs", granted=granted, given_on=today
        )
    sign_in(technician)
    page.goto(f"/patients/{patient.public_id}/photos/new/")
    notice = page.locator("#consent")
    expect(notice).to_contain_text("No consent to photographs is in force")
    expect(notice).to_contain_text(f"Consent to photographs withdrawn on {today:%-d %b %Y}")
    expect(page.locator("input[type=file]")).to_have_count(0)
    screenshot("photo-upload-no-consent")
