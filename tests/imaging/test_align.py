"""Registering a follow-up to its baseline (clinical.md §8): accuracy and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from scarrx.imaging.align import MIN_QUALITY, align
from scarrx.imaging.chart import find_chart
from scarrx.imaging.decode import decode, decode_reduced
from scarrx.imaging.errors import ImagingError
from scarrx.imaging.phantom import Camera, SceneSpec, make_scene, photograph


def true_mapping(baseline, follow_up) -> np.ndarray:
    """Baseline pixels -> follow-up pixels, from the cameras' known poses."""
    return follow_up.homography @ np.linalg.inv(baseline.homography)


def map_with(h: np.ndarray, points) -> np.ndarray:
    pts = np.column_stack([np.asarray(points, dtype=float), np.ones(len(points))]) @ h.T
    return pts[:, :2] / pts[:, 2:]


def test_follow_up_alignment_recovers_the_known_homography(baseline_and_follow_up):
    baseline, follow_up = baseline_and_follow_up
    b, f = decode(baseline.jpeg), decode(follow_up.jpeg)
    result = align(
        b,
        f,
        regions=[baseline.roi, baseline.reference],
        exclude_baseline=[find_chart(b).corners],
        exclude_followup=[find_chart(f).corners],
    )
    points = np.array(baseline.roi + baseline.reference)
    expected = map_with(true_mapping(baseline, follow_up), points)
    # Within 2 px at the far corners of the regions (a 1000 px photo): the phantom's chart
    # is now the real Mini's size, and the masked chart hides more of the skin detail.
    assert np.abs(result.map_points(points) - expected).max() < 2.0
    assert MIN_QUALITY <= result.quality <= 1.0
    assert result.inliers >= 15


def test_alignment_on_draft_decoded_copies_maps_full_resolution_pixels():
    scene = make_scene(SceneSpec(seed=8, px_per_mm=14.0))
    baseline = photograph(scene, Camera(width=2000, height=1500, seed=1))
    follow_up = photograph(
        scene,
        Camera(
            width=2000, height=1500, rotation_deg=5.0, scale=1.05, shift_px=(40.0, 30.0), seed=2
        ),
    )
    b, f = decode_reduced(baseline.jpeg), decode_reduced(follow_up.jpeg)
    assert b.is_reduced and f.is_reduced
    result = align(b, f, regions=[baseline.roi, baseline.reference])
    points = np.array(baseline.roi)
    expected = map_with(true_mapping(baseline, follow_up), points)
    assert np.abs(result.map_points(points) - expected).max() < 3.0  # ~1.5 reduced pixels


def test_unrelated_photos_are_refused(warm_photo, unrelated_photo):
    with pytest.raises(ImagingError, match="does not (match|line up with) the baseline"):
        align(
            decode(warm_photo.jpeg),
            decode(unrelated_photo.jpeg),
            regions=[warm_photo.roi, warm_photo.reference],
        )


def test_unrelated_photos_are_refused_even_when_their_charts_match(warm_photo, unrelated_photo):
    # Both charts sit in the same place; without masking them, features match on the
    # chart. The quality is judged on skin detail in the regions, so it is still refused.
    b, o = decode(warm_photo.jpeg), decode(unrelated_photo.jpeg)
    with pytest.raises(ImagingError, match="does not (match|line up with) the baseline"):
        align(b, o, regions=[warm_photo.roi, warm_photo.reference])


def test_refusal_threshold_can_be_lowered_to_see_the_score(baseline_and_follow_up):
    baseline, follow_up = baseline_and_follow_up
    result = align(
        decode(baseline.jpeg), decode(follow_up.jpeg), regions=[baseline.roi], min_quality=0.0
    )
    assert 0.0 <= result.quality <= 1.0
    as_json = result.as_dict()
    assert set(as_json) == {"quality", "homography"}
    assert np.array(as_json["homography"]).shape == (3, 3)


def test_blank_photo_cannot_be_aligned(warm_photo):
    blank = photograph(
        make_scene(
            SceneSpec(
                seed=9,
                texture=0.0,
                mottling=0.0,
                pores_per_mm2=0,
                pit_count=0,
                chart_origin_mm=None,
            )
        ),
        Camera(noise=0.0),
    )
    with pytest.raises(ImagingError):
        align(decode(warm_photo.jpeg), decode(blank.jpeg), regions=[warm_photo.roi])
