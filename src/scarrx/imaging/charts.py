"""Chart models: the physical layout of the 24-patch ColorChecker in the photo.

Every millimetre scarrx reports (px/mm, pit areas) is scaled by the chart's patch pitch,
so the chart model must be the card in the photo. Only the pitch (centre to centre) sets
px/mm; the patch side sets where the chart's corners are and what is sampled.

Where the figures come from (looked up for issue 8; say so when you change one):

- Published card sizes. The manufacturer's pages were not reachable from here; the
  figures that are published and agree across sources are the cards' outer sizes:
  ColorChecker Classic about 279 × 216 mm (11 × 8.5 in; "8.25 x 11 in" in reviews,
  203 × 292 mm as measured by the arcu_colorchecker project, MIT licence, github.com/
  JTvD/arcu_colorchecker), Classic Mini 63.5 × 109 mm (Calibrite edition with its mm
  ruler, same project), ColorChecker Passport case 125 × 90 mm (Myers, "ColorChecker
  Passport Technical Review", 2009/2010). None of them publishes the patch pitch.
- Pitch and patch side, measured. On the arcu_colorchecker photos (10 of a Classic,
  7 of a Mini, each lying on a printed sheet whose four ArUco markers sit at known
  millimetre positions, so each photo carries its own ruler), the homography from the
  markers gives the patch centres in mm: Classic pitch 46.0 mm (46.1-46.5 along one
  axis, 45.5-45.9 along the other: the sheet's print scale differs by 1.5 % between
  its axes), patch side 40.5 mm; Mini pitch 14.8 mm (14.75-14.87 on both axes, the
  Mini's own printed ruler agrees), patch side 11.7 mm. The old default (Mini, 12.8 mm
  pitch) was 16 % short, as issue 8 found against the card's ruler.
  `benchmarks/real_photos.py --ruler` repeats the measurement on such photos.
- Unverified. The Classic Nano and the Passport's Classic page have the same 6×4
  layout, but no photo with a known ruler was at hand: their presets say
  `verified=False`, results carry that flag, and a pharmacy using one should measure
  its card (centre of patch 1 to centre of patch 6, divided by 5, is the pitch) and give
  a custom geometry.

A custom model is a mapping {"name": ..., "pitch_mm": ..., "patch_mm": ...}
(`chart_model`), or on the command line `--chart-mm PITCH,PATCH`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .errors import ImagingError

COLUMNS, ROWS = 6, 4


@dataclass(frozen=True)
class ChartGeometry:
    """Physical layout of a 6×4 patch chart: centre-to-centre pitch and patch side, mm.

    px/mm depends only on `pitch_mm`. Check it against your own chart with a ruler: the
    distance between the centres of the first and sixth patch of a row, divided by five.
    """

    name: str
    pitch_mm: float
    patch_mm: float
    verified: bool = True  # measured against a known ruler (see the module docstring)

    @property
    def width_mm(self) -> float:
        return (COLUMNS - 1) * self.pitch_mm + self.patch_mm

    @property
    def height_mm(self) -> float:
        return (ROWS - 1) * self.pitch_mm + self.patch_mm

    def patch_centres_mm(self) -> np.ndarray:
        """(24, 2) patch centres in chart-plane mm, row-major from "dark skin"."""
        rows, cols = np.divmod(np.arange(COLUMNS * ROWS), COLUMNS)
        half = self.patch_mm / 2
        return np.stack([half + cols * self.pitch_mm, half + rows * self.pitch_mm], axis=1)

    def corners_mm(self) -> np.ndarray:
        w, h = self.width_mm, self.height_mm
        return np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)

    def as_dict(self) -> dict[str, object]:
        """What a calibration records beside px/mm, so it can be re-measured later."""
        return {
            "name": self.name,
            "pitch_mm": self.pitch_mm,
            "patch_mm": self.patch_mm,
            "verified": self.verified,
        }


ChartModel = ChartGeometry  # the name the Django side and the docs use

CLASSIC = ChartGeometry("ColorChecker Classic", pitch_mm=46.0, patch_mm=40.5)
CLASSIC_MINI = ChartGeometry("ColorChecker Classic Mini", pitch_mm=14.8, patch_mm=11.7)
# Unverified (module docstring): the Passport's Classic page is the Mini's size by eye in
# published photos; the Nano is about 40 % of the Mini.
PASSPORT = ChartGeometry(
    "ColorChecker Passport (Classic page)", pitch_mm=14.8, patch_mm=11.7, verified=False
)
CLASSIC_NANO = ChartGeometry(
    "ColorChecker Classic Nano", pitch_mm=5.9, patch_mm=4.7, verified=False
)

CHARTS: dict[str, ChartGeometry] = {
    "classic": CLASSIC,
    "mini": CLASSIC_MINI,
    "nano": CLASSIC_NANO,
    "passport": PASSPORT,
}
# The chart a photo is read with unless it says otherwise; the Django side passes its
# setting (SCARRX_CHART) through `chart_model` instead.
DEFAULT_CHART_NAME = "mini"
DEFAULT_CHART = CHARTS[DEFAULT_CHART_NAME]

_MM_RANGE = (1.0, 200.0)


def chart_model(spec: object) -> ChartGeometry:
    """A chart model from a preset name, a stored mapping, or a model itself.

    Names are those of `CHARTS` or a model's full name, any case. A mapping needs
    "pitch_mm" and "patch_mm" (and may have "name"); the patch must be smaller than the
    pitch. Raises ImagingError, message starting "chart", for anything else.
    """
    if isinstance(spec, ChartGeometry):
        return spec
    if isinstance(spec, str):
        key = spec.strip().lower()
        for short, model in CHARTS.items():
            if key in (short, model.name.lower()):
                return model
        raise ImagingError(f"chart: unknown chart {spec!r}; choose from {', '.join(CHARTS)}")
    if isinstance(spec, Mapping):
        return _custom(spec)
    raise ImagingError("chart: give a chart name or its pitch_mm and patch_mm")


def _custom(spec: Mapping[object, object]) -> ChartGeometry:
    name = spec.get("name") or "custom"
    values = []
    for key in ("pitch_mm", "patch_mm"):
        raw = spec.get(key)
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ImagingError(f"chart: {key} must be a number of millimetres") from None
        if not math.isfinite(value) or not _MM_RANGE[0] <= value <= _MM_RANGE[1]:
            raise ImagingError(
                f"chart: {key} must be between {_MM_RANGE[0]:g} and {_MM_RANGE[1]:g} mm"
            )
        values.append(value)
    pitch, patch = values
    if not 0.5 * pitch <= patch < pitch:
        raise ImagingError("chart: patch_mm must be less than pitch_mm and at least half of it")
    preset = next((m for m in CHARTS.values() if (m.pitch_mm, m.patch_mm) == (pitch, patch)), None)
    verified = bool(spec.get("verified", True)) if preset is None else preset.verified
    return ChartGeometry(str(name)[:80], pitch, patch, verified)
