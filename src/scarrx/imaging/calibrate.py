"""Colour correction from the chart, and how far to trust it (clinical.md §8).

The model maps camera linear RGB (8-bit sRGB decoded to linear) onto the chart's
reference linear sRGB (D65). clinical.md §8 asks for a low-order correction in linear RGB
(3×3, or root-polynomial degree 1-2), because higher orders over-fit 24 patches, and for
the **held-out** ΔE2000 (leave-one-out over patches) as the quality, never the in-sample
fit. Every choice below was judged that way, on phantoms and on 23 real photos
(`benchmarks/real_photos.py`).

Methods:

- "matrix3x3": least-squares 3×3 matrix (9 parameters).
- "neutral_gamma+matrix3x3": first a per-channel power law fitted on the chart's six
  neutral patches, then the 3×3 matrix (12 parameters). Phones do not encode plain
  sRGB; the neutral ramp measures their tone curve directly, so the fit stays low-order.
- "neutral_gamma+root_polynomial2": the same curve, then Finlayson, Mackiewicz &
  Hurlbert's root-polynomial expansion of degree 2 (R, G, B, √RG, √GB, √RB; "Color
  correction using root-polynomial regression", IEEE TIP 24 (2015) 1460-1470): exposure
  invariant like the matrix, able to bend where a matrix cannot (18 parameters).
- "root_polynomial2": the expansion without the curve.
- "auto" (the default): the two neutral-curve methods are both fitted and the one with
  the lower skin-first held-out score (below) is kept.

All of them share three refinements, each kept because it lowered held-out error on
the real photos (medians over 23 photos, skin = "dark skin" and "light skin"):

- The fit is weighted towards what matters for skin: each patch by 1/√Y (ΔE is a
  relative measure; a plain least squares favours the bright patches), and the patches
  whose chroma lies near the two skin patches' (within about 15 a*b* units) three times
  more. Skin median 2.87 -> 2.58 unweighted-to-weighted with the curve alone.
- Light falling unevenly across the chart: the illumination is modelled as
  exp(a·x + b·y) over the chart (x, y in -1..1 from its centre) and fitted jointly with
  the correction by Gauss-Newton; the neutral curve is fitted on the neutrals divided by
  that field. Regions are corrected as if lit like the chart's centre. Skin median
  2.58 -> 2.18, all patches 4.35 -> 3.98.
- Patches that cannot be trusted are left out and the fit is repeated: clipped ones
  (chart.sample_patches), ones whose four quarters differ in brightness (a shadow's
  edge crosses them), and ones whose held-out prediction is much brighter than the patch
  (the patch is in shadow).

Quality and acceptance are skin-first: the held-out ΔE2000 is reported over all usable
patches and over the skin patches separately; a photo is *uncalibrated* when the skin
patches' held-out mean exceeds `SKIN_THRESHOLD`, when all patches' exceeds
`HELDOUT_THRESHOLD`, when too few patches are usable, or when the light on the chart is
too uneven (`light.py`). What the phantoms and real photos give is in docs/photos.md.

The held-out figure of "auto" is that of the method it picked, and picking the better
of two by the same held-out error flatters it a little: on the real photos by 0.05-0.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .chart import PatchSamples, channel_histograms
from .charts import COLUMNS, ROWS
from .colorimetry import (
    NEUTRAL_PATCHES,
    PATCH_NAMES,
    REFERENCE_LAB,
    REFERENCE_LINEAR_SRGB,
    SKIN_PATCHES,
    SRGB_DECODE_LUT,
    delta_e2000,
    linear_srgb_to_lab,
)
from .errors import ImagingError

HELDOUT_THRESHOLD = 5.0  # mean held-out ΔE2000 (all patches) above which: uncalibrated
SKIN_THRESHOLD = 4.0  # mean held-out ΔE2000 of the skin patches above which: uncalibrated
SKIN_TARGET, ALL_TARGET = 2.0, 3.0  # issue 8's acceptance; "auto" picks by these
MIN_PATCHES = 18  # usable patches needed to fit and judge a correction
METHODS = (
    "neutral_gamma+matrix3x3",
    "matrix3x3",
    "root_polynomial2",
    "neutral_gamma+root_polynomial2",
)
AUTO = "auto"
AUTO_CANDIDATES = ("neutral_gamma+matrix3x3", "neutral_gamma+root_polynomial2")
DEFAULT_METHOD = AUTO
SHADOW_RATIO = 0.72  # held-out prediction this much darker than the reference: shadow
_GAMMA_RANGE = (0.5, 2.0)
_NEUTRAL_FLOOR = 0.002  # linear; darker neutrals are mostly noise for the log fit
_GRADIENT_LIMIT = 1.0  # |a|, |b| beyond this (e^2 ≈ 7× across the chart) is not light
_Y = np.array([0.2126, 0.7152, 0.0722])
_ROWS_COLS = np.divmod(np.arange(24), COLUMNS)
PATCH_XY = np.stack(
    [(_ROWS_COLS[1] - (COLUMNS - 1) / 2) / ((COLUMNS - 1) / 2),
     (_ROWS_COLS[0] - (ROWS - 1) / 2) / ((ROWS - 1) / 2)],
    axis=1,
)  # fmt: skip
_SKIN_CHROMA_DISTANCE = np.min(
    np.linalg.norm(REFERENCE_LAB[:, None, 1:] - REFERENCE_LAB[None, SKIN_PATCHES, 1:], axis=2),
    axis=1,
)
SKIN_WEIGHTS = 1.0 + 3.0 * np.exp(-((_SKIN_CHROMA_DISTANCE / 15.0) ** 2))


@dataclass(frozen=True)
class Correction:
    """A fitted correction: per-channel exponent, then a matrix on (expanded) RGB.

    `gradient` (a, b) is the light across the chart, exp(a·x + b·y); it is divided out
    of the chart's own patches only (`apply(..., patch_ids=...)`): everything else is
    corrected as if lit like the chart's centre.
    """

    method: str
    gamma: np.ndarray  # (3,) exponent applied to camera linear values; 1 = none
    matrix: np.ndarray  # (3, 3), or (6, 3) for root-polynomial terms
    gradient: np.ndarray = field(default_factory=lambda: np.zeros(2))

    def apply(self, linear: np.ndarray, patch_ids: np.ndarray | None = None) -> np.ndarray:
        """Correct camera linear RGB, shape (..., 3), to linear sRGB (D65)."""
        pre = np.clip(np.asarray(linear, dtype=np.float64), 0.0, None) ** self.gamma
        if patch_ids is not None:
            pre = pre / light_field(self.gradient, np.asarray(patch_ids))[..., None]
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
    heldout_delta_e2000: float | None  # mean over used patches, leave-one-out
    heldout_max_delta_e2000: float | None
    fitted_delta_e2000: float | None  # in-sample, for information only
    uncorrected_delta_e2000: float  # camera values read as sRGB, mean over patches
    patches_used: int
    calibrated: bool
    reason: str | None = None
    heldout_skin_delta_e2000: float | None = None  # mean over "dark skin", "light skin"
    heldout_by_patch: dict[str, float] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)  # patch name -> why
    light_unevenness: float = 1.0  # brightest / darkest corner of the chart's light
    warnings: tuple[str, ...] = ()

    @property
    def method(self) -> str | None:
        return None if self.correction is None else self.correction.method


def light_field(gradient: np.ndarray, patch_ids: np.ndarray) -> np.ndarray:
    """Relative illumination exp(a·x + b·y) at the given chart patches."""
    xy = PATCH_XY[np.asarray(patch_ids, dtype=int)]
    return np.exp(xy @ np.asarray(gradient, dtype=np.float64))


def unevenness(gradient: np.ndarray) -> float:
    """Ratio of the light at the chart's brightest corner to its darkest."""
    return float(np.exp(2 * np.abs(np.asarray(gradient)).sum()))


def calibrate(
    samples: PatchSamples,
    *,
    method: str = DEFAULT_METHOD,
    threshold: float = HELDOUT_THRESHOLD,
    skin_threshold: float = SKIN_THRESHOLD,
) -> Calibration:
    """Fit the correction to the chart and judge it by held-out ΔE2000 (clinical.md §8)."""
    if method != AUTO and method not in METHODS:
        raise ImagingError(f"unknown calibration method {method!r}; choose from {METHODS}")
    camera = samples.linear_rgb
    uncorrected = float(np.mean(delta_e2000(linear_srgb_to_lab(camera), REFERENCE_LAB)))
    excluded = {PATCH_NAMES[k]: why for k, why in samples.reasons().items()}
    used = np.flatnonzero(~samples.unusable)
    candidates = AUTO_CANDIDATES if method == AUTO else (method,)
    fit = _judged_fit(camera, used, candidates)
    if fit is not None and np.mean(fit[1]) <= threshold:
        # Only a fit that is otherwise sound can say which patches are in shadow.
        shadowed = _shadowed(used, fit[2])
        if 0 < len(shadowed) <= 6:
            excluded.update({PATCH_NAMES[k]: "in shadow" for k in shadowed})
            used = used[~np.isin(used, shadowed)]
            fit = _judged_fit(camera, used, candidates)
    if fit is None:
        too_few = (
            f"only {len(used)} of 24 chart patches are usable "
            "(over-exposed, in shadow or out of frame)"
        )
        return Calibration(None, None, None, None, uncorrected, len(used), False, too_few,
                           excluded=excluded)  # fmt: skip
    correction, heldout, _ = fit
    fitted = delta_e2000(
        linear_srgb_to_lab(correction.apply(camera[used], used)), REFERENCE_LAB[used]
    )
    skin = heldout[np.isin(used, SKIN_PATCHES)]
    skin_mean = float(np.mean(skin)) if len(skin) else None
    mean = float(np.mean(heldout))
    uneven = unevenness(correction.gradient)
    reason = _refusal(mean, skin_mean, threshold, skin_threshold, excluded, uneven)
    return Calibration(
        correction,
        mean,
        float(np.max(heldout)),
        float(np.mean(fitted)),
        uncorrected,
        len(used),
        reason is None,
        reason,
        skin_mean,
        {PATCH_NAMES[k]: float(d) for k, d in zip(used, heldout, strict=True)},
        excluded,
        uneven,
        _warnings(excluded, uneven),
    )


# Light on the chart (issue 8): a patient can act on these.
UNEVEN_WARN, UNEVEN_REFUSE = 1.35, 1.8
MAX_SHADOWED = 3
SHADOW_REASON = "the chart is in shadow: turn so the light falls evenly on it"
UNEVEN_REASON = (
    "the light falls very unevenly on the chart ({:.1f}× brighter on one side): "
    "turn so the light falls evenly on it, away from a window or lamp close by"
)


def _refusal(
    mean: float,
    skin: float | None,
    threshold: float,
    skin_threshold: float,
    excluded: dict[str, str],
    uneven: float,
) -> str | None:
    if sum(why == "in shadow" or why == "partly shadowed" for why in excluded.values()) > (
        MAX_SHADOWED
    ):
        return SHADOW_REASON
    if mean > threshold:
        return (
            f"chart colour fit is poor (held-out ΔE2000 {mean:.1f} > {threshold:.1f}): "
            "check lighting, glare on the chart and the chart corners"
        )
    if skin is None:
        return "the chart's skin patches cannot be read (over-exposed or in shadow)"
    if skin > skin_threshold:
        return (
            f"skin colours on the chart do not match (held-out ΔE2000 {skin:.1f} > "
            f"{skin_threshold:.1f}): check for glare or shadow on the chart and that the "
            "chart faces the camera"
        )
    if uneven > UNEVEN_REFUSE:
        return UNEVEN_REASON.format(uneven)
    return None


def _warnings(excluded: dict[str, str], uneven: float) -> tuple[str, ...]:
    out = []
    shade = [name for name, why in excluded.items() if why in ("in shadow", "partly shadowed")]
    if shade:
        out.append(
            f"part of the chart is in shadow ({', '.join(shade)} left out): "
            "turn so the light falls evenly on it"
        )
    if uneven > UNEVEN_WARN:
        out.append(
            f"the light is uneven across the chart ({uneven:.2f}× from one side to the "
            "other; corrected): light the face and chart from the front"
        )
    return tuple(out)


def _judged_fit(
    camera: np.ndarray, used: np.ndarray, candidates: tuple[str, ...]
) -> tuple[Correction, np.ndarray, np.ndarray] | None:
    """The candidate with the best skin-first held-out score: (correction, held-out
    ΔE2000 per used patch, held-out predictions)."""
    if len(used) < MIN_PATCHES:
        return None
    best: tuple[float, Correction, np.ndarray, np.ndarray] | None = None
    for method in candidates:
        correction = fit_correction(camera[used], REFERENCE_LINEAR_SRGB[used], method, used)
        predicted = _leave_one_out_predictions(camera, used, method, correction.gradient)
        heldout = delta_e2000(linear_srgb_to_lab(predicted), REFERENCE_LAB[used])
        skin = heldout[np.isin(used, SKIN_PATCHES)]
        score = max(
            float(np.mean(skin)) / SKIN_TARGET if len(skin) else np.inf,
            float(np.mean(heldout)) / ALL_TARGET,
        )
        if best is None or score < best[0]:
            best = (score, correction, heldout, predicted)
    assert best is not None
    return best[1], best[2], best[3]


def _shadowed(used: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Patches whose held-out prediction is much darker than their reference: a shadow
    darkens all three channels alike, so the colour is right and the lightness is not."""
    reference = REFERENCE_LINEAR_SRGB[used] @ _Y
    ratio = (predicted @ _Y) / reference
    # The darkest patches are left alone: a phone's tone curve crushes them anyway.
    return used[(ratio < SHADOW_RATIO) & (reference > 0.05)]


def fit_correction(
    camera: np.ndarray,
    reference: np.ndarray,
    method: str = "neutral_gamma+matrix3x3",
    patch_ids: np.ndarray | None = None,
    *,
    start: np.ndarray | None = None,
    iterations: int = 4,
) -> Correction:
    """Weighted least-squares fit of `method` from camera to reference linear RGB (n, 3),
    with the light's gradient across the chart (Gauss-Newton from `start`).

    `patch_ids` says which chart patch each row is, so the neutral ramp and each
    patch's place on the chart are known.
    """
    ids = np.arange(len(camera)) if patch_ids is None else np.asarray(patch_ids)
    weights = SKIN_WEIGHTS[ids]
    gradient = np.zeros(2) if start is None else np.asarray(start, dtype=np.float64)
    step = 1e-4
    for _ in range(iterations):
        r0 = _residual(camera, reference, ids, method, weights, gradient)
        jac = np.stack(
            [
                (_residual(camera, reference, ids, method, weights, gradient + d) - r0) / step
                for d in np.eye(2) * step
            ],
            axis=1,
        )
        delta = np.linalg.lstsq(jac, -r0, rcond=None)[0]
        gradient = np.clip(gradient + np.clip(delta, -0.3, 0.3), -_GRADIENT_LIMIT, _GRADIENT_LIMIT)
        if np.abs(delta).max() < 1e-3:
            break
    return _fit_at(camera, reference, ids, method, weights, gradient)


def _fit_at(
    camera: np.ndarray,
    reference: np.ndarray,
    ids: np.ndarray,
    method: str,
    weights: np.ndarray,
    gradient: np.ndarray,
) -> Correction:
    lit = light_field(gradient, ids)
    gamma = np.ones(3)
    if method.startswith("neutral_gamma"):
        gamma = _neutral_gamma(camera, reference * lit[:, None], ids)
    pre = np.clip(camera, 0.0, None) ** gamma / lit[:, None]
    w = weights[:, None]
    matrix, *_ = np.linalg.lstsq(_expand(pre, method) * w, reference * w, rcond=None)
    return Correction(method, gamma, matrix, gradient.copy())


def _residual(
    camera: np.ndarray,
    reference: np.ndarray,
    ids: np.ndarray,
    method: str,
    weights: np.ndarray,
    gradient: np.ndarray,
) -> np.ndarray:
    fit = _fit_at(camera, reference, ids, method, weights, gradient)
    return ((fit.apply(camera, ids) - reference) * weights[:, None]).ravel()


def leave_one_out_delta_e(
    camera: np.ndarray, used: np.ndarray, method: str, *, start: np.ndarray | None = None
) -> np.ndarray:
    """ΔE2000 of each used patch predicted by a fit to the others."""
    predicted = _leave_one_out_predictions(camera, used, method, start)
    return delta_e2000(linear_srgb_to_lab(predicted), REFERENCE_LAB[used])


def _leave_one_out_predictions(
    camera: np.ndarray, used: np.ndarray, method: str, start: np.ndarray | None
) -> np.ndarray:
    if start is None:
        start = fit_correction(camera[used], REFERENCE_LINEAR_SRGB[used], method, used).gradient
    predicted = np.zeros((len(used), 3))
    for k, patch in enumerate(used):
        rest = used[used != patch]
        # Everything is refitted without the patch except the light's two gradient
        # parameters, kept from the full fit: refitting them too moved the real photos'
        # held-out medians by under 0.05 and cost 4× the time.
        fit = fit_correction(
            camera[rest], REFERENCE_LINEAR_SRGB[rest], method, rest, start=start, iterations=0
        )
        predicted[k] = fit.apply(camera[patch][None], np.array([patch]))[0]
    return predicted


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
    """Finlayson et al. 2015 root-polynomial terms of degree 2, or RGB as it is."""
    if not method.endswith("root_polynomial2"):
        return rgb
    v = np.clip(rgb, 0.0, None)
    r, g, b = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([r, g, b, np.sqrt(r * g), np.sqrt(g * b), np.sqrt(r * b)], axis=-1)
