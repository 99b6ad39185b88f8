"""Light on the chart, as its black frame shows it (issue 8, part 3).

The gaps between the patches are the card's own black, one material throughout, so
where they differ the light differs. `frame_dip` samples the middle of each of the 38
gaps between neighbouring patches, fits a plane to their log luminance and returns how
far the darkest gap falls below it.

What the frame can and cannot say was measured (the figures are log luminance):

- The gradient of the light across the chart. On the phantoms, the gaps give it to
  within 0.02 of the truth. On the ten real photos of a Classic lying on a white sheet
  (benchmarks/real_photos.json), their left-to-right gradient disagreed with the sheet
  around the card by up to 0.7 (a factor of 4 across the card), while the gradient
  fitted to the 24 patches, the neutral row among them (correction.py), agreed with the
  sheet to about 0.06. The card's black takes glare and flare that the matte patches do
  not, and at a reflectance of a few per cent any stray light is a large part of what
  it returns. So the gradient, and the warning or refusal for uneven light, come from
  the patches; not from the frame.
- A shadow's dark band. On the 21 real photos without a shadow no gap fell more than
  0.48 below the plane through the others (most by under 0.25); under the phantom's
  hand shadow (45 % of the light) the darkest gap fell 0.79 below it, and on the real
  photo whose chart is held by a hand at one corner, 1.00. A gap more than
  `FRAME_DIP` below the plane therefore adds a shadow warning, even where the shadow's
  edge misses every patch.
"""

from __future__ import annotations

import numpy as np

from .chart import ChartLocation
from .charts import COLUMNS, ROWS
from .colorimetry import SRGB_DECODE_LUT
from .lattice import apply_h

FRAME_DIP = -0.6  # log luminance below the plane: a gap this much darker is in shadow
MIN_GAP_PX = 3.0  # narrower gaps are mostly the patches' blurred edges
_Y = np.array([0.2126, 0.7152, 0.0722])


def frame_dip(rgb: np.ndarray, location: ChartLocation) -> float | None:
    """How far (log luminance) the darkest gap between patches falls below a plane
    through the others; None when the gaps are too narrow in the photo or out of it."""
    geometry = location.geometry
    gap_px = (geometry.pitch_mm - geometry.patch_mm) * location.px_per_mm
    if gap_px < MIN_GAP_PX:
        return None
    mm, xy = _gap_centres(geometry.pitch_mm, geometry.patch_mm)
    px = np.round(apply_h(location.homography, mm)).astype(int)
    r = max(1, int(gap_px / 4))
    h, w = rgb.shape[:2]
    if px.min() < r or px[:, 0].max() >= w - r or px[:, 1].max() >= h - r:
        return None
    level = np.array(
        [np.median(SRGB_DECODE_LUT[rgb[y - r : y + r + 1, x - r : x + r + 1]] @ _Y) for x, y in px]
    )
    log = np.log(np.maximum(level, 1e-4))
    design = np.column_stack([np.ones(len(xy)), xy])
    keep = np.ones(len(log), dtype=bool)
    for _ in range(2):  # refit without the dark gaps, so a shadow does not tilt the plane
        coef, *_ = np.linalg.lstsq(design[keep], log[keep], rcond=None)
        residual = log - design @ coef
        keep = residual > -0.3
        if keep.sum() < len(log) // 2:
            break
    return float(residual.min())


def _gap_centres(pitch: float, patch: float) -> tuple[np.ndarray, np.ndarray]:
    """Chart-plane mm of the middle of each gap between neighbouring patches, and the
    same points in chart coordinates (-1..1 from the chart's centre)."""
    half = patch / 2
    rows, columns = range(ROWS), range(COLUMNS)
    between_columns = [
        (half + (c + 0.5) * pitch, half + r * pitch) for r in rows for c in columns[:-1]
    ]
    between_rows = [
        (half + c * pitch, half + (r + 0.5) * pitch) for r in rows[:-1] for c in columns
    ]
    mm = np.array(between_columns + between_rows)
    centre = np.array([half + (COLUMNS - 1) / 2 * pitch, half + (ROWS - 1) / 2 * pitch])
    scale = np.array([(COLUMNS - 1) / 2 * pitch, (ROWS - 1) / 2 * pitch])
    return mm, (mm - centre) / scale
