"""Find the 24-patch ColorChecker Classic in a photo and sample its patches.

Decision: scarrx uses its own OpenCV detection, not the colour-checker-detection package.
That package needs the GUI build `opencv-python` plus `openimageio` (heavy, wants system
GL libraries), and two wheels that both own `cv2` break each other; scarrx ships
`opencv-python-headless`. The chart is also an easy target for a small detector: a
lattice of flat, square patches separated by dark gaps.

How detection works, on a reduced copy (about 0.75 MP, sampled bilinearly; a full
12 MP search would cost many times the decode, and the lattice is no harder to see at
this size):

1. Flat regions are pixels whose local colour gradient is below a noise-adaptive
   threshold; each patch interior is one flat, nearly square connected component.
2. Squares of similar size whose centres sit one pitch apart along their own axes are
   linked; the largest linked group is the chart's patches. Walking the links gives each
   patch integer lattice indices, and a RANSAC homography maps indices to pixels.
3. Which lattice cell is which patch (4 rotations, mirrored or not, and the offset when
   some patches were missed, e.g. black on the black card) is decided by colour: each
   candidate assignment is scored by how well a power law per channel (fitted on the
   cells it calls the neutral ramp) and one 3×3 matrix map the sampled linear RGB onto
   the reference values, and whether its neutral ramp darkens from white to black as
   any tone curve keeps it. A colour cast or a camera's tone curve cannot fool this:
   the true assignment fits whatever they are, a permuted one does not (figures at
   MAX_ASSIGNMENT_RESIDUAL).
   Every linked group of squares is tried, so the other page of a Passport does not
   hide the chart.

Corners are the outer corners of the four corner patches (not the card's edge, which
varies between chart editions), in this order: beside "dark skin" (patch 1), beside
"bluish green" (6), beside "black" (24), beside "white" (19). A person clicking the
corners may click them in any order; `chart_from_corners` works out which is which the
same way. Patch colours are then sampled at full resolution, only inside the central
half of each patch, so borders, blur and JPEG ringing stay out.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .charts import COLUMNS, DEFAULT_CHART, ROWS, ChartGeometry
from .colorimetry import SRGB_DECODE_LUT
from .decode import REDUCED_LONG_SIDE, DecodedImage, reduce
from .errors import ImagingError
from .lattice import (
    MAX_ASSIGNMENT_RESIDUAL,
    MIN_CHART_PX,
    MIN_SQUARE_AREA,
    TINY_SQUARE_AREA,
    apply_h,
    assignment_residual,
    best_assignment,
    flat_squares,
    lattices,
    window_means,
    window_radius,
)

__all__ = [
    "MAX_ASSIGNMENT_RESIDUAL",
    "MIN_CHART_PX",
    "ChartLocation",
    "ChartSearch",
    "PatchSamples",
    "chart_from_corners",
    "find_chart",
    "sample_patches",
    "search_chart",
]

SAMPLE_FRACTION = 0.5  # sample the central half (by side) of each patch


@dataclass(frozen=True)
class ChartLocation:
    """Where the chart is, in full-resolution pixels of the upright photo."""

    corners: np.ndarray  # (4, 2), canonical order (see module docstring)
    homography: np.ndarray  # chart-plane mm -> full-resolution pixels
    geometry: ChartGeometry
    source: str  # "detected" or "given"

    @property
    def px_per_mm(self) -> float:
        """Mean of the four edges' pixel lengths over their lengths in mm."""
        c = self.corners
        edges = np.linalg.norm(np.roll(c, -1, axis=0) - c, axis=1)
        mm = np.array([self.geometry.width_mm, self.geometry.height_mm] * 2)
        return float(np.mean(edges / mm))

    def patch_polygons(self, fraction: float = SAMPLE_FRACTION) -> np.ndarray:
        """(24, 4, 2) pixel quads covering the central `fraction` of each patch."""
        half = self.geometry.patch_mm * fraction / 2
        offsets = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
        pts = self.geometry.patch_centres_mm()[:, None, :] + offsets[None]
        return apply_h(self.homography, pts.reshape(-1, 2)).reshape(24, 4, 2)


@dataclass(frozen=True)
class PatchSamples:
    """Mean linear RGB of each patch, and which patches cannot be used and why:
    "over-exposed" (clipped), "out of frame", or "partly shadowed" (its four quarters
    differ in brightness by more than `UNEVEN_PATCH`: a shadow's edge crosses it)."""

    linear_rgb: np.ndarray  # (24, 3)
    unusable: np.ndarray  # (24,) bool
    why: tuple[str, ...] = ()  # per patch, "" when usable; empty tuple: not recorded

    def reasons(self) -> dict[int, str]:
        """Unusable patch index -> why."""
        why = self.why or ("unusable",) * 24
        return {int(k): why[k] for k in np.flatnonzero(self.unusable)}


def find_chart(
    image: DecodedImage, geometry: ChartGeometry = DEFAULT_CHART
) -> ChartLocation | None:
    """Detect the chart; None when there is none to be found (`search_chart` says more)."""
    return search_chart(image, geometry).location


@dataclass(frozen=True)
class ChartSearch:
    """What a search found: the chart, or a chart too small to measure (its long side in
    full-resolution pixels), or neither."""

    location: ChartLocation | None
    too_small_px: float | None = None


def search_chart(image: DecodedImage, geometry: ChartGeometry = DEFAULT_CHART) -> ChartSearch:
    """Look for the chart on a reduced copy first (about 1000 px), then at twice and four
    times that resolution while the photo has more: a chart far from the camera is too
    small to see on the reduced copy (its patches must be about 14 px apart there), and
    a photo with a chart pays only for the first look. When none is found at full
    resolution, a last look with smaller squares allowed tells a chart too small to
    measure from no chart at all."""
    long_side, relative = REDUCED_LONG_SIDE, True
    while True:
        small = reduce(image, long_side, fast=True)
        location = _detect(small, geometry, MIN_SQUARE_AREA, relative)
        if location is not None:
            return ChartSearch(location)
        if small is image:
            break
        long_side, relative = long_side * 2, False
    tiny = _detect(small, geometry, TINY_SQUARE_AREA, False)
    if tiny is None:
        return ChartSearch(None)
    c = tiny.corners
    side = max(float(np.linalg.norm(c[1] - c[0])), float(np.linalg.norm(c[3] - c[0])))
    return ChartSearch(None, side)


def _detect(
    small: DecodedImage, geometry: ChartGeometry, min_area: float, relative: bool
) -> ChartLocation | None:
    """The chart on one copy: patches of at least `min_area` px (and, on the first look,
    at least 1/10 000 of the copy, which keeps skin texture out). Every linked group of
    squares big enough is tried (a Passport's other page is a lattice too) and the best
    colour fit wins."""
    pixels = small.rgb.shape[0] * small.rgb.shape[1]
    squares = flat_squares(small.rgb, max(min_area, pixels * 1e-4) if relative else min_area)
    best: tuple[float, np.ndarray] | None = None
    for indices, centres in lattices(squares):
        found = best_assignment(small.rgb, indices, centres)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    if best is None:
        return None
    f = geometry.patch_mm / geometry.pitch_mm / 2
    cells = np.array([[-f, -f], [COLUMNS - 1 + f, -f], [COLUMNS - 1 + f, ROWS - 1 + f]])
    cells = np.vstack([cells, [[-f, ROWS - 1 + f]]])
    corners = _to_full(apply_h(best[1], cells), small)
    return _location(corners, geometry, "detected")


def chart_from_corners(
    image: DecodedImage, corners: object, geometry: ChartGeometry = DEFAULT_CHART
) -> ChartLocation:
    """The chart framed by four clicked corners (any order), oriented by its colours."""
    pts = _four_points(corners, image)
    clockwise = _clockwise(pts)
    candidates = [np.roll(clockwise, -k, axis=0) for k in range(4)]
    candidates += [np.roll(clockwise[::-1], -k, axis=0) for k in range(4)]
    small = reduce(image, fast=True)
    best, best_score = candidates[0], np.inf
    for order in candidates:
        location = _location(order, geometry, "given")
        sx, sy = small.scale
        centres = apply_h(location.homography, geometry.patch_centres_mm())
        centres = (centres + 0.5) / np.array([sx, sy]) - 0.5
        score = assignment_residual(window_means(small.rgb, centres, window_radius(centres)))
        if score < best_score:
            best, best_score = order, score
    return _location(best, geometry, "given")


UNEVEN_PATCH = 1.25  # brightest quarter / darkest quarter of one patch


def sample_patches(rgb: np.ndarray, location: ChartLocation) -> PatchSamples:
    """Mean linear RGB inside the central half of each patch, at full resolution.

    Each sampled square is read as four quarters (exactly, from each quarter's channel
    histograms); their mean is the patch's, their spread says whether light is even
    across the patch.
    """
    h, w = rgb.shape[:2]
    means = np.ones((24, 3))
    why = [""] * 24
    for k, quad in enumerate(location.patch_polygons()):
        x0, y0 = np.floor(quad.min(axis=0)).astype(int)
        x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 1
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
            why[k] = "out of frame"
            continue
        quarters = _quarter_histograms(rgb[y0:y1, x0:x1], quad - [x0, y0])  # (4, 256, 3)
        counts = quarters.sum(axis=0)
        total = counts[:, 0].sum()
        if total == 0 or quarters[:, :, 0].sum(axis=1).min() == 0:
            raise ImagingError("the chart is too small in the photo to measure")
        # Mean in linear light, exactly, from each channel's histogram.
        means[k] = (counts * SRGB_DECODE_LUT[:, None]).sum(axis=0) / total
        lum = (quarters * SRGB_DECODE_LUT[None, :, None]).sum(axis=(1, 2))
        lum = lum / quarters[:, :, 0].sum(axis=1)
        # More than a sliver of saturated pixels: the mean is not the patch's colour.
        if counts[254:].sum(axis=0).max() > 0.02 * total:
            why[k] = "over-exposed"
        elif lum.max() > UNEVEN_PATCH * max(lum.min(), 1e-4) and lum.max() > 0.02:
            why[k] = "partly shadowed"
    unusable = np.array([bool(reason) for reason in why])
    return PatchSamples(means, unusable, tuple(why))


def _quarter_histograms(crop: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """(4, 256, 3) counts of each 8-bit code value per channel in the four quarters of a
    sampled quad (corner q, the midpoints beside it and the centre): one label image
    and one bincount per channel."""
    centre = quad.mean(axis=0)
    labels = np.zeros(crop.shape[:2], dtype=np.uint8)
    for q in range(4):
        a, b, c = quad[q], quad[(q + 1) % 4], quad[(q - 1) % 4]
        piece = np.array([a, (a + b) / 2, centre, (a + c) / 2])
        cv2.fillConvexPoly(labels, np.round(piece * 16).astype(np.int32), q + 1, shift=4)
    index = labels.astype(np.intp).ravel() * 256
    counts = [np.bincount(index + crop[..., c].ravel(), minlength=5 * 256) for c in range(3)]
    return np.stack(counts, axis=-1).reshape(5, 256, 3)[1:].astype(np.float64)


# --- geometry helpers ----------------------------------------------------------------


def _to_full(pts: np.ndarray, image: DecodedImage) -> np.ndarray:
    """Reduced-copy pixel coordinates to full resolution (pixel centres line up)."""
    sx, sy = image.scale
    return (pts + 0.5) * np.array([sx, sy]) - 0.5


def _location(corners: np.ndarray, geometry: ChartGeometry, source: str) -> ChartLocation:
    corners = np.asarray(corners, dtype=np.float64)
    h = cv2.getPerspectiveTransform(
        geometry.corners_mm().astype(np.float32), corners.astype(np.float32)
    )
    return ChartLocation(corners, h, geometry, source)


def _four_points(corners: object, image: DecodedImage) -> np.ndarray:
    try:
        pts = np.asarray(corners, dtype=np.float64).reshape(4, 2)
    except (TypeError, ValueError) as exc:
        raise ImagingError("chart corners: give exactly four X,Y points") from exc
    if not np.all(np.isfinite(pts)):
        raise ImagingError("chart corners: coordinates must be numbers")
    w, h = image.full_width, image.full_height
    # Corners found by detection may lie just off the frame when the chart touches its
    # edge (patches out of frame are then left out); far off means a wrong point.
    slack = np.array([w, h]) * 0.25
    if np.any(pts < -slack) or np.any(pts > np.array([w - 1, h - 1]) + slack):
        raise ImagingError(f"chart corners: a point lies outside the {w}x{h} photo")
    if abs(_signed_area(_clockwise(pts))) < 100:
        raise ImagingError("chart corners: the four points do not enclose an area")
    return pts


def _clockwise(pts: np.ndarray) -> np.ndarray:
    """Order points by angle about their centroid (clockwise on screen, y down)."""
    centre = pts.mean(axis=0)
    angle = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    return pts[np.argsort(angle)]


def _signed_area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
