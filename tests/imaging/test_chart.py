"""Finding the ColorChecker: detection on a reduced copy, corners given by hand, scale."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scarrx.imaging import analyze
from scarrx.imaging.chart import (
    DEFAULT_CHART,
    MAX_ASSIGNMENT_RESIDUAL,
    chart_from_corners,
    find_chart,
    sample_patches,
)
from scarrx.imaging.colorimetry import REFERENCE_LINEAR_SRGB
from scarrx.imaging.decode import decode, decode_reduced
from scarrx.imaging.errors import ImagingError
from scarrx.imaging.lattice import assignment_residual
from scarrx.imaging.phantom import SENSOR_CROSSTALK, Camera, SceneSpec, make_scene, photograph

SENSOR_CROSSTALK_T = np.array(SENSOR_CROSSTALK).T


@pytest.fixture(scope="module")
def scene():
    return make_scene(SceneSpec(seed=5))


def test_chart_is_found_under_a_strong_cast(warm_photo):
    location = find_chart(decode(warm_photo.jpeg))
    assert location is not None
    assert np.abs(location.corners - warm_photo.chart_corners).max() < 1.5


@pytest.mark.parametrize("rotation", [-35.0, 90.0, 180.0, -100.0])
def test_chart_is_found_whichever_way_up_it_is(scene, rotation):
    photo = photograph(scene, Camera(rotation_deg=rotation, scale=0.68, seed=2))
    location = find_chart(decode(photo.jpeg))
    assert location is not None
    # Canonical order: the first corner is always beside "dark skin", whatever the turn.
    assert np.abs(location.corners - photo.chart_corners).max() < 1.5


@pytest.mark.parametrize("tilt", [(0.2, 0.1), (-0.25, 0.25)])
def test_chart_is_found_in_a_keystoned_photo(scene, tilt):
    photo = photograph(scene, Camera(rotation_deg=10.0, scale=0.85, tilt=tilt, seed=6))
    location = find_chart(decode(photo.jpeg))
    assert location is not None
    assert np.abs(location.corners - photo.chart_corners).max() < 2.0


def test_small_chart_far_from_the_camera_is_still_found():
    spec = SceneSpec(seed=5, size_mm=(300.0, 225.0), px_per_mm=4.0, chart_origin_mm=(100.0, 80.0))
    photo = photograph(make_scene(spec), Camera(scale=0.4, seed=7))  # chart ~130 px wide
    location = find_chart(decode(photo.jpeg))
    assert location is not None
    assert np.abs(location.corners - photo.chart_corners).max() < 1.5


def test_scale_in_px_per_mm_is_within_three_percent(cool_photo):
    location = find_chart(decode(cool_photo.jpeg))
    assert location.px_per_mm == pytest.approx(cool_photo.px_per_mm, rel=0.03)


def test_chart_is_found_on_a_draft_decoded_copy_of_a_large_photo():
    spec = SceneSpec(seed=6, px_per_mm=14.0)
    photo = photograph(make_scene(spec), Camera(width=2200, height=1650, scale=1.0, seed=3))
    small = decode_reduced(photo.jpeg)
    assert small.is_reduced
    location = find_chart(small)
    assert location is not None
    # Corners come back in full-resolution pixels, within a reduced pixel or so.
    assert np.abs(location.corners - photo.chart_corners).max() < 3.0
    assert location.px_per_mm == pytest.approx(photo.px_per_mm, rel=0.01)


def test_photo_without_a_chart_finds_none():
    photo = photograph(make_scene(SceneSpec(seed=7, chart_origin_mm=None)), Camera(seed=1))
    assert find_chart(decode(photo.jpeg)) is None


def test_corners_clicked_in_any_order_give_the_canonical_chart(cool_photo):
    image = decode(cool_photo.jpeg)
    truth = cool_photo.chart_corners
    clicked = truth[[2, 0, 3, 1]] + np.array([[1.0, -1.0], [-1.0, 0.5], [0.5, 1.0], [0, -1]])
    location = chart_from_corners(image, clicked.tolist())
    assert location.source == "given"
    assert np.abs(location.corners - truth).max() < 1.6


def test_patches_are_sampled_inside_their_centres(warm_photo):
    image = decode(warm_photo.jpeg)
    samples = sample_patches(image.rgb, find_chart(image))
    assert samples.linear_rgb.shape == (24, 3)
    assert not samples.unusable.any()
    # The neutral ramp reads darker from white to black whatever the cast.
    neutrals = samples.linear_rgb[18:, 1]
    assert np.all(np.diff(neutrals) < 0)


def test_over_exposed_patches_are_marked_unusable(scene):
    photo = photograph(scene, Camera(exposure=1.6, seed=5))
    image = decode(photo.jpeg)
    samples = sample_patches(image.rgb, find_chart(image))
    assert samples.unusable[18]  # white clips first
    assert not samples.unusable[23]


@pytest.mark.parametrize(
    ("corners", "message"),
    [
        ([[10, 10], [20, 10], [20, 20]], "exactly four"),
        ([[10, 10], [20, 10], [20, 20], [5000, 20]], "outside"),
        ([[10, 10], [20, 10], [30, 10], [40, 10]], "enclose"),
    ],
)
def test_bad_corners_are_refused(warm_photo, corners, message):
    with pytest.raises(ImagingError, match=message):
        chart_from_corners(decode(warm_photo.jpeg), corners)


def test_default_chart_geometry_is_six_by_four_pitches():
    chart = DEFAULT_CHART
    assert chart.width_mm == pytest.approx(5 * chart.pitch_mm + chart.patch_mm)
    assert chart.height_mm == pytest.approx(3 * chart.pitch_mm + chart.patch_mm)
    assert replace(chart, pitch_mm=20.0).patch_centres_mm()[23].tolist() == pytest.approx(
        [100 + chart.patch_mm / 2, 60 + chart.patch_mm / 2]
    )


# --- small charts and the patch order (issue 8, part 3) --------------------------------


def far_photo(realistic_photos, side_px: float, width: int = 1000):
    """The Mini far from the camera, its long side `side_px` in a `width`-wide photo."""
    photo = realistic_photos["phone, Mini far away (150 px)"]
    camera = replace(photo.camera, scale=photo.camera.scale * side_px / 150, width=width,
                     height=width * 3 // 4)  # fmt: skip
    return photograph(photo.scene, camera)


@pytest.mark.parametrize(("side", "width"), [(150, 1000), (110, 1000), (150, 2400)])
def test_chart_far_from_the_camera_is_found_down_to_about_110_px(realistic_photos, side, width):
    photo = far_photo(realistic_photos, side, width)
    location = find_chart(decode(photo.jpeg))
    assert location is not None
    assert np.abs(location.corners - photo.chart_corners).max() < 1.5
    assert location.px_per_mm == pytest.approx(photo.px_per_mm, rel=0.02)


def test_chart_too_small_to_measure_says_how_much_closer_to_hold_it(realistic_photos):
    photo = far_photo(realistic_photos, 80)
    result = analyze(photo.jpeg, photo.roi, photo.reference)
    assert not result["calibrated"] and result["px_per_mm"] is None
    assert "too small" in result["reason"] and "about 80 pixels across" in result["reason"]
    assert "1.9 times closer" in result["reason"]


ORIENTATIONS = {
    "turned 180°": lambda grid: grid[::-1, ::-1],
    "mirrored left-right": lambda grid: grid[:, ::-1],
    "mirrored top-bottom": lambda grid: grid[::-1, :],
}


@pytest.mark.parametrize("gamma", [0.45, 1.0, 1.6, 2.2])
@pytest.mark.parametrize("gains", [(1.0, 1.0, 1.0), (0.55, 1.0, 0.7), (1.4, 1.0, 0.6)])
def test_true_patch_order_scores_far_below_any_other(gamma, gains):
    # A camera with cross-talk, a cast and a tone curve anywhere from a linear sensor's
    # to an sRGB-encoded one read as linear.
    camera = (REFERENCE_LINEAR_SRGB @ SENSOR_CROSSTALK_T * np.array(gains)) ** gamma
    assert assignment_residual(camera) < 0.2
    grid = camera.reshape(4, 6, 3)
    for name, turn in ORIENTATIONS.items():
        assert assignment_residual(turn(grid).reshape(24, 3)) > 1.0, name
    assert MAX_ASSIGNMENT_RESIDUAL < 1.0
