"""Measuring a scar against reference skin on a calibrated photo, carrying the regions over
to a follow-up by alignment, the side-by-side page, the chart-corners fallback, what is
refused, and the `scarrx photo analyze` command's contract."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from scarrx.__main__ import main as scarrx
from scarrx.audit.models import ChangeRecord
from scarrx.imaging.phantom import SceneSpec, make_scene, photograph
from scarrx.photos.figures import metric_text, signed_text
from scarrx.photos.models import Measurement, Photo
from tests.conftest import client_for
from tests.photos.conftest import (
    FOLLOW_UP_CAMERA,
    FOLLOW_UP_TAKEN,
    ZONE,
    a_star_difference,
    as_points,
    stored_files,
    upload,
)

ANALYSIS_KEYS = {
    "calibrated",
    "calibration",
    "px_per_mm",
    "roi",
    "reference",
    "difference",
    "exploratory",
    "algorithm_version",
}
REGION_KEYS = {"lab", "erythema_index", "melanin_index", "ita_deg", "ita_band"}


def regions(phantom) -> dict:
    return {"roi": as_points(phantom.roi), "reference": as_points(phantom.reference)}


def outcome(client, response) -> tuple[int, str]:
    """The status a browser first sees, and the text of the page it ends on."""
    page = response
    if response.status_code == 302:
        page = client.get(response["Location"])
    return response.status_code, html.unescape(page.content.decode())


def change_table(page: str) -> dict[str, tuple[str, str, str]]:
    """The compare page's change table: label -> (baseline, follow-up, change)."""
    table = re.search(r'<table[^>]*id="change".*?</table>', page, re.S)
    assert table, "no change table"
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row)]
        if cells:
            rows[cells[0]] = tuple(cells[1:])
    return rows


def mean_distance(points, truth) -> float:
    return float(np.linalg.norm(np.asarray(points) - np.asarray(truth), axis=1).mean())


# --- measuring a baseline ------------------------------------------------------------


def test_pharmacist_draws_regions_and_the_redness_matches_the_phantom(
    pharmacist, baseline_photo, baseline_phantom
):
    client = client_for(pharmacist)
    url = f"/photos/{baseline_photo.public_id}/"
    response = client.post(url + "regions/", regions(baseline_phantom))
    assert response.status_code == 302 and response["Location"] == url

    measurement = Measurement.objects.get()
    result = measurement.result
    assert (measurement.photo, measurement.measured_by, measurement.baseline) == (
        baseline_photo,
        pharmacist,
        None,
    )
    assert result["calibrated"] is True
    assert set(result) >= ANALYSIS_KEYS
    assert set(result["roi"]) == set(result["reference"]) == REGION_KEYS
    truth = a_star_difference(baseline_phantom)
    assert result["difference"]["a_star"] == pytest.approx(truth, abs=0.75)
    # The scar region is the redder one, on its own too, and the reference is plain skin.
    scene = baseline_phantom.scene
    assert result["reference"]["lab"][1] == pytest.approx(
        scene.true_lab(scene.spec.reference_mm)[1], abs=1.5
    )
    assert result["exploratory"]["pit_count"] == len(scene.pits)
    assert measurement.algorithm_version == result["algorithm_version"]
    change = ChangeRecord.objects.get(action="photo.measured")
    assert (change.actor, change.patient) == (pharmacist, baseline_photo.patient)
    assert f"a* {metric_text(result['difference']['a_star'])}" in change.summary

    page = html.unescape(client.get(url).content.decode())
    assert "Regions measured." in page
    shown = re.search(r'data-metric="delta_a">([-\d.]+)<', page)
    assert shown and float(shown.group(1)) == pytest.approx(truth, abs=0.8)
    assert "Exploratory" in page


def test_measuring_again_keeps_the_first_measurement_as_a_record(
    pharmacist, baseline_measurement, baseline_phantom
):
    photo = baseline_measurement.photo
    client_for(pharmacist).post(f"/photos/{photo.public_id}/regions/", regions(baseline_phantom))
    assert Measurement.objects.filter(photo=photo).count() == 2
    assert list(Measurement.objects.filter(photo=photo, is_current=True)) != [baseline_measurement]
    baseline_measurement.refresh_from_db()
    assert baseline_measurement.is_current is False


def test_photo_without_a_chart_gives_no_colour_metrics(
    pharmacist, patient, technician, photo_consent, no_chart_phantom
):
    photo = upload(patient, technician, no_chart_phantom.jpeg)
    client = client_for(pharmacist)
    client.post(f"/photos/{photo.public_id}/regions/", regions(no_chart_phantom))

    result = Measurement.objects.get(photo=photo).result
    assert result["calibrated"] is False
    assert "no colour chart found" in result["reason"]
    assert not {"roi", "reference", "difference"} & set(result)
    page = html.unescape(client.get(f"/photos/{photo.public_id}/").content.decode())
    assert "no colour metrics" in page
    assert 'data-metric="delta_a"' not in page


# --- carrying regions over to a follow-up --------------------------------------------


def test_follow_up_is_aligned_to_the_baseline_and_shows_five_units_less_redness(
    pharmacist, baseline_measurement, followup_photo, baseline_phantom, followup_phantom
):
    client = client_for(pharmacist)
    response = client.post(f"/photos/{followup_photo.public_id}/carry-over/")

    followup = Measurement.objects.get(photo=followup_photo)
    assert response.status_code == 302
    assert response["Location"] == f"/measurements/{followup.public_id}/compare/"
    assert followup.baseline == baseline_measurement
    assert followup.result["alignment"]["quality"] >= 0.6
    # The baseline's regions land where the scar and the skin are in the follow-up.
    assert mean_distance(followup.roi, followup_phantom.roi) < 4
    assert mean_distance(followup.reference, followup_phantom.reference) < 4

    before = baseline_measurement.result["difference"]["a_star"]
    after = followup.result["difference"]["a_star"]
    true_change = a_star_difference(followup_phantom) - a_star_difference(baseline_phantom)
    assert true_change == pytest.approx(-5.0, abs=0.25)  # the phantoms say what we think
    assert after - before == pytest.approx(-5.0, abs=1.0)
    assert ChangeRecord.objects.filter(action="photo.measured").count() == 2


def test_side_by_side_page_shows_both_photos_the_slider_and_the_change(
    pharmacist, followup_measurement, baseline_measurement
):
    client = client_for(pharmacist)
    url = f"/measurements/{followup_measurement.public_id}/"
    response = client.get(url + "compare/")
    assert response.status_code == 200
    page = html.unescape(response.content.decode())

    assert f'src="{url}baseline.jpg"' in page
    assert f'src="{url}aligned.jpg"' in page
    assert 'type="range"' in page
    quality = followup_measurement.result["alignment"]["quality"]
    assert f'data-metric="alignment_quality">{quality:.2f}<' in page

    rows = change_table(page)
    before, after, change = rows["Scar − reference a*"]
    assert float(before) == pytest.approx(
        baseline_measurement.result["difference"]["a_star"], abs=0.06
    )
    assert change.startswith("−")  # a true minus sign, as in the labels
    assert float(change.replace("−", "-")) == pytest.approx(-5.0, abs=1.0)
    assert all(cells[2] != "—" for cells in rows.values())  # every metric has a change
    # Negative figures carry the same true minus in the metric columns too.
    melanin = rows["Scar − reference melanin index"]
    assert baseline_measurement.result["difference"]["melanin_index"] < 0
    assert melanin[0].startswith("−") and melanin[1].startswith("−")
    assert not [cell for cells in rows.values() for cell in cells if "-" in cell]
    assert "Both colour-corrected by their charts." in page
    assert "56 days apart" in page

    base = baseline_measurement.photo
    for which in ("baseline", "aligned"):
        image = client.get(f"{url}{which}.jpg")
        assert image.status_code == 200
        assert image["Content-Type"] == "image/jpeg"
        picture = Image.open(io.BytesIO(image.content))
        picture.load()
        # Both in the baseline's frame, so they can be laid over each other.
        ratio = picture.size[0] / picture.size[1]
        assert ratio == pytest.approx(base.width / base.height, rel=0.01)
        assert picture.getextrema() != ((0, 0), (0, 0), (0, 0))


def test_detail_page_offers_alignment_only_when_there_is_a_measured_baseline(
    pharmacist, baseline_photo, patient, technician, followup_phantom
):
    followup = upload(patient, technician, followup_phantom.jpeg, taken=FOLLOW_UP_TAKEN)
    client = client_for(pharmacist)
    url = f"/photos/{followup.public_id}/"
    assert "Align to baseline" not in client.get(url).content.decode()

    status, page = outcome(client, client.post(url + "carry-over/"))
    assert "No measured baseline photo of this site and view." in page
    assert not Measurement.objects.exists()


def test_an_aligned_follow_up_does_not_offer_to_align_again(pharmacist, followup_measurement):
    page = client_for(pharmacist).get(f"/photos/{followup_measurement.photo.public_id}/")

    assert "Side by side with the baseline" in page.content.decode()
    assert "Align to baseline" not in page.content.decode()


def test_a_measured_change_reads_the_same_on_every_page(pharmacist, followup_measurement):
    client = client_for(pharmacist)
    change = signed_text(
        followup_measurement.result["difference"]["a_star"]
        - followup_measurement.baseline.result["difference"]["a_star"]
    )
    compare = client.get(f"/measurements/{followup_measurement.public_id}/compare/")
    patient_page = client.get(f"/patients/{followup_measurement.photo.patient.public_id}/")

    assert change_table(compare.content.decode())["Scar − reference a*"][2] == change
    assert f"scar − reference a* {change}" in patient_page.content.decode()


def test_unrelated_photos_are_not_aligned_and_nothing_is_measured(
    pharmacist, baseline_measurement, patient, technician, unrelated_phantom
):
    stranger = upload(patient, technician, unrelated_phantom.jpeg, taken=FOLLOW_UP_TAKEN)
    client = client_for(pharmacist)
    status, page = outcome(client, client.post(f"/photos/{stranger.public_id}/carry-over/"))

    assert "Not aligned — alignment:" in page
    assert list(Measurement.objects.all()) == [baseline_measurement]
    assert status == 422  # refused input: not the 302 a success gets


# --- the chart-corners fallback ------------------------------------------------------


def test_chart_the_detector_missed_is_calibrated_from_the_four_corners_given(
    pharmacist, patient, technician, photo_consent, chart_missed_phantom
):
    photo = upload(patient, technician, chart_missed_phantom.jpeg)
    assert photo.calibrated is False
    assert "no colour chart found" in photo.uncalibrated_reason
    client = client_for(pharmacist)
    url = f"/photos/{photo.public_id}/"
    assert "Chart not found? Click its four corners" in client.get(url).content.decode()

    corners = as_points(chart_missed_phantom.chart_corners)
    response = client.post(url + "corners/", {"corners": corners})
    assert response.status_code == 302

    photo.refresh_from_db()
    assert photo.calibrated is True
    assert photo.uncalibrated_reason == ""
    assert photo.calibration["chart_source"] == "given"
    assert photo.calibration["heldout_delta_e2000"] < 3.0  # noisy, but well under 5
    assert photo.px_per_mm == pytest.approx(chart_missed_phantom.px_per_mm, rel=0.03)
    change = ChangeRecord.objects.get(action="photo.chart_corners_set")
    assert change.actor == pharmacist and change.data["calibrated"] is True
    before, after = change.data["before"], change.data["after"]
    assert before["calibrated"] is False and before["heldout_delta_e2000"] is None
    assert after["calibrated"] is True and after["chart_source"] == "given"
    assert after["heldout_delta_e2000"] == photo.calibration["heldout_delta_e2000"]
    assert after["px_per_mm"] == photo.px_per_mm
    assert after["chart_corners"] == photo.chart_corners

    client.post(url + "regions/", regions(chart_missed_phantom))
    result = Measurement.objects.get(photo=photo).result
    assert result["difference"]["a_star"] == pytest.approx(
        a_star_difference(chart_missed_phantom), abs=1.0
    )


@pytest.mark.parametrize(
    ("corners", "says"),
    [("10,10 20,10 20,20", "Chart corners:"), ("10,10 990,10 990,740 10,1200", "outside")],
    ids=["three_points", "outside"],
)
def test_bad_chart_corners_are_refused_and_the_photo_stays_uncalibrated(
    corners, says, pharmacist, patient, technician, photo_consent, chart_missed_phantom
):
    photo = upload(patient, technician, chart_missed_phantom.jpeg)
    client = client_for(pharmacist)
    response = client.post(f"/photos/{photo.public_id}/corners/", {"corners": corners})
    status, page = outcome(client, response)

    assert says in page
    photo.refresh_from_db()
    assert photo.calibrated is False
    assert not ChangeRecord.objects.filter(action="photo.chart_corners_set").exists()
    assert status == 422  # refused input: not the 302 a success gets


def recalibrate(client, photo, phantom, reason=None):
    body = {"corners": as_points(phantom.chart_corners)}
    if reason is not None:
        body["reason"] = reason
    return client.post(f"/photos/{photo.public_id}/corners/", body)


@pytest.mark.parametrize("reason", [None, "   "], ids=["none", "blank"])
def test_changing_the_corners_of_a_calibrated_photo_needs_a_reason(
    reason, pharmacist, baseline_measurement, baseline_phantom
):
    photo = baseline_measurement.photo
    calibration, files = photo.calibration, stored_files()
    client = client_for(pharmacist)
    status, page = outcome(client, recalibrate(client, photo, baseline_phantom, reason))

    assert status == 422
    assert "Reason: The photo is already calibrated: say why" in page
    photo.refresh_from_db()
    assert photo.calibration == calibration
    baseline_measurement.refresh_from_db()
    assert baseline_measurement.is_current
    assert not ChangeRecord.objects.filter(action="photo.chart_corners_set").exists()
    assert stored_files() == files  # no new preview left behind


def test_new_corners_on_a_calibrated_photo_are_recorded_and_its_regions_need_measuring_again(
    pharmacist, baseline_measurement, baseline_phantom
):
    photo = baseline_measurement.photo
    old = {
        "method": photo.calibration["method"],
        "heldout_delta_e2000": photo.calibration["heldout_delta_e2000"],
        "px_per_mm": photo.px_per_mm,
        "chart_corners": photo.chart_corners,
    }
    old_preview = photo.preview
    client = client_for(pharmacist)
    reason = "Detector outlined the chart one patch too far right"
    response = recalibrate(client, photo, baseline_phantom, reason)
    assert response.status_code == 302

    photo.refresh_from_db()
    assert photo.calibrated and photo.calibration["chart_source"] == "given"
    change = ChangeRecord.objects.get(action="photo.chart_corners_set")
    assert change.reason == reason
    assert {k: change.data["before"][k] for k in old} == old
    assert change.data["after"]["chart_corners"] == photo.chart_corners != old["chart_corners"]
    assert change.data["after"]["px_per_mm"] == photo.px_per_mm
    assert change.data["after"]["heldout_delta_e2000"] == photo.calibration["heldout_delta_e2000"]
    assert change.data["measurements_superseded"] == [str(baseline_measurement.public_id)]
    baseline_measurement.refresh_from_db()
    assert baseline_measurement.is_current is False  # it used the old calibration
    assert photo.preview != old_preview  # redrawn with the new correction

    page = html.unescape(client.get(f"/photos/{photo.public_id}/").content.decode())
    assert "the regions need measuring again" in page
    assert 'data-metric="delta_a"' not in page  # the old figures are not shown as current
    assert as_points(np.round(baseline_phantom.roi)).replace(".0", "") in page  # redrawn

    # Measuring again makes a current measurement with the new calibration.
    client.post(f"/photos/{photo.public_id}/regions/", regions(baseline_phantom))
    current = Measurement.objects.get(photo=photo, is_current=True)
    assert current.result["calibration"]["chart_corners"] == photo.chart_corners
    assert "need measuring again" not in client.get(f"/photos/{photo.public_id}/").content.decode()


def test_compare_page_says_when_its_baseline_figures_were_superseded(
    pharmacist, followup_measurement, baseline_measurement, baseline_phantom
):
    client = client_for(pharmacist)
    url = f"/measurements/{followup_measurement.public_id}/compare/"
    assert "superseded" not in client.get(url).content.decode()
    recalibrate(client, baseline_measurement.photo, baseline_phantom, "Chart misread")
    page = html.unescape(client.get(url).content.decode())
    assert "The baseline measurement shown here has since been superseded" in page


def test_days_apart_counts_calendar_days_in_the_pharmacys_zone(
    pharmacist, followup_measurement, baseline_measurement
):
    """23:30 one evening to 00:15 the next morning is one day apart, not zero."""
    Photo.objects.filter(pk=baseline_measurement.photo.pk).update(
        taken_at=datetime(2026, 3, 6, 23, 30, tzinfo=ZONE)
    )
    Photo.objects.filter(pk=followup_measurement.photo.pk).update(
        taken_at=datetime(2026, 3, 7, 0, 15, tzinfo=ZONE)
    )
    url = f"/measurements/{followup_measurement.public_id}/compare/"
    page = html.unescape(client_for(pharmacist).get(url).content.decode())
    assert "1 day apart" in page


@pytest.fixture(scope="module")
def chartless_followup_phantom():
    """The follow-up scene and camera, but the chart left out of the frame."""
    spec = SceneSpec(seed=2, scar_delta_a=8.0, chart_origin_mm=None)
    return photograph(make_scene(spec), FOLLOW_UP_CAMERA)


def test_compare_page_says_which_photo_is_shown_uncorrected(
    pharmacist, patient, technician, baseline_measurement, chartless_followup_phantom
):
    later = upload(patient, technician, chartless_followup_phantom.jpeg, taken=FOLLOW_UP_TAKEN)
    assert later.calibrated is False
    client = client_for(pharmacist)
    status, page = outcome(client, client.post(f"/photos/{later.public_id}/carry-over/"))

    assert status == 302, page
    assert "Both colour-corrected" not in page
    assert (
        "The baseline is colour-corrected by its chart; the follow-up is shown uncorrected" in page
    )
    rows = change_table(page)
    assert rows["Scar − reference a*"][1:] == ("—", "—")  # no colour metrics, no change


# --- regions refused -----------------------------------------------------------------


def bad_regions(phantom, case: str) -> tuple[dict, str]:
    good = regions(phantom)
    if case == "two_points":
        return good | {"roi": "500,400 560,420"}, "Scar region: The region needs at least 3"
    if case == "roi_outside":
        return good | {"roi": "500,400 560,420 1400,500"}, "lies outside the 1000x750 photo"
    if case == "roi_a_line":
        return good | {"roi": "100,100 200,100 300,100"}, "Scar region: The region encloses no"
    return good | {"reference": "10,10 300,10 300,-90"}, "Reference skin region: The region"


@pytest.mark.parametrize("case", ["two_points", "roi_outside", "roi_a_line", "reference_outside"])
def test_bad_region_is_refused_naming_it_and_nothing_is_measured(
    case, pharmacist, baseline_photo, baseline_phantom
):
    body, says = bad_regions(baseline_phantom, case)
    client = client_for(pharmacist)
    response = client.post(f"/photos/{baseline_photo.public_id}/regions/", body)
    status, page = outcome(client, response)

    assert says in page
    if case == "roi_outside":
        assert "Scar region: The region: point (1400, 500)" in page
    assert not Measurement.objects.exists()
    assert not ChangeRecord.objects.filter(action="photo.measured").exists()
    assert status == 422  # refused input: not the 302 a success gets


# --- the command ---------------------------------------------------------------------


def run_cli(capsys, *args) -> tuple[int, str, str]:
    try:
        scarrx(["scarrx", "photo", "analyze", *map(str, args)])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def photo_files(tmp_path, baseline_phantom, followup_phantom):
    baseline, followup = tmp_path / "baseline.jpg", tmp_path / "week8.jpg"
    baseline.write_bytes(baseline_phantom.jpeg)
    followup.write_bytes(followup_phantom.jpeg)
    return baseline, followup


def test_command_prints_one_json_object_with_the_documented_keys(
    capsys, photo_files, baseline_phantom
):
    code, out, err = run_cli(
        capsys,
        photo_files[0],
        "--roi",
        as_points(baseline_phantom.roi),
        "--reference",
        as_points(baseline_phantom.reference),
    )
    assert (code, err) == (0, "")
    assert out.count("\n") == 1  # one line, one object
    result = json.loads(out)
    assert set(result) == ANALYSIS_KEYS
    assert result["calibrated"] is True
    assert {"method", "heldout_delta_e2000", "chart_corners"} <= set(result["calibration"])
    assert set(result["roi"]) == set(result["reference"]) == REGION_KEYS
    assert set(result["difference"]) == {"a_star", "erythema_index", "melanin_index"}
    assert {"pit_count", "pit_area_mm2"} <= set(result["exploratory"])
    assert result["px_per_mm"] == pytest.approx(baseline_phantom.px_per_mm, rel=0.03)
    assert result["difference"]["a_star"] == pytest.approx(
        a_star_difference(baseline_phantom), abs=0.75
    )


def test_command_with_a_baseline_aligns_first_and_reports_the_alignment(
    capsys, photo_files, baseline_phantom, followup_phantom
):
    baseline, followup = photo_files
    code, out, err = run_cli(
        capsys,
        followup,
        "--baseline",
        baseline,
        "--roi",
        as_points(baseline_phantom.roi),
        "--reference",
        as_points(baseline_phantom.reference),
    )
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert set(result) == ANALYSIS_KEYS | {"alignment"}
    assert result["alignment"]["quality"] >= 0.6
    assert np.asarray(result["alignment"]["homography"]).shape == (3, 3)
    assert result["difference"]["a_star"] == pytest.approx(
        a_star_difference(followup_phantom), abs=1.0
    )


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("not_an_image", "not an image"),
        ("missing_file", "cannot read"),
        ("two_point_roi", "roi region needs at least 3"),
        ("bad_point", "--reference"),
        ("no_roi", "--roi"),
    ],
)
def test_command_refuses_bad_input_with_one_line_and_a_failing_status(
    case, says, capsys, tmp_path, photo_files, baseline_phantom
):
    photo = photo_files[0]
    roi, reference = as_points(baseline_phantom.roi), as_points(baseline_phantom.reference)
    if case == "not_an_image":
        photo = tmp_path / "notes.jpg"
        photo.write_text("not a photo\n")
    elif case == "missing_file":
        photo = tmp_path / "nowhere.jpg"
    elif case == "two_point_roi":
        roi = "500,400 560,420"
    elif case == "bad_point":
        reference = "10,10 20;20 x,y"
    args = [photo, "--reference", reference] + ([] if case == "no_roi" else ["--roi", roi])

    code, out, err = run_cli(capsys, *args)
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("scarrx photo: error:")
    assert says in err
    assert "Traceback" not in err


def test_the_command_touches_no_database(capsys, photo_files, baseline_phantom, db):
    run_cli(
        capsys,
        photo_files[0],
        "--roi",
        as_points(baseline_phantom.roi),
        "--reference",
        as_points(baseline_phantom.reference),
    )
    assert not Photo.objects.exists() and not Measurement.objects.exists()
