"""Colour and texture measures of a scar region against unaffected skin (clinical.md §8).

A region's colour is the colour of its mean corrected linear RGB, as a spot colorimeter
averaging over the region would see it; CIELAB is D65. From that colour:

- a* (redness; correlates with the erythema index, Shriver & Parra 2002),
- erythema index EI = 100·log10(R/G) and melanin index MI = 100·log10(1/R), on corrected
  linear RGB,
- ITA° = arctan((L* − 50)/b*)·180/π, computed as atan2(L* − 50, b*) so that b* = 0 is
  defined; bands > 55 very light, 41–55 light, 28–41 intermediate, 10–28 tan,
  −30–10 brown, ≤ −30 dark (each band includes its upper bound).

Scar minus reference (Δa*, ΔEI, ΔMI) is what to follow over time: lighting that
survives correction cancels where it falls alike on both regions. Light that falls more
on one (a lamp to one side, vignetting) does not: it scales a* by about the cube root
of its ratio (the realistic phantoms in `make bench`, Δa* against "even"). Depth of
atrophic scars cannot be measured from one ordinary photo; the pit count and area here
are an *exploratory* shadow measure and are labelled so wherever they appear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .calibrate import Correction
from .colorimetry import linear_srgb_to_lab
from .errors import ImagingError
from .version import ALGORITHM_VERSION

# (lower bound, band) from the top; ITA above a bound (strictly) falls in that band.
ITA_BANDS = (
    (55.0, "very light"),
    (41.0, "light"),
    (28.0, "intermediate"),
    (10.0, "tan"),
    (-30.0, "brown"),
)
DARKEST_BAND = "dark"
MIN_REGION_PIXELS = 25
MAX_REGION_POINTS = 2000

# Exploratory pit measure: a pit is a spot at least PIT_CORE darker than the skin around
# it, measured out to where it is PIT_EDGE darker, with an area in PIT_AREA_MM2.
PIT_CORE, PIT_EDGE = 0.30, 0.10
PIT_AREA_MM2 = (0.4, 30.0)
_PIT_WORKING_PX_PER_MM = 8.0
_PIT_BACKGROUND_MM = 6.0
_Y_WEIGHTS = np.array([0.2126, 0.7152, 0.0722])  # linear sRGB -> relative luminance


@dataclass(frozen=True)
class RegionColour:
    linear_rgb: np.ndarray
    lab: np.ndarray
    erythema_index: float
    melanin_index: float
    ita_deg: float
    ita_band: str

    def as_dict(self) -> dict[str, object]:
        return {
            "lab": [round(float(v), 3) for v in self.lab],
            "erythema_index": round(self.erythema_index, 3),
            "melanin_index": round(self.melanin_index, 3),
            "ita_deg": round(self.ita_deg, 3),
            "ita_band": self.ita_band,
        }


@dataclass(frozen=True)
class PitMeasure:
    """Count and total area of dark pits in a region; exploratory (clinical.md §8)."""

    count: int
    area_mm2: float
    exploratory: bool = True
    algorithm_version: str = ALGORITHM_VERSION

    def as_dict(self) -> dict[str, object]:
        return {
            "pit_count": self.count,
            "pit_area_mm2": round(self.area_mm2, 3),
            "label": "exploratory: 2D shadow measure, not scar depth",
        }


def erythema_index(linear_rgb: np.ndarray) -> float:
    """EI = 100·log10(R/G) on corrected linear RGB (clinical.md §8)."""
    r, g = _positive(linear_rgb[0], "red"), _positive(linear_rgb[1], "green")
    return 100.0 * math.log10(r / g)


def melanin_index(linear_rgb: np.ndarray) -> float:
    """MI = 100·log10(1/R) on corrected linear RGB (clinical.md §8)."""
    return 100.0 * math.log10(1.0 / _positive(linear_rgb[0], "red"))


def ita_degrees(lab: np.ndarray) -> float:
    """ITA° = arctan((L* − 50)/b*)·180/π in its atan2 form (clinical.md §8)."""
    return math.degrees(math.atan2(float(lab[0]) - 50.0, float(lab[2])))


def ita_band(ita: float) -> str:
    """Band of an ITA° value (clinical.md §8); each band includes its upper bound."""
    for bound, band in ITA_BANDS:
        if ita > bound:
            return band
    return DARKEST_BAND


def colour_of(linear_rgb: np.ndarray) -> RegionColour:
    """All colour metrics of one corrected linear sRGB colour."""
    linear_rgb = np.asarray(linear_rgb, dtype=np.float64)
    lab = linear_srgb_to_lab(linear_rgb)
    ita = ita_degrees(lab)
    return RegionColour(
        linear_rgb,
        lab,
        erythema_index(linear_rgb),
        melanin_index(linear_rgb),
        ita,
        ita_band(ita),
    )


def region_colour(
    rgb: np.ndarray, polygon: np.ndarray, correction: Correction, name: str
) -> RegionColour:
    """Metrics of a polygon region of an 8-bit photo, after colour correction."""
    crop, mask = region_mask(rgb, polygon, name)
    return colour_of(correction.region_mean(crop, mask))


def difference(scar: RegionColour, reference: RegionColour) -> dict[str, float]:
    """Scar minus reference: Δa*, ΔEI, ΔMI (clinical.md §8)."""
    return {
        "a_star": round(float(scar.lab[1] - reference.lab[1]), 3),
        "erythema_index": round(scar.erythema_index - reference.erythema_index, 3),
        "melanin_index": round(scar.melanin_index - reference.melanin_index, 3),
    }


def as_polygon(points: object, width: int, height: int, name: str, where: str = "") -> np.ndarray:
    """Validate a region's (x, y) points against the upright photo's size.

    Messages start with the region's name ("roi", "reference"), then `where` (e.g.
    " carried over to the follow-up"), so a form can put them on the right field.
    """
    label = f"{name} region{where}"
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ImagingError(f"{label}: points must be X,Y numbers") from exc
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise ImagingError(f"{label} needs at least 3 X,Y points")
    if not np.all(np.isfinite(pts)):
        raise ImagingError(f"{label}: points must be finite numbers")
    if len(pts) > MAX_REGION_POINTS:
        raise ImagingError(f"{label} has more than {MAX_REGION_POINTS} points")
    outside = (pts[:, 0] < -0.5) | (pts[:, 0] > width - 0.5)
    outside |= (pts[:, 1] < -0.5) | (pts[:, 1] > height - 0.5)
    if outside.any():
        x, y = pts[np.argmax(outside)]
        raise ImagingError(
            f"{label}: point ({x:.0f}, {y:.0f}) lies outside the {width}x{height} photo"
        )
    area = abs(_signed_area(pts))
    if area >= 1.0 and _self_intersects(pts) or area < 1.0 and _self_intersects(pts, strict=True):
        raise ImagingError(f"{label} crosses itself: draw its outline once around")
    if area < 1.0:
        raise ImagingError(f"{label} encloses no area (its points lie on a line)")
    if area < MIN_REGION_PIXELS:
        raise ImagingError(f"{label} is too small to measure ({area:.0f} square pixels)")
    return pts


def _signed_area(pts: np.ndarray) -> float:
    x, y = pts[:, 0], pts[:, 1]
    return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _self_intersects(pts: np.ndarray, strict: bool = False) -> bool:
    """Whether two non-adjacent edges of the closed polygon properly cross (vectorised,
    O(n²)); collinear touching, as on a straight line, is not a crossing. `strict` is
    accepted for the zero-area case and means the same test."""
    del strict
    a, b = pts, np.roll(pts, -1, axis=0)
    n = len(pts)

    def orient(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
        return np.sign(
            (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1])
            - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0])
        )

    a1, b1, a2, b2 = a[:, None], b[:, None], a[None, :], b[None, :]
    crosses = (orient(a1, b1, a2) * orient(a1, b1, b2) < 0) & (
        orient(a2, b2, a1) * orient(a2, b2, b1) < 0
    )
    i, j = np.triu_indices(n, k=2)
    adjacent = (i == 0) & (j == n - 1)
    return bool(np.any(crosses[i[~adjacent], j[~adjacent]]))


def region_mask(rgb: np.ndarray, polygon: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The polygon's bounding crop (a view) and mask; refuses regions too small to measure."""
    crop, mask = _crop_and_mask(rgb, as_polygon(polygon, rgb.shape[1], rgb.shape[0], name))
    count = int(np.count_nonzero(mask))
    if count < MIN_REGION_PIXELS:
        raise ImagingError(f"{name} region is too small to measure ({count} pixels)")
    return crop, mask


def pit_measure(
    rgb: np.ndarray, polygon: np.ndarray, correction: Correction, px_per_mm: float
) -> PitMeasure:
    """Exploratory: count and area (mm²) of dark pits inside a region.

    Works at 8-16 px/mm whatever the photo's resolution: pits are millimetres wide.
    Luminance is corrected linear Y; the skin around each pit is estimated by a
    morphological closing over ~6 mm, which ignores dark spots smaller than that.
    """
    crop, mask = _crop_and_mask(rgb, as_polygon(polygon, rgb.shape[1], rgb.shape[0], "roi"))
    # Reduce by a whole factor (OpenCV's fast path for area averaging), to no coarser
    # than the working resolution: 18.6 px/mm is read at 9.3.
    step = max(1, int(px_per_mm / _PIT_WORKING_PX_PER_MM))
    if step > 1:
        size = (max(1, crop.shape[1] // step), max(1, crop.shape[0] // step))
        h, w = size[1] * step, size[0] * step
        crop = cv2.resize(crop[:h, :w], size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask[:h, :w].astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    scale = px_per_mm / step  # working pixels per mm
    contrast = _darkness(crop, correction, scale)
    inside = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    pits = _hysteresis(np.where(inside, contrast, 0.0), PIT_EDGE, PIT_CORE)
    n, _, stats, _ = cv2.connectedComponentsWithStats(pits.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA] / scale**2
    keep = (areas >= PIT_AREA_MM2[0]) & (areas <= PIT_AREA_MM2[1])
    return PitMeasure(int(keep.sum()), float(areas[keep].sum()))


def _hysteresis(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Pixels above `low` connected (8-neighbour) to a pixel above `high`: Canny's
    hysteresis, here with OpenCV labels (scikit-image's pulls in SciPy, 0.3 s to import)."""
    n, labels = cv2.connectedComponents((values > low).astype(np.uint8), connectivity=8)
    keep = np.zeros(n, dtype=bool)
    keep[np.unique(labels[values > high])] = True
    keep[0] = False
    return keep[labels]


def _darkness(crop: np.ndarray, correction: Correction, px_per_mm: float) -> np.ndarray:
    """1 − Y/Y_surround: how much darker each pixel is than the skin around it."""
    lut = correction.lut()
    if correction.matrix.shape[0] == 3:
        # Y of the corrected colour is a weighted sum of the three curved channels: one
        # table lookup per channel and one weighted sum, in OpenCV (about 1 ms a MP).
        weights = (correction.matrix @ _Y_WEIGHTS).astype(np.float32)
        table = (lut * weights).astype(np.float32).reshape(1, 256, 3)
        summed = cv2.transform(cv2.LUT(np.ascontiguousarray(crop), table), np.ones((1, 3)))
        y: np.ndarray = np.clip(summed, 1e-4, None).astype(np.float32)
    else:
        pre = np.stack([lut[crop[..., c], c] for c in range(3)], axis=-1)
        y = np.clip(_luminance(pre, correction), 1e-4, None).astype(np.float32)
    # Blur away pores and pixel texture (~0.15 mm) before looking for millimetre pits.
    blurred = cv2.GaussianBlur(y, (0, 0), max(0.5, 0.15 * px_per_mm))
    return 1.0 - blurred / _surround(blurred, px_per_mm)


def _surround(y: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Skin brightness around each pixel: a closing that removes dark spots narrower than
    `_PIT_BACKGROUND_MM`, done at 2 px/mm (the surround is smooth) and scaled back up."""
    factor = min(1.0, 2.0 / px_per_mm)
    small = cv2.resize(y, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    k = max(3, int(_PIT_BACKGROUND_MM * px_per_mm * factor) | 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, disc, borderType=cv2.BORDER_REPLICATE)
    closed = cv2.GaussianBlur(closed, (0, 0), 1.0)
    return np.maximum(cv2.resize(closed, y.shape[::-1], interpolation=cv2.INTER_LINEAR), y)


def _luminance(pre: np.ndarray, correction: Correction) -> np.ndarray:
    if correction.matrix.shape[0] == 3:
        # Y of the corrected colour, folded into one weight vector: cheaper per pixel.
        return pre @ (correction.matrix @ _Y_WEIGHTS)
    return correction.apply_curved(pre) @ _Y_WEIGHTS


def _crop_and_mask(rgb: np.ndarray, polygon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = rgb.shape[:2]
    x0, y0 = np.maximum(np.floor(polygon.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(polygon.max(axis=0)).astype(int) + 1, [w, h])
    crop = rgb[y0:y1, x0:x1]
    mask = np.zeros(crop.shape[:2], dtype=np.uint8)
    fixed = np.round((polygon - [x0, y0]) * 16).astype(np.int32)
    cv2.fillPoly(mask, [fixed], 1, shift=4)
    return crop, mask.astype(bool)


def _positive(value: float, channel: str) -> float:
    if not value > 0:
        raise ImagingError(f"the region is too dark to measure ({channel} is zero)")
    return float(value)
