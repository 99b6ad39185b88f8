"""The phantoms themselves: deterministic, and true to what they claim."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scarrx.imaging.colorimetry import REFERENCE_LAB, delta_e2000, linear_srgb_to_lab
from scarrx.imaging.phantom import WARM_CAST, Camera, SceneSpec, make_scene, photograph


@pytest.fixture(scope="module")
def scene():
    return make_scene(SceneSpec(seed=21))


def test_same_seed_gives_the_same_photo(scene):
    again = make_scene(SceneSpec(seed=21))
    assert np.array_equal(scene.linear, again.linear)
    assert photograph(scene, WARM_CAST).jpeg == photograph(again, WARM_CAST).jpeg


def test_scar_redness_changes_nothing_but_the_scar(scene):
    redder = make_scene(replace(scene.spec, scar_delta_a=scene.spec.scar_delta_a + 5))
    changed = np.any(redder.linear != scene.linear, axis=2)
    ys, xs = np.nonzero(changed)
    (cx, cy), (ax, ay) = scene.spec.scar_centre_mm, scene.spec.scar_axes_mm
    ppm = scene.spec.px_per_mm
    inside = ((xs + 0.5) / ppm - cx) ** 2 / ax**2 + ((ys + 0.5) / ppm - cy) ** 2 / ay**2
    assert changed.any() and inside.max() <= 1.05**2 + 1e-6


def test_skin_is_the_colour_it_was_asked_to_be(scene):
    measured = scene.true_lab(scene.spec.reference_mm)
    assert delta_e2000(measured, np.array(scene.spec.skin_lab)) < 1.5


def test_scar_is_redder_by_the_amount_asked(scene):
    scar = scene.true_lab(scene.roi_mm)
    skin = scene.true_lab(scene.spec.reference_mm)
    # Pits darken part of the scar, which moves a* a little; the truth is the render.
    assert scar[1] - skin[1] == pytest.approx(scene.spec.scar_delta_a, abs=1.5)


def test_rendered_chart_patches_have_their_reference_colours(scene):
    spec = scene.spec
    centres = spec.chart.patch_centres_mm() + spec.chart_origin_mm
    half = spec.chart.patch_mm / 4
    labs = []
    for x, y in centres:
        square = (
            (x - half, y - half),
            (x + half, y - half),
            (x + half, y + half),
            (x - half, y + half),
        )
        labs.append(linear_srgb_to_lab(scene.true_linear(square)))
    assert np.max(delta_e2000(np.array(labs), REFERENCE_LAB)) < 0.01


def test_camera_pose_gives_known_px_per_mm():
    photo = photograph(make_scene(SceneSpec(seed=3)), Camera(scale=0.8, rotation_deg=30))
    assert photo.px_per_mm == pytest.approx(6.5 * 0.8)
    a, b = photo.to_image([(10.0, 10.0), (20.0, 10.0)])
    assert np.hypot(b[0] - a[0], b[1] - a[1]) == pytest.approx(10 * photo.px_per_mm)
