"""Colour correction from the chart: accuracy under casts, held-out quality, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from scarrx.imaging.calibrate import (
    DEFAULT_METHOD,
    HELDOUT_THRESHOLD,
    METHODS,
    calibrate,
    fit_correction,
    leave_one_out_delta_e,
)
from scarrx.imaging.chart import PatchSamples, find_chart, sample_patches
from scarrx.imaging.colorimetry import (
    REFERENCE_LINEAR_SRGB,
    SRGB_TO_BT2020,
    delta_e2000,
    linear_srgb_to_lab,
    srgb_decode,
)
from scarrx.imaging.correction import fit_with_heldout
from scarrx.imaging.decode import decode
from scarrx.imaging.errors import ImagingError
from scarrx.imaging.metrics import region_colour, region_mask


def chart_samples(photo) -> tuple[np.ndarray, PatchSamples]:
    image = decode(photo.jpeg)
    return image.rgb, sample_patches(image.rgb, find_chart(image))


@pytest.mark.parametrize("photo_name", ["warm_photo", "cool_photo"])
def test_corrected_reference_skin_within_two_delta_e_under_strong_cast(request, photo_name):
    photo = request.getfixturevalue(photo_name)
    rgb, samples = chart_samples(photo)
    calibration = calibrate(samples)
    truth = photo.scene.true_lab(photo.scene.spec.reference_mm)

    assert calibration.uncorrected_delta_e2000 >= 5.0  # the cast is strong
    crop, mask = region_mask(rgb, photo.reference, "reference")
    uncorrected = linear_srgb_to_lab(srgb_decode(crop[mask].mean(axis=0) / 255))
    assert delta_e2000(uncorrected, truth) >= 5.0  # and the skin shows it
    assert calibration.calibrated
    corrected = region_colour(rgb, photo.reference, calibration.correction, "reference")
    assert delta_e2000(corrected.lab, truth) <= 2.0


def test_held_out_error_is_reported_and_is_worse_than_the_in_sample_fit(warm_photo):
    calibration = calibrate(chart_samples(warm_photo)[1])
    assert calibration.heldout_delta_e2000 < 1.5
    assert calibration.heldout_delta_e2000 > calibration.fitted_delta_e2000
    assert calibration.heldout_max_delta_e2000 >= calibration.heldout_delta_e2000


def test_default_method_undoes_a_tone_curve_that_a_plain_matrix_cannot(warm_photo):
    samples = chart_samples(warm_photo)[1]
    used = np.flatnonzero(~samples.unusable)
    by_method = {m: np.mean(leave_one_out_delta_e(samples.linear_rgb, used, m)) for m in METHODS}
    assert by_method["neutral_gamma+matrix3x3"] < 0.6 * by_method["matrix3x3"]
    assert by_method["neutral_gamma+matrix3x3"] < 0.6 * by_method["root_polynomial2"]


def test_linear_camera_with_a_tone_curve_is_recovered():
    # A sensor with wider primaries (every patch positive) and a tone curve of gamma 1.2.
    mixing = SRGB_TO_BT2020 * np.array([[1.2], [1.0], [0.7]])
    camera = (REFERENCE_LINEAR_SRGB @ mixing.T) ** (1 / 1.2)
    correction = fit_correction(camera, REFERENCE_LINEAR_SRGB, "neutral_gamma+matrix3x3")
    # The chart's greys are not perfectly neutral, so the curve is found to about 1 %.
    assert correction.gamma == pytest.approx([1.2, 1.2, 1.2], rel=0.01)
    assert correction.apply(camera) == pytest.approx(REFERENCE_LINEAR_SRGB, abs=0.005)
    # The default's ramp follows the greys' own slight tint a little, and stays as exact.
    for method in ("neutral_gamma+matrix3x3", DEFAULT_METHOD):
        assert leave_one_out_delta_e(camera, np.arange(24), method).mean() < 0.1


@pytest.mark.parametrize("method", ["neutral_ramp+matrix3x3", "neutral_ramp+root_polynomial2"])
def test_held_out_patch_is_predicted_by_a_fit_that_never_saw_it(warm_photo, method):
    # Exact leave-one-out: curve, matrix, light gradient and the ΔE2000 reweighting are
    # all refitted without the patch, as a separate fit to the other patches would be.
    camera = chart_samples(warm_photo)[1].linear_rgb
    used = np.arange(24)
    fit = fit_with_heldout(camera, used, method, REFERENCE_LINEAR_SRGB)
    for k in (0, 1, 9, 16):  # not a neutral: a lone fit would move the curve's knots
        others = used[used != k]
        alone = fit_correction(camera[others], REFERENCE_LINEAR_SRGB[others], method, others)
        assert alone.apply(camera[[k]], [k])[0] == pytest.approx(fit.heldout[k], abs=1e-6)


def test_photo_is_uncalibrated_when_held_out_error_exceeds_threshold():
    rng = np.random.default_rng(3)
    scrambled = REFERENCE_LINEAR_SRGB[rng.permutation(24)]  # colours on the wrong patches
    calibration = calibrate(PatchSamples(scrambled, np.zeros(24, dtype=bool)))
    assert not calibration.calibrated
    assert calibration.heldout_delta_e2000 > HELDOUT_THRESHOLD
    assert "held-out ΔE2000" in calibration.reason


def test_threshold_is_a_setting(warm_photo):
    samples = chart_samples(warm_photo)[1]
    assert calibrate(samples).calibrated
    assert not calibrate(samples, threshold=0.05).calibrated


def test_too_few_usable_patches_means_uncalibrated():
    unusable = np.zeros(24, dtype=bool)
    unusable[:8] = True
    calibration = calibrate(PatchSamples(REFERENCE_LINEAR_SRGB.copy(), unusable))
    assert not calibration.calibrated and calibration.correction is None
    assert "16 of 24" in calibration.reason


def test_unknown_method_is_refused():
    with pytest.raises(ImagingError, match="unknown calibration method"):
        calibrate(PatchSamples(REFERENCE_LINEAR_SRGB, np.zeros(24, bool)), method="cubic")


@pytest.mark.parametrize("method", METHODS)
def test_region_mean_equals_the_mean_of_corrected_pixels(warm_photo, method):
    rgb, samples = chart_samples(warm_photo)
    correction = calibrate(samples, method=method).correction
    crop, mask = region_mask(rgb, warm_photo.roi, "roi")
    per_pixel = correction.apply(srgb_decode(crop[mask] / 255.0)).mean(axis=0)
    assert correction.region_mean(crop, mask) == pytest.approx(per_pixel, rel=1e-9)
