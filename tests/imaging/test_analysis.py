"""The `scarrx photo analyze` contract: one photo in, one JSON object out."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scarrx.imaging import ALGORITHM_VERSION, analyze, calibration_only
from scarrx.imaging.cli import main
from scarrx.imaging.errors import ImagingError
from scarrx.imaging.phantom import Camera, SceneSpec, make_scene, photograph


def as_arg(points) -> str:
    return " ".join(f"{x:.2f},{y:.2f}" for x, y in points)


def true_a_star_difference(photo) -> float:
    scene = photo.scene
    return float(scene.true_lab(scene.roi_mm)[1] - scene.true_lab(scene.spec.reference_mm)[1])


def test_analysis_has_the_documented_shape(warm_photo):
    result = analyze(warm_photo.jpeg, warm_photo.roi, warm_photo.reference)
    assert result["calibrated"] is True
    assert list(result) == [
        "calibrated",
        "calibration",
        "px_per_mm",
        "roi",
        "reference",
        "difference",
        "exploratory",
        "algorithm_version",
    ]
    assert result["algorithm_version"] == ALGORITHM_VERSION
    assert result["calibration"]["method"] == "neutral_ramp+matrix3x3"
    assert len(result["calibration"]["chart_corners"]) == 4
    for region in ("roi", "reference"):
        assert set(result[region]) == {
            "lab",
            "erythema_index",
            "melanin_index",
            "ita_deg",
            "ita_band",
        }
    assert set(result["difference"]) == {"a_star", "erythema_index", "melanin_index"}
    assert {"pit_count", "pit_area_mm2"} <= set(result["exploratory"])
    json.dumps(result, allow_nan=False)  # JSON-able, no NaN


def test_measured_redness_matches_the_phantom(warm_photo):
    result = analyze(warm_photo.jpeg, warm_photo.roi, warm_photo.reference)
    assert result["difference"]["a_star"] == pytest.approx(
        true_a_star_difference(warm_photo), abs=0.5
    )
    assert result["px_per_mm"] == pytest.approx(warm_photo.px_per_mm, rel=0.03)
    assert result["exploratory"]["pit_count"] == len(warm_photo.scene.pits)


def test_true_change_of_five_units_in_a_star_is_reported_within_one(baseline_and_follow_up):
    baseline, follow_up = baseline_and_follow_up
    before = analyze(baseline.jpeg, baseline.roi, baseline.reference)
    after = analyze(follow_up.jpeg, baseline.roi, baseline.reference, baseline=baseline.jpeg)

    true_change = true_a_star_difference(follow_up) - true_a_star_difference(baseline)
    assert true_change == pytest.approx(-5.0, abs=0.25)  # the phantom says what we think
    measured = after["difference"]["a_star"] - before["difference"]["a_star"]
    assert measured == pytest.approx(true_change, abs=1.0)
    assert after["alignment"]["quality"] >= 0.6
    assert before["calibration"]["uncorrected_delta_e2000"] >= 5.0
    assert after["calibration"]["uncorrected_delta_e2000"] >= 5.0


def test_photo_without_chart_is_uncalibrated_and_has_no_colour_metrics():
    photo = photograph(make_scene(SceneSpec(seed=12, chart_origin_mm=None)), Camera(seed=3))
    result = analyze(photo.jpeg, photo.roi, photo.reference)
    assert result["calibrated"] is False
    assert "no colour chart" in result["reason"]
    assert not {"roi", "reference", "difference", "exploratory"} & set(result)
    assert result["px_per_mm"] is None


def test_given_corners_skip_detection(cool_photo):
    corners = cool_photo.chart_corners[[1, 3, 0, 2]]
    result = analyze(cool_photo.jpeg, cool_photo.roi, cool_photo.reference, corners=corners)
    assert result["calibrated"] and result["calibration"]["chart_source"] == "given"
    assert (
        np.abs(np.array(result["calibration"]["chart_corners"]) - cool_photo.chart_corners).max()
        < 1.0
    )


def test_wrong_corners_leave_the_photo_uncalibrated_with_the_reason(cool_photo):
    wrong = [(600, 420), (900, 420), (900, 700), (600, 700)]  # a patch of skin
    result = analyze(cool_photo.jpeg, cool_photo.roi, cool_photo.reference, corners=wrong)
    assert result["calibrated"] is False
    assert "held-out ΔE2000" in result["reason"]
    assert "roi" not in result


def test_region_outside_the_photo_names_the_region(warm_photo):
    with pytest.raises(ImagingError, match="reference region: point"):
        analyze(warm_photo.jpeg, warm_photo.roi, [(10, 10), (2000, 10), (10, 40)])


def test_regions_drawn_on_the_baseline_are_checked_against_it(warm_photo):
    with pytest.raises(ImagingError, match="roi region on the baseline needs at least 3"):
        analyze(warm_photo.jpeg, [(1, 1), (2, 2)], warm_photo.reference, baseline=warm_photo.jpeg)


def test_cli_prints_one_json_object(tmp_path, capsys, warm_photo):
    path = tmp_path / "cheek.jpg"
    path.write_bytes(warm_photo.jpeg)
    status = main(
        [
            "analyze",
            str(path),
            "--roi",
            as_arg(warm_photo.roi),
            "--reference",
            as_arg(warm_photo.reference),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert json.loads(out)["calibrated"] is True
    assert out.count("\n") == 1


def test_cli_aligns_to_a_baseline(tmp_path, capsys, baseline_and_follow_up):
    baseline, follow_up = baseline_and_follow_up
    (tmp_path / "b.jpg").write_bytes(baseline.jpeg)
    (tmp_path / "f.jpg").write_bytes(follow_up.jpeg)
    status = main(
        [
            "analyze",
            str(tmp_path / "f.jpg"),
            "--roi",
            as_arg(baseline.roi),
            "--reference",
            as_arg(baseline.reference),
            "--baseline",
            str(tmp_path / "b.jpg"),
        ]
    )
    assert status == 0
    assert json.loads(capsys.readouterr().out)["alignment"]["quality"] >= 0.6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "{photo}", "--roi", "1,1 5,5", "--reference", "{ref}"], "roi region needs"),
        (["analyze", "{photo}", "--roi", "1,1 5;5 6", "--reference", "{ref}"], "--roi: expected"),
        (["analyze", "{photo}", "--roi", "{ref}"], "required: --reference"),
        (["analyze", "{missing}", "--roi", "{ref}", "--reference", "{ref}"], "cannot read"),
        (["analyze", "{notes}", "--roi", "{ref}", "--reference", "{ref}"], "not an image"),
        (
            ["analyze", "{photo}", "--roi", "{ref}", "--reference", "{ref}", "--corners", "1,1"],
            "exactly four",
        ),
        (
            [
                "analyze",
                "{photo}",
                "--roi",
                "{ref}",
                "--reference",
                "{ref}",
                "--baseline",
                "{other}",
            ],
            "does not (match|line up with) the baseline",
        ),
        (["compare", "{photo}"], "invalid choice"),
    ],
)
def test_cli_bad_input_exits_non_zero_with_one_line(
    tmp_path, capsys, warm_photo, unrelated_photo, args, message
):
    (tmp_path / "p.jpg").write_bytes(warm_photo.jpeg)
    (tmp_path / "o.jpg").write_bytes(unrelated_photo.jpeg)
    (tmp_path / "notes.txt").write_text("not a photo")
    paths = {
        "photo": tmp_path / "p.jpg",
        "other": tmp_path / "o.jpg",
        "missing": tmp_path / "nope.jpg",
        "notes": tmp_path / "notes.txt",
        "ref": as_arg(warm_photo.reference),
    }
    status = main([a.format(**paths) for a in args])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert __import__("re").search(message, captured.err)


def test_region_carried_off_the_edge_of_the_follow_up_is_refused_naming_it():
    scene = make_scene(SceneSpec(seed=13))
    baseline = photograph(scene, Camera(seed=1))
    follow_up = photograph(scene, Camera(shift_px=(160.0, 0.0), seed=2))
    near_right_edge = [(900, 520), (985, 520), (985, 600), (900, 600)]
    with pytest.raises(ImagingError, match="roi region carried over to the follow-up: point"):
        analyze(follow_up.jpeg, near_right_edge, baseline.reference, baseline=baseline.jpeg)


def test_calibration_only_reports_chart_and_scale_without_regions(cool_photo):
    result = calibration_only(cool_photo.jpeg)
    assert result["calibrated"] is True
    assert result["px_per_mm"] == pytest.approx(cool_photo.px_per_mm, rel=0.03)
    assert not {"roi", "reference", "difference", "exploratory"} & set(result)
    # The stored corners, passed back, give the same calibration without a search.
    again = calibration_only(cool_photo.jpeg, corners=result["calibration"]["chart_corners"])
    assert again["calibration"]["heldout_delta_e2000"] == pytest.approx(
        result["calibration"]["heldout_delta_e2000"], abs=0.05
    )
