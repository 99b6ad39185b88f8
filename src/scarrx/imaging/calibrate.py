"""Colour correction from the chart, and how far to trust it (clinical.md §8).

The model maps camera linear RGB (8-bit sRGB decoded to linear) onto the chart's
reference linear sRGB (D65). clinical.md §8 asks for a low-order correction in linear RGB
(3×3, or root-polynomial degree 1–2), because higher orders over-fit 24 patches, and for
the **held-out** ΔE2000 (leave-one-out over patches) as the quality, never the in-sample
fit. Three methods are offered:

- "matrix3x3": least-squares 3×3 matrix (9 parameters).
- "neutral_gamma+matrix3x3" (the default): first a per-channel power law fitted on the
  chart's six neutral patches, then the 3×3 matrix (12 parameters). Phones do not encode
  plain sRGB: their tone curves bend the "linear" values we decode, and no matrix can
  undo a per-channel curve. The neutral ramp measures that curve directly (the neutral
  patches are grey whatever the cast), so the fit stays low-order and still linear in
  light: a region's mean is corrected by applying the matrix to the mean of the
  re-linearised pixels, exactly as a spot meter would average.
- "root_polynomial2": Finlayson et al. 2015 root-polynomial degree 2 (colour-science's
  expansion, 6 terms × 3 = 18 parameters), exposure-invariant but unable to undo a tone
  curve either, and with twice the parameters for 23 held-out fits.

Measured on phantoms with a strong cast (mean held-out ΔE2000 over the chart): with a
tone-curve error of gamma 1.15 the default gives 0.58 against 2.68 (matrix3x3) and 2.35
(root_polynomial2); with gamma 0.9, 0.54 against 1.79 and 1.75; with a correct curve all
three lie between 0.40 and 0.51, so the three extra parameters cost almost nothing when
they are not needed. The default is also exact and cheap for a region mean (above).

A photo is *uncalibrated* when the mean held-out ΔE2000 exceeds `HELDOUT_THRESHOLD`, or
when too few patches are usable (clipped by over-exposure, or out of frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .chart import PatchSamples, channel_histograms
from .colorimetry import (
    NEUTRAL_PATCHES,
    REFERENCE_LAB,
    REFERENCE_LINEAR_SRGB,
    SRGB_DECODE_LUT,
    colour,
    delta_e2000,
    linear_srgb_to_lab,
)
from .errors import ImagingError

HELDOUT_THRESHOLD = 5.0  # mean held-out ΔE2000 above which colour metrics are withheld
MIN_PATCHES = 18  # usable (unclipped) patches needed to fit and judge a correction
METHODS = ("neutral_gamma+matrix3x3", "matrix3x3", "root_polynomial2")
DEFAULT_METHOD = METHODS[0]
_GAMMA_RANGE = (0.5, 2.0)
_NEUTRAL_FLOOR = 0.002  # linear; darker neutrals are mostly noise for the log fit


@dataclass(frozen=True)
class Correction:
    """A fitted correction: per-channel exponent, then a matrix on (expanded) RGB."""

    method: str
    gamma: np.ndarray  # (3,) exponent applied to camera linear values; 1 = none
    matrix: np.ndarray  # (3, 3), or (6, 3) for root-polynomial terms

    def apply(self, linear: np.ndarray) -> np.ndarray:
        """Correct camera linear RGB, shape (..., 3), to linear sRGB (D65)."""
        pre = np.clip(np.asarray(linear, dtype=np.float64), 0.0, None) ** self.gamma
        return _expand(pre, self.method) @ self.matrix

    def lut(self) -> np.ndarray:
        """(256, 3): 8-bit code value -> re-linearised value before the matrix."""
        return SRGB_DECODE_LUT[:, None] ** self.gamma[None, :]

    def region_mean(self, crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Corrected linear sRGB of the mean of an 8-bit crop's pixels where mask is set.

        With a matrix after per-channel curves, the mean of the corrected pixels is the
        matrix applied to the mean of each channel's curve, which a 256-bin histogram
        gives exactly; a 12 MP photo's region is measured in about a millisecond.
        """
        lut = self.lut()
        if self.matrix.shape[0] != 3:
            pixels = crop[mask]
            pre = np.stack([lut[pixels[:, c], c] for c in range(3)], axis=1)
            return _expand(pre, self.method).mean(axis=0) @ self.matrix
        counts = channel_histograms(crop, mask)
        return (counts * lut).sum(axis=0) / counts[:, 0].sum() @ self.matrix


@dataclass(frozen=True)
class Calibration:
    """A correction with its quality, and whether it may be used for colour metrics."""

    correction: Correction | None
    heldout_delta_e2000: float | None  # mean over patches, leave-one-out
    heldout_max_delta_e2000: float | None
    fitted_delta_e2000: float | None  # in-sample, for information only
    uncorrected_delta_e2000: float  # camera values read as sRGB, mean over patches
    patches_used: int
    calibrated: bool
    reason: str | None = None

    @property
    def method(self) -> str | None:
        return None if self.correction is None else self.correction.method


def calibrate(
    samples: PatchSamples,
    *,
    method: str = DEFAULT_METHOD,
    threshold: float = HELDOUT_THRESHOLD,
) -> Calibration:
    """Fit the correction to the chart and judge it by held-out ΔE2000 (clinical.md §8)."""
    if method not in METHODS:
        raise ImagingError(f"unknown calibration method {method!r}; choose from {METHODS}")
    camera = samples.linear_rgb
    uncorrected = float(np.mean(delta_e2000(linear_srgb_to_lab(camera), REFERENCE_LAB)))
    used = np.flatnonzero(~samples.unusable)
    if len(used) < MIN_PATCHES:
        too_few = f"only {len(used)} of 24 chart patches are usable (over-exposed or out of frame)"
        return Calibration(None, None, None, None, uncorrected, len(used), False, too_few)
    heldout = leave_one_out_delta_e(camera, used, method)
    correction = fit_correction(camera[used], REFERENCE_LINEAR_SRGB[used], method, used)
    fitted = delta_e2000(linear_srgb_to_lab(correction.apply(camera[used])), REFERENCE_LAB[used])
    mean = float(np.mean(heldout))
    ok = mean <= threshold
    reason = (
        None
        if ok
        else (
            f"chart colour fit is poor (held-out ΔE2000 {mean:.1f} > {threshold:.1f}): "
            "check lighting, glare on the chart and the chart corners"
        )
    )
    return Calibration(
        correction,
        mean,
        float(np.max(heldout)),
        float(np.mean(fitted)),
        uncorrected,
        len(used),
        ok,
        reason,
    )


def fit_correction(
    camera: np.ndarray,
    reference: np.ndarray,
    method: str = DEFAULT_METHOD,
    patch_ids: np.ndarray | None = None,
) -> Correction:
    """Least-squares fit of `method` from camera to reference linear RGB (n, 3).

    `patch_ids` says which chart patch each row is, so the neutral ramp can be found.
    """
    ids = np.arange(len(camera)) if patch_ids is None else np.asarray(patch_ids)
    gamma = np.ones(3)
    if method.startswith("neutral_gamma"):
        gamma = _neutral_gamma(camera, reference, ids)
    pre = np.clip(camera, 0.0, None) ** gamma
    matrix, *_ = np.linalg.lstsq(_expand(pre, method), reference, rcond=None)
    return Correction(method, gamma, matrix)


def leave_one_out_delta_e(camera: np.ndarray, used: np.ndarray, method: str) -> np.ndarray:
    """ΔE2000 of each used patch predicted by a fit to the others."""
    predicted = np.zeros((len(used), 3))
    for k, patch in enumerate(used):
        rest = used[used != patch]
        fit = fit_correction(camera[rest], REFERENCE_LINEAR_SRGB[rest], method, rest)
        predicted[k] = fit.apply(camera[patch])
    return delta_e2000(linear_srgb_to_lab(predicted), REFERENCE_LAB[used])


def _neutral_gamma(camera: np.ndarray, reference: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per-channel exponent g with camera**g proportional to the neutrals' reference.

    Each channel is fitted against the same channel of the reference: the chart's greys
    are slightly tinted (white has b* ≈ 3), and the channel's own reference absorbs that.
    """
    neutral = np.isin(ids, NEUTRAL_PATCHES)
    gamma = np.ones(3)
    for c in range(3):
        seen, truth = camera[neutral, c], reference[neutral, c]
        good = seen > _NEUTRAL_FLOOR
        if good.sum() < 3:
            continue
        # log(camera) = log(k) + log(truth) / g: the slope is the tone curve's exponent.
        slope = np.polyfit(np.log(truth[good]), np.log(seen[good]), 1)[0]
        gamma[c] = np.clip(1.0 / slope, *_GAMMA_RANGE) if slope > 0 else 1.0
    return gamma


def _expand(rgb: np.ndarray, method: str) -> np.ndarray:
    if method == "root_polynomial2":
        return np.asarray(
            colour.characterisation.polynomial_expansion_Finlayson2015(
                rgb, degree=2, root_polynomial_expansion=True
            )
        )
    return rgb
