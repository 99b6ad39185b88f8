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
   candidate assignment is scored by how well one 3×3 matrix maps the sampled linear
   RGB onto the reference values. A colour cast cannot fool this: the true assignment
   fits whatever the cast, a permuted one does not.

Corners are the outer corners of the four corner patches (not the card's edge, which
varies between chart editions), in this order: beside "dark skin" (patch 1), beside
"bluish green" (6), beside "black" (24), beside "white" (19). A person clicking the
corners may click them in any order; `chart_from_corners` works out which is which the
same way. Patch colours are then sampled at full resolution, only inside the central
half of each patch, so borders, blur and JPEG ringing stay out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import product

import cv2
import numpy as np

from .charts import COLUMNS, DEFAULT_CHART, ROWS, ChartGeometry
from .colorimetry import REFERENCE_LINEAR_SRGB, SRGB_DECODE_LUT
from .decode import DecodedImage, reduce
from .errors import ImagingError

MIN_SQUARES = 8  # patches seen before we trust a lattice (of 24; black is often missed)
# Recognising the chart: relative RMS residual of a 3×3 fit from sampled to reference
# linear RGB. The true patch order scores 0.05-0.25 under casts and tone-curve errors;
# wrong orders and things that are not the chart score above 0.6.
MAX_ASSIGNMENT_RESIDUAL = 0.4
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
        return _apply_h(self.homography, pts.reshape(-1, 2)).reshape(24, 4, 2)


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
    """Detect the chart on a reduced copy; None when there is none to be found."""
    small = reduce(image, fast=True)
    squares = _flat_squares(small.rgb)
    lattice = _lattice(squares)
    if lattice is None:
        return None
    indices, centres = lattice
    cell_to_px = _best_assignment(small.rgb, indices, centres)
    if cell_to_px is None:
        return None
    f = geometry.patch_mm / geometry.pitch_mm / 2
    cells = np.array([[-f, -f], [COLUMNS - 1 + f, -f], [COLUMNS - 1 + f, ROWS - 1 + f]])
    cells = np.vstack([cells, [[-f, ROWS - 1 + f]]])
    corners = _to_full(_apply_h(cell_to_px, cells), small)
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
        centres = _apply_h(location.homography, geometry.patch_centres_mm())
        centres = (centres + 0.5) / np.array([sx, sy]) - 0.5
        score = _assignment_residual(_window_means(small.rgb, centres, _radius(centres)))
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


def channel_histograms(crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(256, 3) counts of each 8-bit code value per channel where mask is non-zero."""
    mask8 = mask.astype(np.uint8, copy=False)
    hists = [cv2.calcHist([crop], [c], mask8, [256], [0, 256]).ravel() for c in range(3)]
    return np.stack(hists, axis=1).astype(np.float64)


# --- detection internals -------------------------------------------------------------


def _flat_squares(rgb: np.ndarray) -> np.ndarray:
    """Rows of (cx, cy, side, angle_deg in [0, 90)) for flat, square components."""
    blur = cv2.GaussianBlur(rgb, (5, 5), 0)
    r, g, b = cv2.split(cv2.morphologyEx(blur, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)))
    grad = cv2.max(cv2.max(r, g), b)
    # Threshold well above the gradient of noise and skin texture, which most pixels show.
    cumulative = np.cumsum(cv2.calcHist([grad], [0], None, [256], [0, 256]).ravel())
    median = int(np.searchsorted(cumulative, cumulative[-1] / 2))
    threshold = max(10.0, 3.0 * median)
    flat = (grad <= threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(flat, connectivity=4)
    area_min = max(60.0, rgb.shape[0] * rgb.shape[1] * 1e-4)
    area_max = rgb.shape[0] * rgb.shape[1] * 0.05
    area = stats[:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero((area >= area_min) & (area <= area_max))
    squares = [_square(labels, stats[k], int(k)) for k in keep if k != 0]
    return np.array([s for s in squares if s is not None]).reshape(-1, 4)


def _square(labels: np.ndarray, stat: np.ndarray, k: int) -> tuple[float, ...] | None:
    x, y, w, h, area = (int(v) for v in stat)
    mask = (labels[y : y + h, x : x + w] == k).astype(np.uint8)
    # Every outline pixel, not just turning points: the sides are fitted to them below.
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=cv2.contourArea)
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
    if min(rw, rh) < 4 or max(rw, rh) > 1.3 * min(rw, rh) or area < 0.8 * rw * rh:
        return None
    px, py = _projective_centre(contour, (cx, cy))
    if np.hypot(px - cx, py - cy) < 0.15 * min(rw, rh):  # else the fit went astray
        cx, cy = px, py
    return cx + x, cy + y, float(np.sqrt(area)), angle % 90.0


def _projective_centre(contour: np.ndarray, fallback: tuple[float, float]) -> tuple[float, float]:
    """Where the diagonals of the patch's quadrilateral cross: the true centre of a square
    seen in perspective (a centroid or bounding-box centre leans toward the near side).

    Each side is a straight line fitted to its stretch of the outline, which is far
    steadier than the outline's pixel-rounded corners.
    """
    points = contour.reshape(-1, 2)
    approx = cv2.approxPolyDP(contour, 0.04 * cv2.arcLength(contour, True), True)
    if len(approx) != 4:
        return fallback
    at = [int(np.argmin(np.abs(points - v).sum(axis=1))) for v in approx.reshape(-1, 2)]
    sides = [_side_line(points, at[i], at[(i + 1) % 4]) for i in range(4)]
    lines = [line for line in sides if line is not None]
    if len(lines) != 4:
        return fallback
    crossings = [_cross(lines[i - 1], lines[i]) for i in range(4)]
    corners = [c for c in crossings if c is not None]
    if len(corners) != 4:
        return fallback
    centre = _cross((corners[0], corners[2] - corners[0]), (corners[1], corners[3] - corners[1]))
    return fallback if centre is None else (float(centre[0]), float(centre[1]))


def _side_line(points: np.ndarray, start: int, end: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(point, direction) of a line fitted to the outline between two corners, leaving out
    a fifth at each end where the corner rounds off."""
    run = np.roll(points, -start, axis=0)[: (end - start) % len(points) + 1]
    trim = len(run) // 5
    run = run[trim : len(run) - trim] if len(run) - 2 * trim >= 2 else run
    if len(run) < 2:
        return None
    vx, vy, x0, y0 = cv2.fitLine(run.astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01).ravel()
    return np.array([x0, y0], dtype=float), np.array([vx, vy], dtype=float)


def _cross(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    """Intersection of two lines given as (point, direction)."""
    (p, d), (q, e) = a, b
    denom = d[0] * e[1] - d[1] * e[0]
    if abs(denom) < 1e-9:
        return None
    t = ((q[0] - p[0]) * e[1] - (q[1] - p[1]) * e[0]) / denom
    return p + t * d


def _lattice(squares: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer lattice indices and pixel centres of the largest linked group of squares."""
    if len(squares) < MIN_SQUARES:
        return None
    links = _neighbour_links(squares)
    group = _largest_group(len(squares), links)
    if len(group) < MIN_SQUARES:
        return None
    index = _walk(squares, group, links)
    members = np.array(sorted(index))
    ij = np.array([index[m] for m in members], dtype=np.float64)
    centres = squares[members, :2]
    pitch = float(np.median(squares[members, 2])) * 1.15
    h, inliers = cv2.findHomography(ij, centres, cv2.RANSAC, 0.1 * pitch)
    if h is None:
        return None
    ok = inliers.ravel().astype(bool)
    ij, centres = ij[ok], centres[ok]
    span = ij.max(axis=0) - ij.min(axis=0) + 1
    fits = (span[0] <= COLUMNS and span[1] <= ROWS) or (span[0] <= ROWS and span[1] <= COLUMNS)
    if len(ij) < MIN_SQUARES or not fits or min(span) < 2:
        return None
    return ij.astype(int), centres


def _neighbour_links(squares: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of similar squares one pitch apart along their own axes."""
    centres, sides, angles = squares[:, :2], squares[:, 2], squares[:, 3]
    d = centres[None, :, :] - centres[:, None, :]
    dist = np.hypot(d[..., 0], d[..., 1])
    side = (sides[:, None] + sides[None, :]) / 2
    ratio = sides[None, :] / sides[:, None]
    turn = np.abs((angles[None, :] - angles[:, None] + 45) % 90 - 45)
    # Direction of the link, folded like the squares' angles, must match square a's axes.
    heading = np.rad2deg(np.arctan2(d[..., 1], d[..., 0])) % 90
    skew = np.abs((heading - angles[:, None] + 45) % 90 - 45)
    ok = (ratio > 0.75) & (ratio < 1.33) & (dist > side) & (dist < 1.8 * side)
    ok &= (turn < 12) & (skew < 12)
    a, b = np.nonzero(ok)
    return list(zip(a.tolist(), b.tolist(), strict=True))


def _largest_group(n: int, links: list[tuple[int, int]]) -> list[int]:
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in links:
        parent[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return max(groups.values(), key=len)


def _walk(
    squares: np.ndarray, group: list[int], links: list[tuple[int, int]]
) -> dict[int, tuple[int, int]]:
    """Breadth-first lattice indices, stepping along the group's mean axes."""
    members = set(group)
    # Mean orientation of the group; angles are periodic in 90°, so average 4θ.
    quad = np.deg2rad(squares[group, 3] * 4)
    theta = np.arctan2(np.sin(quad).mean(), np.cos(quad).mean()) / 4
    axes = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    neighbours: dict[int, list[int]] = {}
    for a, b in links:
        if a in members:
            neighbours.setdefault(a, []).append(b)
    seed = max(group, key=lambda m: len(neighbours.get(m, [])))
    index = {seed: (0, 0)}
    queue = deque([seed])
    while queue:
        a = queue.popleft()
        for b in neighbours.get(a, []):
            if b not in index:
                u, v = axes @ (squares[b, :2] - squares[a, :2])
                step = (int(np.sign(u)), 0) if abs(u) > abs(v) else (0, int(np.sign(v)))
                index[b] = (index[a][0] + step[0], index[a][1] + step[1])
                queue.append(b)
    return index


# Signed permutation matrices: lattice axes vs chart (column, row), mirrored or not.
_ORIENTATIONS = [
    np.array(m, dtype=int)
    for m in (
        [[1, 0], [0, 1]],
        [[0, -1], [1, 0]],
        [[-1, 0], [0, -1]],
        [[0, 1], [-1, 0]],
        [[-1, 0], [0, 1]],
        [[0, 1], [1, 0]],
        [[1, 0], [0, -1]],
        [[0, -1], [-1, 0]],
    )
]


def _best_assignment(rgb: np.ndarray, ij: np.ndarray, centres: np.ndarray) -> np.ndarray | None:
    """Homography from chart cell (column, row) to pixels for the best colour fit."""
    lattice_h, _ = cv2.findHomography(ij.astype(np.float64), centres, 0)
    cells = np.stack(np.divmod(np.arange(24), COLUMNS)[::-1], axis=1)  # (col, row)
    best, best_score = None, MAX_ASSIGNMENT_RESIDUAL
    lo, hi = ij.min(axis=0), ij.max(axis=0)
    for a in _ORIENTATIONS:
        mapped = cells @ a.T
        for t in _offsets(mapped, lo, hi):
            cell_h = lattice_h @ np.array(
                [[a[0, 0], a[0, 1], t[0]], [a[1, 0], a[1, 1], t[1]], [0, 0, 1]], dtype=np.float64
            )
            px = _apply_h(cell_h, cells.astype(np.float64))
            if not _inside(px, rgb.shape, margin=2):
                continue
            score = _assignment_residual(_window_means(rgb, px, _radius(px)))
            if score < best_score:
                best, best_score = cell_h, score
    return best


def _offsets(mapped: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[tuple[int, int]]:
    """Translations that put every observed lattice index inside the chart."""
    m_lo, m_hi = mapped.min(axis=0), mapped.max(axis=0)
    ranges = [range(int(hi[k] - m_hi[k]), int(lo[k] - m_lo[k]) + 1) for k in range(2)]
    return list(product(ranges[0], ranges[1]))


def _assignment_residual(linear: np.ndarray) -> float:
    """Relative RMS error of the best 3×3 map from sampled to reference linear RGB."""
    m, *_ = np.linalg.lstsq(linear, REFERENCE_LINEAR_SRGB, rcond=None)
    residual = linear @ m - REFERENCE_LINEAR_SRGB
    return float(np.sqrt(np.sum(residual**2) / np.sum(REFERENCE_LINEAR_SRGB**2)))


def _window_means(rgb: np.ndarray, px: np.ndarray, radius: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    out = np.zeros((len(px), 3))
    for k, (x, y) in enumerate(np.round(px).astype(int)):
        x0, x1 = max(0, x - radius), min(w, x + radius + 1)
        y0, y1 = max(0, y - radius), min(h, y + radius + 1)
        window = rgb[y0:y1, x0:x1].reshape(-1, 3)
        out[k] = SRGB_DECODE_LUT[window].mean(axis=0) if len(window) else 0.0
    return out


def _radius(px: np.ndarray) -> int:
    """A window radius of about a fifth of the patch pitch (row neighbours are adjacent)."""
    grid = px.reshape(ROWS, COLUMNS, 2)
    pitch = float(np.median(np.linalg.norm(np.diff(grid, axis=1), axis=2)))
    return max(1, int(pitch * 0.2))


def _inside(px: np.ndarray, shape: tuple[int, ...], margin: float) -> bool:
    h, w = shape[:2]
    return bool(
        np.all(px[:, 0] >= margin)
        and np.all(px[:, 0] < w - margin)
        and np.all(px[:, 1] >= margin)
        and np.all(px[:, 1] < h - margin)
    )


# --- geometry helpers ----------------------------------------------------------------


def _apply_h(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    out = cv2.perspectiveTransform(pts[None], h)[0]
    return out


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
