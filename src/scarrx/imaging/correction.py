"""The colour correction and how it is fitted: a tone curve from the chart's neutral ramp,
then a matrix in linear light, with the light's gradient across the chart.

The model maps camera linear RGB (8-bit sRGB decoded to linear) onto the chart's
reference linear sRGB (D65). clinical.md §8 asks for a low-order correction in linear RGB
(3×3, or root-polynomial degree 1-2) and for **held-out** ΔE2000 (leave-one-out over
patches) as its quality. Every choice below was judged that way, on the phantoms and on
the public real photos of `benchmarks/real_photos.py` (figures in docs/photos.md).

Methods (`METHODS`):

- "neutral_ramp+matrix3x3" (the default): per channel, a tone curve through the six
  neutral patches, then a 3×3 matrix. Phones do not encode plain sRGB: their rendering
  adds an S-shaped tone curve, which a power law cannot follow (on the real photos the
  mid-greys and white were 3-7 ΔE off with one). The curve is piecewise linear in
  log-log through the neutrals, pulled half way towards the power law fitted to the
  same neutrals (`RAMP_SHRINK`): through the points exactly, the dark end follows the
  noise and flare of the black patch and skin suffers (dark skin 2.8 ΔE instead of
  1.7); as a power law, the greys are off. Of 0.3-0.7 and 1 (the power law), more
  pull gave higher all-patch medians on the real photos, and up to 0.5 lower skin
  medians (table in docs/photos.md). 0.5 meets both of issue 8's targets and keeps the
  default exact on the phantoms' power-law camera (at 0.4 the ramp follows the chart
  greys' slight tint too far there: held-out 0.105 instead of under 0.1).
- "neutral_gamma+matrix3x3": the same with a power law per channel (RAMP_SHRINK = 1).
- "neutral_ramp+root_polynomial2", "neutral_gamma+root_polynomial2": Finlayson,
  Mackiewicz & Hurlbert's root-polynomial expansion of degree 2 (R, G, B, √RG, √GB, √RB;
  "Color correction using root-polynomial regression", IEEE TIP 24 (2015) 1460-1470)
  after the curve, its three cross terms held back by a ridge penalty (`RIDGE`):
  unpenalised they bent dark skin's a* by about 3 on the real photos. Of 0.003-0.3
  (chosen on held-out error with the objective below), 0.1 and 0.3 gave the lowest
  skin medians; weaker ridges bend skin (0.003: skin 2.11).
- "matrix3x3", "root_polynomial2": without a curve.

Shared by all of them, each kept because it lowered held-out error on the real photos:

- The objective is the error it is judged by, ΔE2000 (`objective="delta_e2000"`, the
  default). Each patch's residual in linear RGB is measured by ΔE2000's local
  quadratic form at its reference (`colorimetry.delta_e2000_metric`, through the
  Jacobian of CIELAB): lightness errors count by CIELAB's cube root, chroma errors of
  saturated patches less (S_C, S_H), so the fit spends itself where ΔE2000 sees the
  error. Then the fit is reweighted once by 1/√ΔE2000 of each patch (iteratively
  reweighted least squares; `REWEIGHTINGS`, floor `REWEIGHT_FLOOR`), so that it
  minimises near enough the *mean* ΔE2000 rather than its square: a few patches a
  low-order correction cannot reach (on phones green, orange yellow and white, 5-8
  ΔE2000) no longer pull every other patch towards them. On the real photos the form
  alone took the medians from 3.55 / 1.86 (all / skin) to 3.14 / 1.81 and the
  reweighting to 2.98 / 1.76; more rounds changed them by under 0.01. The three
  output channels are then solved together (9 unknowns for a 3×3, 18 for a
  root-polynomial). `objective="rgb"` is the earlier fit, kept for the patch-order
  score in `lattice.py`: residuals weighted by 1/√Y of the reference (squared errors
  relative to brightness).
- Weights towards what matters for skin: the patches whose chroma lies near the two
  skin patches' (within about 15 a*b* units) up to twice as much (`SKIN_WEIGHTS`).
  Lighter (1×, 1.5×) gave higher all-patch medians, heavier (3×, 4×) made the skin
  patches' own held-out error worse: left out, a skin patch is predicted from its
  heavily weighted neighbours alone.
- Light falling unevenly across the chart: the illumination is modelled as
  exp(a·x + b·y) over the chart (x, y in -1..1 from its centre), fitted jointly with
  the correction by Gauss-Newton; the curve is fitted on the neutrals divided by that
  field. Regions are corrected as if lit like the chart's centre.

Held-out error is exact: for each patch, everything (curve, matrix, light gradient and
the reweighting) is refitted without it, and the patch is predicted. All the
leave-one-out fits run as one batch (`_fits`), so this costs about as much as a handful
of single fits: about 10 ms for the 3×3 on the 24 patches (root-polynomial 16-19 ms; 4-6
ms with `objective="rgb"`), the ramps' knots and gaps worked out once per fit
(`_ramp_plan`), each patch's place on the ramp once per call (`_ramp_basis`), the normal
equations as matrix products. An
earlier version kept the full fit's light gradient in every fold, saying that moved the
medians by under 0.05: re-measured on the real photos, it flattered the all-patch
median by 0.23 (power law and 3×3) or 0.12 (this ramp) and the skin median by 0.08 or
0.04.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .charts import COLUMNS, ROWS
from .colorimetry import (
    NEUTRAL_PATCHES,
    REFERENCE_LAB,
    SKIN_PATCHES,
    SRGB_DECODE_LUT,
    delta_e2000,
    delta_e2000_metric,
    lab_jacobian,
    linear_srgb_to_lab,
)

METHODS = (
    "neutral_ramp+matrix3x3",
    "neutral_gamma+matrix3x3",
    "neutral_ramp+root_polynomial2",
    "neutral_gamma+root_polynomial2",
    "matrix3x3",
    "root_polynomial2",
)
RAMP_SHRINK = 0.5  # the ramp curve's pull towards the power law (module docstring)
RIDGE = 0.1  # root-polynomial cross terms: penalty relative to the mean diagonal
OBJECTIVES = ("delta_e2000", "rgb")
REWEIGHTINGS = 1  # rounds of reweighting towards the mean ΔE2000 (1, 2, 5: the same medians)
REWEIGHT_FLOOR = 0.5  # ΔE2000: a patch fitted closer than this is not weighted up more
_FLOOR = 0.002  # linear; darker neutrals are mostly noise for the curve
_POWER_RANGE = (0.4, 3.0)  # the power law's exponent (a camera's gamma error)
_SLOPE_RANGE = (0.2, 5.0)  # the ramp's local exponent between two neutrals
GRADIENT_LIMIT = 1.0  # |a|, |b| beyond this (e^2 ≈ 7× across the chart) is not light
_GN_ITERATIONS = 4
_GN_STEP = 1e-4
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
SKIN_WEIGHTS = 1.0 + 1.0 * np.exp(-((_SKIN_CHROMA_DISTANCE / 15.0) ** 2))
_NEUTRAL = np.isin(np.arange(24), NEUTRAL_PATCHES)


@dataclass(frozen=True)
class ToneCurve:
    """Per channel, log(out) as a piecewise-linear function of log(in): knots `x`, the
    value at the first knot, and each segment's slope (the ends extend the end slopes).
    No knots: the identity."""

    x: np.ndarray  # (3, K) sorted knots, log of camera linear values
    y0: np.ndarray  # (3,) log(out) at the first knot
    slopes: np.ndarray  # (3, K - 1)
    power: np.ndarray  # (3,) exponent of the power law through the same neutrals

    @classmethod
    def identity(cls) -> ToneCurve:
        return cls(np.zeros((3, 0)), np.zeros(3), np.zeros((3, 0)), np.ones(3))

    def __call__(self, linear: np.ndarray) -> np.ndarray:
        """Apply to camera linear RGB of shape (..., 3); 0 stays 0."""
        v = np.clip(np.asarray(linear, dtype=np.float64), 0.0, None)
        if self.x.shape[1] == 0:
            return v
        logv = np.log(np.maximum(v, 1e-9))
        out = _piecewise(logv[None], self.x[None], self.y0[None], self.slopes[None])[0]
        return np.where(v > 0, np.exp(out), 0.0)


def _piecewise(logv: np.ndarray, x: np.ndarray, y0: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Batched ramp: logv (F, ..., 3); x (F, 3, K), y0 (F, 3), s (F, 3, K-1)."""
    extra = logv.ndim - 2  # the "..." axes
    shape = (x.shape[0],) + (1,) * extra + (3,)
    out = y0.reshape(shape) + s[..., 0].reshape(shape) * np.minimum(
        logv - x[..., 0].reshape(shape), 0.0
    )
    for k in range(s.shape[-1]):
        lo, hi = x[..., k].reshape(shape), x[..., k + 1].reshape(shape)
        out = out + s[..., k].reshape(shape) * np.minimum(np.maximum(logv - lo, 0.0), hi - lo)
    return out + s[..., -1].reshape(shape) * np.maximum(logv - x[..., -1].reshape(shape), 0.0)


@dataclass(frozen=True)
class Correction:
    """A fitted correction: per-channel tone curve, then a matrix on (expanded) RGB.

    `gradient` (a, b) is the light across the chart, exp(a·x + b·y); it is divided out
    of the chart's own patches only (`apply(..., patch_ids=...)`): everything else is
    corrected as if lit like the chart's centre.
    """

    method: str
    curve: ToneCurve
    matrix: np.ndarray  # (3, 3), or (6, 3) for root-polynomial terms
    gradient: np.ndarray = field(default_factory=lambda: np.zeros(2))

    @property
    def gamma(self) -> np.ndarray:
        """The power law through the neutrals, per channel (1 without a curve)."""
        return self.curve.power

    def apply(self, linear: np.ndarray, patch_ids: np.ndarray | None = None) -> np.ndarray:
        """Correct camera linear RGB, shape (..., 3), to linear sRGB (D65)."""
        pre = self.curve(linear)
        if patch_ids is not None:
            pre = pre / light_field(self.gradient, np.asarray(patch_ids))[..., None]
        return self.apply_curved(pre)

    def apply_curved(self, pre: np.ndarray) -> np.ndarray:
        """The matrix part, on values that have been through `curve` (or `lut`)."""
        return _expand(pre, self.method) @ self.matrix

    def lut(self) -> np.ndarray:
        """(256, 3): 8-bit code value -> value after the tone curve, before the matrix."""
        return self.curve(np.repeat(SRGB_DECODE_LUT[:, None], 3, axis=1))

    def region_mean(self, crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Corrected linear sRGB of the mean of an 8-bit crop's pixels where mask is set.

        After per-channel curves the matrix is linear in its terms, so the mean of the
        corrected pixels is the matrix applied to the mean of each term. For R, G, B
        that mean comes exactly from each channel's 256-bin histogram; for a
        root-polynomial's √(RG) = √R·√G, from the joint histogram of the two channels.
        A 12 MP photo's region is measured in a few milliseconds.
        """
        lut = self.lut()
        counts = channel_histograms(crop, mask)
        total = counts[:, 0].sum()
        terms = [(counts * lut).sum(axis=0) / total]
        if self.matrix.shape[0] != 3:
            root = np.sqrt(lut)
            mask8 = mask.astype(np.uint8, copy=False)
            for a, b in ((0, 1), (1, 2), (0, 2)):
                joint = cv2.calcHist([crop], [a, b], mask8, [256, 256], [0, 256, 0, 256])
                terms.append(np.array([root[:, a] @ joint.astype(np.float64) @ root[:, b]]))
            return np.concatenate(terms) / np.array([1, 1, 1, total, total, total]) @ self.matrix
        return terms[0] @ self.matrix


def channel_histograms(crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(256, 3) counts of each 8-bit code value per channel where mask is non-zero."""
    mask8 = mask.astype(np.uint8, copy=False)
    hists = [cv2.calcHist([crop], [c], mask8, [256], [0, 256]).ravel() for c in range(3)]
    return np.stack(hists, axis=1).astype(np.float64)


def light_field(gradient: np.ndarray, patch_ids: np.ndarray) -> np.ndarray:
    """Relative illumination exp(a·x + b·y) at the given chart patches."""
    xy = PATCH_XY[np.asarray(patch_ids, dtype=int)]
    return np.exp(xy @ np.asarray(gradient, dtype=np.float64))


@dataclass(frozen=True)
class Fit:
    """The full fit and every leave-one-out prediction, from one batched Gauss-Newton."""

    correction: Correction
    heldout: np.ndarray  # (n, 3) each used patch predicted by the fit without it


def fit_with_heldout(
    camera: np.ndarray,
    used: np.ndarray,
    method: str,
    reference: np.ndarray,
    objective: str = "delta_e2000",
) -> Fit:
    """Fit `method` on the `used` patches and predict each of them from the others.

    `camera` and `reference` are (24, 3); fold 0 of the batch is the full fit, fold k
    leaves out used[k - 1].
    """
    n = len(used)
    include = np.ones((n + 1, n), dtype=bool)
    include[np.arange(1, n + 1), np.arange(n)] = False
    loss = _Loss.of(objective, used, reference[used])
    ramp = _ramp_plan(camera[used], used, method, include)
    gradients, weights = _fit_folds(
        camera[used], reference[used], used, method, include, loss, ramp
    )
    curves, matrices, predicted = _fit_and_predict(
        camera[used], reference[used], used, method, gradients, include, weights, loss, ramp
    )
    full = Correction(
        method,
        ToneCurve(curves[0][0], curves[1][0], curves[2][0], curves[3][0])
        if _has_curve(method)
        else ToneCurve.identity(),
        matrices[0],
        gradients[0].copy(),
    )
    return Fit(full, predicted[np.arange(1, n + 1), np.arange(n)])


def fit_correction(
    camera: np.ndarray,
    reference: np.ndarray,
    method: str = "neutral_ramp+matrix3x3",
    patch_ids: np.ndarray | None = None,
    objective: str = "delta_e2000",
) -> Correction:
    """Fit `method` from camera to reference linear RGB (n, 3), with the light's gradient
    across the chart, by `objective` (module docstring). `patch_ids` says which chart
    patch each row is (default: all 24 in chart order), so the neutrals and places are
    known."""
    ids = np.arange(len(camera)) if patch_ids is None else np.asarray(patch_ids)
    include = np.ones((1, len(ids)), dtype=bool)
    loss = _Loss.of(objective, ids, reference)
    ramp = _ramp_plan(camera, ids, method, include)
    gradients, weights = _fit_folds(camera, reference, ids, method, include, loss, ramp)
    curves, matrices, _ = _fits(
        camera, reference, ids, method, gradients, include, weights, loss, ramp
    )
    curve = (
        ToneCurve(curves[0][0], curves[1][0], curves[2][0], curves[3][0])
        if _has_curve(method)
        else ToneCurve.identity()
    )
    return Correction(method, curve, matrices[0], gradients[0].copy())


# --- the batched fit ---------------------------------------------------------------------
#
# Every function below works on F folds at once: `include` (F, n) says which of the n
# patches each fold fits to, `gradients` (F, 2) the light gradient each fold assumes.


@dataclass(frozen=True)
class _Loss:
    """What a fit minimises over its patches (module docstring): each patch's residual
    weighted by `base` and, for "delta_e2000", measured by ΔE2000's local quadratic form
    (`factor`: Fᵀ·e gives a vector whose length is about the patch's ΔE2000), then
    reweighted `rounds` times by 1/√ΔE2000 of the fit so far."""

    base: np.ndarray  # (n,)
    factor: np.ndarray | None  # (n, 3, 3), Q = F Fᵀ; None: plain linear RGB
    rounds: int
    reference_lab: np.ndarray  # (n, 3)
    form: np.ndarray | None = None  # (n, 3, 3) Q
    form_reference: np.ndarray | None = None  # (n, 3) Q·reference

    @classmethod
    def of(cls, objective: str, ids: np.ndarray, reference: np.ndarray) -> _Loss:
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {objective!r}; choose from {OBJECTIVES}")
        lab = linear_srgb_to_lab(reference)
        if objective == "rgb":
            luminance = np.clip(reference @ np.array([0.2126, 0.7152, 0.0722]), 0.01, None)
            return cls(SKIN_WEIGHTS[ids] / np.sqrt(luminance), None, 0, lab)
        jacobian = lab_jacobian(reference)  # (n, 3 Lab, 3 RGB)
        form = np.swapaxes(jacobian, 1, 2) @ delta_e2000_metric(lab) @ jacobian
        factor = np.linalg.cholesky(form)
        form = factor @ np.swapaxes(factor, 1, 2)  # as the fit has always used it
        return cls(
            SKIN_WEIGHTS[ids],
            factor,
            REWEIGHTINGS,
            lab,
            form,
            (form @ reference[..., None])[..., 0],
        )

    def errors(self, predicted: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """(F, n, 3) residuals as the loss measures them (before weights)."""
        residual = predicted - reference
        if self.factor is None:
            return residual
        return (residual[..., None, :] @ self.factor)[..., 0, :]


def _fit_folds(
    camera: np.ndarray,
    reference: np.ndarray,
    ids: np.ndarray,
    method: str,
    include: np.ndarray,
    loss: _Loss,
    ramp: _Ramp | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each fold's light gradient and patch weights (F, n; 0 for patches it leaves out).

    Iteratively reweighted least squares: a residual weighted by 1/√ΔE2000 of the
    previous fit counts as its ΔE2000, not its square, so the fit minimises (near
    enough) the mean ΔE2000 it is judged by. Each fold reweights from its own patches.
    """
    weights = loss.base[None] * include
    gradients = np.zeros((len(include), 2))
    trial_ramp = _ramp_plan(camera, ids, method, np.concatenate([include, include, include]))
    for round_ in range(loss.rounds + 1):
        gradients = _gauss_newton(
            camera, reference, ids, method, include, weights, loss, gradients, trial_ramp
        )
        if round_ == loss.rounds:
            break
        *_, predicted = _fit_and_predict(
            camera, reference, ids, method, gradients, include, weights, loss, ramp
        )
        distance = delta_e2000(linear_srgb_to_lab(predicted), loss.reference_lab[None])
        weights = loss.base[None] * include / np.sqrt(np.maximum(distance, REWEIGHT_FLOOR))
    return gradients, weights


def _gauss_newton(
    camera: np.ndarray,
    reference: np.ndarray,
    ids: np.ndarray,
    method: str,
    include: np.ndarray,
    weights: np.ndarray,
    loss: _Loss,
    start: np.ndarray,
    trial_ramp: _Ramp | None,
) -> np.ndarray:
    """Each fold's light gradient, fitted jointly with its correction (profiled: the curve
    and matrix are refitted at every trial gradient), from `start`. `trial_ramp` is the
    ramps' plan for the folds three times over (each gradient and its two steps)."""
    folds = len(include)
    gradients = start.copy()
    trial = np.concatenate([include, include, include])
    trial_weights = np.concatenate([weights, weights, weights])
    for _ in range(_GN_ITERATIONS):
        steps = np.concatenate(
            [gradients, gradients + [_GN_STEP, 0.0], gradients + [0.0, _GN_STEP]]
        )
        residual = _residuals(
            camera, reference, ids, method, steps, trial, trial_weights, loss, trial_ramp
        )
        r0 = residual[:folds]
        jac = np.stack([residual[folds : 2 * folds], residual[2 * folds :]], axis=-1)
        jac = (jac - r0[..., None]) / _GN_STEP  # (F, n*3, 2)
        normal = np.einsum("fri,frj->fij", jac, jac) + 1e-12 * np.eye(2)
        delta = -np.linalg.solve(normal, np.einsum("fri,fr->fi", jac, r0)[..., None])[..., 0]
        gradients = np.clip(gradients + np.clip(delta, -0.3, 0.3), -GRADIENT_LIMIT, GRADIENT_LIMIT)
        if np.abs(delta).max() < 1e-3:
            break
    return gradients


def _residuals(
    camera: np.ndarray,
    reference: np.ndarray,
    ids: np.ndarray,
    method: str,
    gradients: np.ndarray,
    include: np.ndarray,
    weights: np.ndarray,
    loss: _Loss,
    ramp: _Ramp | None,
) -> np.ndarray:
    """(F, n*3) weighted residuals of each fold's fit on its own patches (0 elsewhere)."""
    *_, predicted = _fit_and_predict(
        camera, reference, ids, method, gradients, include, weights, loss, ramp
    )
    errors = loss.errors(predicted, reference) * weights[..., None]
    return errors.reshape(len(include), -1)


def _fit_and_predict(
    camera: np.ndarray,
    reference: np.ndarray,
    ids: np.ndarray,
    method: str,
    gradients: np.ndarray,
    include: np.ndarray,
    weights: np.ndarray,
    loss: _Loss,
    ramp: _Ramp | None,
) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """Each fold's curve and matrix (`_fits`), and its prediction (F, n, 3) of every patch."""
    curves, matrices, design = _fits(
        camera, reference, ids, method, gradients, include, weights, loss, ramp
    )
    return curves, matrices, design @ matrices


def _fits(
    camera: np.ndarray,
    reference: np.ndarray,
    ids: np.ndarray,
    method: str,
    gradients: np.ndarray,
    include: np.ndarray,
    weights: np.ndarray,
    loss: _Loss,
    ramp: _Ramp | None,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray, np.ndarray]:
    """Each fold's tone curve (x, y0, slopes, power) and matrix at its gradient, and the
    design (F, n, p) the matrix applies to: weighted least squares, in ΔE2000's local
    form when the loss has one (the three output channels are then solved together: 3p
    unknowns). The normal equations are formed as matrix products."""
    lit = np.exp(gradients @ PATCH_XY[ids].T)  # (F, n)
    curves = _curves(ramp, reference, lit, len(include))
    pre = _pre(camera, ids, curves, gradients)
    design = _expand(pre, method)  # (F, n, p)
    folds, n, p = design.shape
    ridge = np.array([0.0, 0.0, 0.0, RIDGE, RIDGE, RIDGE][:p])
    if loss.factor is None:
        weighted = np.swapaxes(design * (weights**2)[..., None], 1, 2)  # (F, p, n)
        normal = weighted @ design
        rhs = weighted @ reference
        scale = np.trace(normal, axis1=1, axis2=2)[:, None, None] / p
        normal = normal + scale * (np.diag(ridge) + 1e-12 * np.eye(p))
        return curves, np.linalg.solve(normal, rhs), design
    # normal[(p, c), (q, d)] = Σ_n w²·design[n, p]·design[n, q]·Q[n, c, d], Q = F Fᵀ:
    # the products of design columns against the patches' forms, one matrix product.
    assert loss.form is not None and loss.form_reference is not None  # set with the factor
    weighted = np.swapaxes(design * (weights**2)[..., None], 1, 2)  # (F, p, n)
    outer = weighted[:, :, None, :] * np.swapaxes(design, 1, 2)[:, None, :, :]  # (F, p, q, n)
    normal = (outer.reshape(folds, p * p, n) @ loss.form.reshape(n, 9)).reshape(folds, p, p, 3, 3)
    normal = normal.transpose(0, 1, 3, 2, 4).reshape(folds, 3 * p, 3 * p)
    rhs = (weighted @ loss.form_reference).reshape(folds, 3 * p, 1)
    scale = np.trace(normal, axis1=1, axis2=2)[:, None, None] / (3 * p)
    normal = normal + scale * (np.diag(np.repeat(ridge, 3)) + 1e-12 * np.eye(3 * p))
    solved = np.linalg.solve(normal, rhs)
    return curves, solved.reshape(folds, p, 3), design


@dataclass(frozen=True)
class _Ramp:
    """What the folds' ramps take from the camera and from which neutrals each fold may
    use, worked out once: a fold's light changes only the knots' heights (`_curves`)."""

    where: np.ndarray  # (K,) the neutrals among the n patches
    order: np.ndarray  # (K, 3) per channel, darkest first
    x: np.ndarray  # (1, K, 3) log camera values of the knots, sorted
    valid: np.ndarray  # (F, K, 3) the knots each fold may use
    wsum: np.ndarray  # (F, 3) how many
    mean_x: np.ndarray  # (F, 3)
    dx: np.ndarray  # (F, K, 3)
    sxx: np.ndarray  # (F, 3)
    lo: np.ndarray  # (F, K, 3) for a knot a fold may not use, the two it is taken from
    hi: np.ndarray
    t: np.ndarray  # (F, K, 3) and where it lies between them
    gaps: np.ndarray  # (1, K - 1, 3)
    shrink: float


def _ramp_plan(
    camera: np.ndarray, ids: np.ndarray, method: str, include: np.ndarray
) -> _Ramp | None:
    """The ramps' plan (`_Ramp`), or None for the identity."""
    where = np.flatnonzero(_NEUTRAL[ids])
    if not _has_curve(method) or len(where) < 3:
        return None
    seen = camera[where]  # (K, 3)
    order = np.argsort(seen, axis=0)  # per channel, darkest first
    seen = np.take_along_axis(seen, order, axis=0)
    shape = (len(include), len(where), 3)
    valid = (
        np.take_along_axis(np.broadcast_to(include[:, where, None], shape), order[None], axis=1)
        & (seen > _FLOOR)[None]
    )
    x = np.log(np.maximum(seen, 1e-9))[None]  # (1, K, 3)
    wsum = valid.sum(axis=1)  # (F, 3)
    mean_x = (valid * x).sum(axis=1) / np.maximum(wsum, 1)
    dx = x - mean_x[:, None]
    lo, hi, t = _gap_plan(np.broadcast_to(x, shape), valid)
    return _Ramp(
        where,
        order,
        x,
        valid,
        wsum,
        mean_x,
        dx,
        (valid * dx * dx).sum(axis=1),
        lo,
        hi,
        t,
        np.diff(x, axis=1),
        RAMP_SHRINK if method.startswith("neutral_ramp") else 1.0,
    )


def _curves(
    ramp: _Ramp | None, reference: np.ndarray, lit: np.ndarray, folds: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each fold's ramp through its neutrals (the knots stay at all the neutrals seen; a
    neutral a fold leaves out, or one too dark to trust, sits on the power law), by the
    plan `ramp` (None: the identity) under the fold's light `lit` (F, n)."""
    if ramp is None:
        ones = np.ones((folds, 3))
        return np.zeros((folds, 3, 0)), np.zeros((folds, 3)), np.zeros((folds, 3, 0)), ones
    where, valid, x = ramp.where, ramp.valid, ramp.x
    truth = reference[where][None] * lit[:, where, None]  # (F, K, 3)
    truth = np.take_along_axis(truth, ramp.order[None], axis=1)
    y = np.log(np.maximum(truth, 1e-9))
    # The power law through the valid neutrals: log(truth) = a + b·log(seen).
    enough = ramp.wsum >= 3
    mean_y = (valid * y).sum(axis=1) / np.maximum(ramp.wsum, 1)
    dy = y - mean_y[:, None]
    sxx = ramp.sxx
    b = np.where(sxx > 1e-12, (valid * ramp.dx * dy).sum(axis=1) / np.maximum(sxx, 1e-12), 1.0)
    b = np.minimum(np.maximum(b, _POWER_RANGE[0]), _POWER_RANGE[1])
    a = mean_y - b * ramp.mean_x
    line = a[:, None] + b[:, None] * x
    shrink = ramp.shrink
    knots = _fill_gaps(ramp, (1 - shrink) * y + shrink * line)
    knots = np.maximum.accumulate(knots, axis=1)
    gaps = ramp.gaps
    slopes = np.where(gaps > 1e-6, np.diff(knots, axis=1) / np.maximum(gaps, 1e-6), b[:, None])
    slopes = np.minimum(np.maximum(slopes, _SLOPE_RANGE[0]), _SLOPE_RANGE[1])
    # A channel with too few neutrals to fit is left as it is (the identity in log).
    xk = np.broadcast_to(x, knots.shape)
    y0 = np.where(enough, knots[:, 0], xk[:, 0])
    slopes = np.where(enough[:, None], slopes, 1.0)
    power = np.where(enough, b, 1.0)
    return (
        np.ascontiguousarray(np.moveaxis(xk, 1, 2)),
        y0,
        np.ascontiguousarray(np.moveaxis(slopes, 1, 2)),
        power,
    )


def _gap_plan(x: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For knots a fold may not use, the two knots to take them from: the nearest usable
    ones on either side, or the nearest usable segment beyond the first or last one; and
    where in log-log the knot lies between them. Arrays (F, K, 3)."""
    k = x.shape[1]
    index = np.broadcast_to(np.arange(k)[None, :, None], x.shape)
    left = np.maximum.accumulate(np.where(valid, index, -1), axis=1)
    right = np.flip(
        np.minimum.accumulate(np.flip(np.where(valid, index, k), axis=1), axis=1), axis=1
    )
    first, last = _nth_usable(valid, 0), _nth_usable(valid, -1)
    second, before_last = _nth_usable(valid, 1), _nth_usable(valid, -2)
    lo = np.where(left < 0, first, np.where(right >= k, before_last, left))
    hi = np.where(left < 0, second, np.where(right >= k, last, right))
    x_lo, x_hi = np.take_along_axis(x, lo, 1), np.take_along_axis(x, hi, 1)
    span = x_hi - x_lo
    t = (x - x_lo) / np.where(np.abs(span) > 1e-9, span, 1.0)
    return lo, hi, t


def _fill_gaps(ramp: _Ramp, y: np.ndarray) -> np.ndarray:
    """Knots a fold may not use, from its neighbours (`_gap_plan`), interpolated in
    log-log or extended. y (F, K, 3)."""
    y_lo, y_hi = np.take_along_axis(y, ramp.lo, 1), np.take_along_axis(y, ramp.hi, 1)
    return np.where(ramp.valid, y, y_lo + ramp.t * (y_hi - y_lo))


def _nth_usable(valid: np.ndarray, n: int) -> np.ndarray:
    """(F, 1, 3) index of the n-th usable knot (negative n: from the end), clamped."""
    k = valid.shape[1]
    order = np.sort(np.where(valid, np.arange(k)[None, :, None], k), axis=1)
    count = valid.sum(axis=1, keepdims=True)
    at = np.minimum(np.maximum(n if n >= 0 else count + n, 0), np.maximum(count - 1, 0))
    return np.minimum(np.maximum(np.take_along_axis(order, at, axis=1), 0), k - 1)


def _pre(
    camera: np.ndarray,
    ids: np.ndarray,
    curves: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    gradients: np.ndarray,
) -> np.ndarray:
    """(F, n, 3): the camera values through each fold's curve, divided by its light."""
    x, y0, slopes, _ = curves
    folds = len(gradients)
    v = np.maximum(camera, 0.0)
    if x.shape[-1] == 0:
        curved = np.broadcast_to(v, (folds, *v.shape))
    else:
        # The knots are the camera's own neutrals, the same in every fold (`_curves`):
        # where each patch falls on the ramp is worked out once, each fold's slopes
        # then only weight it (_piecewise's sum, as one product).
        basis = _ramp_basis(np.log(np.maximum(v, 1e-9)), x[0])  # (n, 3, K + 1)
        coef = np.concatenate([slopes[..., :1], slopes, slopes[..., -1:]], axis=-1)
        logout = y0[:, None, :] + np.einsum("fcj,ncj->fnc", coef, basis)
        curved = np.where(v > 0, np.exp(logout), 0.0)
    lit = np.exp(gradients @ PATCH_XY[ids].T)
    return curved / lit[..., None]


def _ramp_basis(logv: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(n, 3, K + 1): for log values (n, 3) and one curve's knots (3, K), how far each
    lies below the first knot, within each segment, and above the last knot; the ramp is
    y0 plus these weighted by the slopes (first, each segment's, last)."""
    below = np.minimum(logv - x[:, 0], 0.0)[..., None]
    within = np.minimum(np.maximum(logv[..., None] - x[:, :-1], 0.0), np.diff(x, axis=-1))
    above = np.maximum(logv - x[:, -1], 0.0)[..., None]
    return np.concatenate([below, within, above], axis=-1)


def _has_curve(method: str) -> bool:
    return method.startswith(("neutral_ramp", "neutral_gamma"))


def _expand(rgb: np.ndarray, method: str) -> np.ndarray:
    """Finlayson et al. 2015 root-polynomial terms of degree 2, or RGB as it is."""
    if not method.endswith("root_polynomial2"):
        return rgb
    v = np.maximum(rgb, 0.0)
    r, g, b = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([r, g, b, np.sqrt(r * g), np.sqrt(g * b), np.sqrt(r * b)], axis=-1)
