"""Finding the ColorChecker's patch lattice in a (reduced) photo and recognising which
cell is which patch: the detection steps 1-3 of `chart.py`'s docstring.

Written for scarrx with OpenCV primitives (connected components, contours, homographies).
"""

from __future__ import annotations

from collections import deque
from itertools import product

import cv2
import numpy as np

from .charts import COLUMNS, ROWS
from .colorimetry import NEUTRAL_PATCHES, REFERENCE_LINEAR_SRGB, SRGB_DECODE_LUT
from .correction import fit_correction, light_field

MIN_SQUARES = 8  # patches seen before we trust a lattice (of 24; black is often missed)
MIN_SQUARE_AREA = 60.0  # px of a patch's flat interior, in the copy searched
TINY_SQUARE_AREA = 12.0  # the last look, for a chart too small to measure
EDGE_PX = 4.0  # how much narrower a patch's flat interior is than the patch, px
MIN_CHART_PX = 150  # long side a chart needs in the photo to be found and measured
# Recognising the chart (`assignment_residual`). Measured on the 22 public real photos
# (phones, a machine-vision camera without white balance, a Passport in haze) and the
# realistic and cast phantoms: the true order scores 0.03-0.18, the best wrong one 1.2
# or more (0.61 or more without the ramp term), at least 8.7 times the true order's on
# every photo. A plain 3×3 fit, as before, gave the machine-vision camera's true order
# 0.26-0.33 against 0.69 for a wrong one. One shadowed or clipped step of the ramp
# costs a true order 0.2 and still passes. Light 2.9-5.1 times stronger on one side of
# the chart than the other lifts the true order to 0.37-0.63; when no order passes,
# `lit_residual` (the light's gradient fitted too) scores the true ones 0.07-0.18 and
# the wrong ones 0.64 or more, on the same photos.
MAX_ASSIGNMENT_RESIDUAL = 0.45
RAMP_REVERSAL = 0.2
_NEUTRAL_REFERENCE = REFERENCE_LINEAR_SRGB[list(NEUTRAL_PATCHES)]


def flat_squares(rgb: np.ndarray, min_area: float = 60.0) -> np.ndarray:
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
    pixels = rgb.shape[0] * rgb.shape[1]
    area = stats[:, cv2.CC_STAT_AREA]
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    # Cheap tests on the bounding box first (a square at any angle fills at least half
    # of its box, whose sides differ by under 1.5×), then the outline of what is left.
    boxy = (np.minimum(w, h) * 1.5 >= np.maximum(w, h)) & (area >= 0.45 * w * h)
    keep = np.flatnonzero((area >= min_area) & (area <= pixels * 0.05) & boxy)
    smallest = 3 if min_area < MIN_SQUARE_AREA else 4
    squares = [_square(labels, stats[k], int(k), smallest) for k in keep if k != 0]
    return np.array([s for s in squares if s is not None]).reshape(-1, 4)


def _square(
    labels: np.ndarray, stat: np.ndarray, k: int, smallest: int = 4
) -> tuple[float, ...] | None:
    x, y, w, h, area = (int(v) for v in stat)
    mask = (labels[y : y + h, x : x + w] == k).astype(np.uint8)
    # Every outline pixel, not just turning points: the sides are fitted to them below.
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=cv2.contourArea)
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
    if min(rw, rh) < smallest or max(rw, rh) > 1.3 * min(rw, rh) or area < 0.8 * rw * rh:
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


def lattices(squares: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Integer lattice indices and pixel centres of each linked group of squares that
    could be the chart, largest first."""
    if len(squares) < MIN_SQUARES:
        return []
    links = _neighbour_links(squares)
    found = []
    for group in _groups(len(squares), links):
        if len(group) < MIN_SQUARES:
            break
        lattice = _lattice(squares, group, links)
        if lattice is not None:
            found.append(lattice)
    return found


def _lattice(
    squares: np.ndarray, group: list[int], links: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray] | None:
    index = _walk(squares, group, links)
    members = np.array(sorted(index))
    ij = np.array([index[m] for m in members], dtype=np.float64)
    centres = squares[members, :2]
    pitch = (float(np.median(squares[members, 2])) + EDGE_PX) * 1.15
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
    # A flat interior is about EDGE_PX narrower than its patch (the blur and gradient eat
    # into every edge), which matters for small patches: compare and space the patches.
    patch = sides + EDGE_PX
    ratio = patch[None, :] / patch[:, None]
    turn = np.abs((angles[None, :] - angles[:, None] + 45) % 90 - 45)
    # Direction of the link, folded like the squares' angles, must match square a's axes.
    heading = np.rad2deg(np.arctan2(d[..., 1], d[..., 0])) % 90
    skew = np.abs((heading - angles[:, None] + 45) % 90 - 45)
    # The angle of a square a few pixels wide is known to a pixel's worth, no better.
    tolerance = np.maximum(12.0, np.rad2deg(np.arctan2(1.5, side)))
    ok = (ratio > 0.75) & (ratio < 1.33) & (dist > side) & (dist < 1.8 * (side + EDGE_PX))
    ok &= (turn < tolerance) & (skew < tolerance)
    a, b = np.nonzero(ok)
    return list(zip(a.tolist(), b.tolist(), strict=True))


def _groups(n: int, links: list[tuple[int, int]]) -> list[list[int]]:
    """Connected groups of linked squares, largest first."""
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
    return sorted(groups.values(), key=len, reverse=True)


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


def best_assignment(
    rgb: np.ndarray, ij: np.ndarray, centres: np.ndarray
) -> tuple[float, np.ndarray] | None:
    """(score, homography from chart cell (column, row) to pixels) of the best colour fit
    scoring under MAX_ASSIGNMENT_RESIDUAL, or None.

    Light far stronger on one side of the chart bends every assignment's fit (3.8×
    gradient took the true order's score to 0.50); when none passes, each is scored
    again with the light's gradient fitted as well (`lit_residual`)."""
    scored = candidates(rgb, ij, centres)
    best = min(scored, key=lambda c: c[0], default=None)
    if best is not None and best[0] >= MAX_ASSIGNMENT_RESIDUAL:
        lit = [(lit_residual(linear), h, linear) for _, h, linear in scored]
        best = min(lit, key=lambda c: c[0])
    return (best[0], best[1]) if best is not None and best[0] < MAX_ASSIGNMENT_RESIDUAL else None


def candidates(
    rgb: np.ndarray, ij: np.ndarray, centres: np.ndarray
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Every way the lattice could be the chart (8 orientations, and offsets when some
    patches were missed): its colour-fit score, homography and sampled linear RGB."""
    lattice_h, _ = cv2.findHomography(ij.astype(np.float64), centres, 0)
    cells = np.stack(np.divmod(np.arange(24), COLUMNS)[::-1], axis=1)  # (col, row)
    lo, hi = ij.min(axis=0), ij.max(axis=0)
    out = []
    for a in _ORIENTATIONS:
        mapped = cells @ a.T
        for t in _offsets(mapped, lo, hi):
            cell_h = lattice_h @ np.array(
                [[a[0, 0], a[0, 1], t[0]], [a[1, 0], a[1, 1], t[1]], [0, 0, 1]], dtype=np.float64
            )
            px = apply_h(cell_h, cells.astype(np.float64))
            if _inside(px, rgb.shape, margin=2):
                linear = window_means(rgb, px, window_radius(px))
                out.append((assignment_residual(linear), cell_h, linear))
    return out


def lit_residual(linear: np.ndarray) -> float:
    """`assignment_residual` with the light's gradient across the chart fitted too: the
    calibration's own power-law correction (`correction.fit_correction`, fitted in linear
    RGB: the ΔE2000 objective's reweighting would favour a wrong order's few good
    patches), unweighted relative RMS error, and ramp reversals counted after the light
    is divided out."""
    correction = fit_correction(
        linear, REFERENCE_LINEAR_SRGB, "neutral_gamma+matrix3x3", objective="rgb"
    )
    residual = correction.apply(linear, np.arange(24)) - REFERENCE_LINEAR_SRGB
    fit = float(np.sqrt(np.sum(residual**2) / np.sum(REFERENCE_LINEAR_SRGB**2)))
    lit = light_field(correction.gradient, np.array(NEUTRAL_PATCHES))
    neutrals = np.maximum(linear[NEUTRAL_PATCHES, :], 1e-4) / lit[:, None]
    reversals = int(np.sum(np.diff(neutrals, axis=0) > 0.02 * neutrals[:-1]))
    return fit + RAMP_REVERSAL * reversals


def _offsets(mapped: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[tuple[int, int]]:
    """Translations that put every observed lattice index inside the chart."""
    m_lo, m_hi = mapped.min(axis=0), mapped.max(axis=0)
    ranges = [range(int(hi[k] - m_hi[k]), int(lo[k] - m_lo[k]) + 1) for k in range(2)]
    return list(product(ranges[0], ranges[1]))


def assignment_residual(linear: np.ndarray) -> float:
    """How badly an assignment of sampled colours to patches fits the chart (module
    docstring): the relative RMS error of the best 3×3 map to the reference linear RGB,
    after a power law per channel fitted on the six cells the assignment calls the
    neutral ramp, plus RAMP_REVERSAL for each step where that ramp gets brighter
    instead of darker (by more than 2 %: clipped whites may tie)."""
    neutrals = np.maximum(linear[NEUTRAL_PATCHES, :], 1e-4)
    curved = np.empty_like(linear)
    for c in range(3):
        slope = np.polyfit(np.log(neutrals[:, c]), np.log(_NEUTRAL_REFERENCE[:, c]), 1)[0]
        curved[:, c] = np.maximum(linear[:, c], 1e-6) ** np.clip(slope, 0.3, 3.0)
    m, *_ = np.linalg.lstsq(curved, REFERENCE_LINEAR_SRGB, rcond=None)
    residual = curved @ m - REFERENCE_LINEAR_SRGB
    fit = float(np.sqrt(np.sum(residual**2) / np.sum(REFERENCE_LINEAR_SRGB**2)))
    reversals = int(np.sum(np.diff(neutrals, axis=0) > 0.02 * neutrals[:-1]))
    return fit + RAMP_REVERSAL * reversals


def window_means(rgb: np.ndarray, px: np.ndarray, radius: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    out = np.zeros((len(px), 3))
    for k, (x, y) in enumerate(np.round(px).astype(int)):
        x0, x1 = max(0, x - radius), min(w, x + radius + 1)
        y0, y1 = max(0, y - radius), min(h, y + radius + 1)
        window = rgb[y0:y1, x0:x1].reshape(-1, 3)
        out[k] = SRGB_DECODE_LUT[window].mean(axis=0) if len(window) else 0.0
    return out


def window_radius(px: np.ndarray) -> int:
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


def apply_h(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    out = cv2.perspectiveTransform(pts[None], h)[0]
    return out
