"""scarrx.imaging: calibrated colour, scale, pits and alignment of progress photos.

Pure numpy / OpenCV / colour-science / Pillow; no Django. Facts: clinical.md §8.

The names below are loaded on first use, so `import scarrx.imaging` (e.g. by Django at
start-up) does not pull in OpenCV and colour-science until a photo is processed.

    analyze(path_or_bytes, roi, reference, corners=None, baseline=None) -> dict
    calibration_only(path_or_bytes, corners=None) -> dict   (chart, ΔE, px/mm; no regions)
    CHARTS, chart_model(name_or_mapping), DEFAULT_CHART_NAME   (chart models, charts.py)
    heavy_work(), configure_heavy_work(n)   (process-wide bound on heavy work, work.py)
    prepare_upload(data) -> PreparedUpload   (clean JPEG, thumbnail, hashes, taken_at)
    find_chart(image) / chart_from_corners(image, corners) -> ChartLocation

and, by module (their names would clash with the modules'), scarrx.imaging.decode.decode
and .decode_reduced -> DecodedImage, scarrx.imaging.align.align -> Alignment.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import ImagingError
from .version import ALGORITHM_VERSION

_LAZY = {
    "analyze": "analysis",
    "calibration_only": "analysis",
    "prepare_upload": "decode",
    "PreparedUpload": "decode",
    "decode_reduced": "decode",
    "DecodedImage": "decode",
    "sanitised_jpeg": "decode",
    "thumbnail_jpeg": "decode",
    "find_chart": "chart",
    "chart_from_corners": "chart",
    "ChartGeometry": "charts",
    "ChartModel": "charts",
    "CHARTS": "charts",
    "chart_model": "charts",
    "DEFAULT_CHART": "charts",
    "DEFAULT_CHART_NAME": "charts",
    "heavy_work": "work",
    "configure_heavy_work": "work",
    "Alignment": "align",
}

__all__ = ["ALGORITHM_VERSION", "ImagingError", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
