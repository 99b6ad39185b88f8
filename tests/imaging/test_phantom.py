"""The phantoms themselves: deterministic, and true to what they claim."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from scarrx.imaging.colorimetry import (
    REFERENCE_LAB,
    delta_e2000,
    linear_srgb_to_lab,
    srgb_decode,
    srgb_encode,
)
from scarrx.imaging.phantom import (
    SENSOR_CROSSTALK,
    WARM_CAST,
    Camera,
    Scene,
    SceneSpec,
    make_scene,
    photograph,
)


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


# --- what real cameras add (issue 8) ------------------------------------------------


def flat_photo(linear_rgb, **camera) -> np.ndarray:
    """A uniform scene photographed with `camera` options; the decoded linear image."""
    spec = SceneSpec(size_mm=(40.0, 30.0), px_per_mm=2.0, chart_origin_mm=None)
    scene = Scene(spec, np.full((60, 80, 3), linear_rgb, dtype=np.float32), ())
    options = {"width": 80, "height": 60, "noise": 0.0, "jpeg_quality": 100} | camera
    jpeg = photograph(scene, Camera(**options)).jpeg
    return srgb_decode(np.asarray(Image.open(io.BytesIO(jpeg)), dtype=np.float64) / 255)


def window(image: np.ndarray, x: int, y: int) -> np.ndarray:
    return image[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].reshape(-1, 3).mean(axis=0)


def test_vignetting_darkens_the_corners_by_the_amount_asked():
    image = flat_photo((0.3, 0.3, 0.3), vignetting=0.3)
    corner, centre = window(image, 0, 0), window(image, 40, 30)
    assert corner[1] / centre[1] == pytest.approx(0.7, abs=0.03)


def test_light_gradient_and_shadow_fall_where_asked():
    image = flat_photo((0.3, 0.3, 0.3), light_gradient=(0.2, 0.0))
    assert window(image, 79, 30)[1] / window(image, 0, 30)[1] == pytest.approx(
        np.exp(0.4), rel=0.03
    )
    left_half = ((0.0, 0.0), (20.0, 0.0), (20.0, 30.0), (0.0, 30.0))
    shaded = flat_photo((0.3, 0.3, 0.3), shadow_mm=left_half, shadow_light=0.45)
    assert window(shaded, 10, 30)[1] / window(shaded, 70, 30)[1] == pytest.approx(0.45, abs=0.03)


def test_phone_tone_curve_is_an_s_curve_fixed_at_mid_grey():
    def encoded(level: float, contrast: float) -> float:
        linear = float(srgb_decode(np.array(level)))
        return float(srgb_encode(flat_photo((linear,) * 3, tone_contrast=contrast)[30, 40, 1]))

    assert encoded(0.5, 0.6) == pytest.approx(0.5, abs=0.01)
    assert encoded(0.25, 0.6) < encoded(0.25, 0.0) - 0.03  # shadows pressed down
    assert encoded(0.75, 0.6) > encoded(0.75, 0.0) + 0.03  # highlights lifted


def test_saturation_boost_scales_chroma_around_luma():
    colour = tuple(float(v) for v in srgb_decode(np.array([0.6, 0.45, 0.35])))
    plain = srgb_encode(flat_photo(colour)[30, 40])
    boosted = srgb_encode(flat_photo(colour, saturation=1.3)[30, 40])
    luma = np.array([0.2126, 0.7152, 0.0722])
    assert boosted @ luma == pytest.approx(plain @ luma, abs=0.01)
    assert boosted - boosted @ luma == pytest.approx(1.3 * (plain - plain @ luma), abs=0.015)


def test_sensor_cross_talk_mixes_the_channels():
    red = flat_photo((0.4, 0.0, 0.0), crosstalk=SENSOR_CROSSTALK)[30, 40]
    assert red[1] > 0.05 and red[2] > 0.01  # a pure red scene reaches green and blue


def test_realistic_cases_put_their_charts_in_the_frame(realistic_photos):
    for name, photo in realistic_photos.items():
        corners, camera = photo.chart_corners, photo.camera
        assert corners is not None, name
        assert np.all(corners >= 0) and np.all(corners < [camera.width, camera.height]), name
    far = realistic_photos["phone, Mini far away (150 px)"].chart_corners
    assert max(np.ptp(far, axis=0)) == pytest.approx(150, abs=8)  # "small": about 150 px
