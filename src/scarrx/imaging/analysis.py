"""One photo in, one JSON-able result out: the contract of `scarrx photo analyze`.

The order is chosen for speed on a 12 MP photo: decode once at full resolution; find
the chart on a reduced copy (2 ms to sample from pixels already decoded, far cheaper
than a second, draft-mode decode); sample the chart and measure regions at full
resolution, but only inside them. A baseline, when given, is only ever decoded reduced
(JPEG draft), because alignment works on reduced copies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .align import MIN_QUALITY, Alignment, align
from .calibrate import DEFAULT_METHOD, HELDOUT_THRESHOLD, Calibration, Correction, calibrate
from .chart import (
    MIN_CHART_PX,
    ChartLocation,
    ChartSearch,
    chart_from_corners,
    find_chart,
    sample_patches,
    search_chart,
)
from .charts import DEFAULT_CHART, ChartGeometry, chart_model
from .decode import MAX_PIXELS, DecodedImage, decode, decode_reduced, read_input, reduce
from .errors import ImagingError
from .light import frame_dip
from .metrics import as_polygon, difference, pit_measure, region_colour
from .version import ALGORITHM_VERSION

NO_CHART = (
    "no colour chart found in the photo: put the ColorChecker in the frame, "
    "or give its four corners (if it is in the frame but far away, hold it closer: "
    f"its long side should be at least {MIN_CHART_PX} pixels, about a sixth of the photo's)"
)
TOO_SMALL = (
    "the colour chart is too small in the photo to measure (about {px:.0f} pixels across; "
    f"it needs {MIN_CHART_PX}): bring the camera about {{closer:.1f}} times closer to the "
    "chart, or hold the chart nearer the camera"
)


def analyze(
    path_or_bytes: object,
    roi: object,
    reference: object,
    corners: object | None = None,
    baseline: object | None = None,
    *,
    chart: object = DEFAULT_CHART,
    method: str = DEFAULT_METHOD,
    threshold: float = HELDOUT_THRESHOLD,
    min_alignment_quality: float = MIN_QUALITY,
    max_pixels: int = MAX_PIXELS,
) -> dict[str, Any]:
    """Calibrate, measure and (with a baseline) align one photo.

    `roi` and `reference` are lists of (x, y) pixels of the upright image; with a
    `baseline`, they are read as drawn on the baseline and carried over to this photo.
    `corners` skips detection: the outer corners of the four corner patches, any order.
    `chart` is a chart model, a preset name or a {"pitch_mm", "patch_mm"} mapping
    (`charts.chart_model`); the result's "calibration" records it beside px/mm.
    Raises ImagingError (one-line message) for bad input or a refused alignment.
    """
    chart = chart_model(chart)
    image = decode(read_input(path_or_bytes), max_pixels=max_pixels)
    search = _locate(image, corners, chart)
    location = search.location
    result: dict[str, Any] = {"algorithm_version": ALGORITHM_VERSION}
    where = ""
    if baseline is not None:
        small = reduce(image)  # area-averaged: alignment's features want no aliasing
        aligned = _align(
            baseline, small, roi, reference, location, chart, min_alignment_quality, max_pixels
        )
        roi, reference = aligned.map_points(roi), aligned.map_points(reference)
        result["alignment"] = aligned.as_dict()
        where = " carried over to the follow-up"
    roi_pts = as_polygon(roi, image.full_width, image.full_height, "roi", where)
    ref_pts = as_polygon(reference, image.full_width, image.full_height, "reference", where)
    correction = _calibrate(image, search, method, threshold, result, chart)
    if correction is not None and location is not None:
        result.update(_measure(image, correction, location.px_per_mm, roi_pts, ref_pts))
    return _ordered(result)


def calibration_only(
    path_or_bytes: object,
    corners: object | None = None,
    *,
    chart: object = DEFAULT_CHART,
    method: str = DEFAULT_METHOD,
    threshold: float = HELDOUT_THRESHOLD,
    max_pixels: int = MAX_PIXELS,
) -> dict[str, Any]:
    """The chart, colour correction quality and scale of a photo, before any regions.

    Same keys as `analyze` minus the region metrics: "calibrated", "reason" (when not),
    "calibration" (with "chart_corners" to store and pass back as `corners` later, so
    the chart is not searched for again), "px_per_mm", "algorithm_version".
    """
    chart = chart_model(chart)
    image = decode(read_input(path_or_bytes), max_pixels=max_pixels)
    search = _locate(image, corners, chart)
    result: dict[str, Any] = {"algorithm_version": ALGORITHM_VERSION}
    _calibrate(image, search, method, threshold, result, chart)
    return _ordered(result)


def _locate(image: DecodedImage, corners: object | None, chart: ChartGeometry) -> ChartSearch:
    if corners is not None:
        return ChartSearch(chart_from_corners(image, corners, chart))
    return search_chart(image, chart)


def _align(
    baseline: object,
    small: DecodedImage,
    roi: object,
    reference: object,
    location: ChartLocation | None,
    chart: ChartGeometry,
    min_quality: float,
    max_pixels: int,
) -> Alignment:
    base = decode_reduced(read_input(baseline), max_pixels=max_pixels)
    roi_b = as_polygon(roi, base.full_width, base.full_height, "roi", " on the baseline")
    ref_b = as_polygon(
        reference, base.full_width, base.full_height, "reference", " on the baseline"
    )
    base_chart = find_chart(base, chart)
    return align(
        base,
        small,
        regions=[roi_b, ref_b],
        exclude_baseline=[] if base_chart is None else [base_chart.corners],
        exclude_followup=[] if location is None else [location.corners],
        min_quality=min_quality,
    )


def _calibrate(
    image: DecodedImage,
    search: ChartSearch,
    method: str,
    threshold: float,
    result: dict[str, Any],
    chart: ChartGeometry,
) -> Correction | None:
    """Fill in the calibration keys of `result`; the correction, if it may be used."""
    location = search.location
    calibration = None
    if location is not None:
        samples = sample_patches(image.rgb, location)
        dip = frame_dip(image.rgb, location)
        calibration = calibrate(samples, method=method, threshold=threshold, frame_dip=dip)
    result["calibrated"] = bool(calibration and calibration.calibrated)
    result["calibration"] = _calibration_dict(calibration, location, chart)
    result["px_per_mm"] = None if location is None else round(location.px_per_mm, 4)
    if calibration is None and search.too_small_px is not None:
        px = search.too_small_px
        result["reason"] = TOO_SMALL.format(px=px, closer=max(1.1, MIN_CHART_PX / px))
    elif calibration is None:
        result["reason"] = NO_CHART
    elif not calibration.calibrated:
        result["reason"] = calibration.reason
    return calibration.correction if calibration and calibration.calibrated else None


def _measure(
    image: DecodedImage,
    correction: Correction,
    px_per_mm: float,
    roi: np.ndarray,
    reference: np.ndarray,
) -> dict[str, Any]:
    scar = region_colour(image.rgb, roi, correction, "roi")
    skin = region_colour(image.rgb, reference, correction, "reference")
    pits = pit_measure(image.rgb, roi, correction, px_per_mm)
    return {
        "roi": scar.as_dict(),
        "reference": skin.as_dict(),
        "difference": difference(scar, skin),
        "exploratory": pits.as_dict(),
    }


def _calibration_dict(
    calibration: Calibration | None, location: ChartLocation | None, chart: ChartGeometry
) -> dict[str, Any]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    out: dict[str, Any] = {
        "method": None if calibration is None else calibration.method,
        "heldout_delta_e2000": None,
        "heldout_skin_delta_e2000": None,
        "uncorrected_delta_e2000": None,
        "chart_corners": None if location is None else np.round(location.corners, 2).tolist(),
        "chart_source": None if location is None else location.source,
        "chart": chart.as_dict(),
    }
    if calibration is not None:
        out["heldout_delta_e2000"] = rounded(calibration.heldout_delta_e2000)
        out["heldout_skin_delta_e2000"] = rounded(calibration.heldout_skin_delta_e2000)
        out["uncorrected_delta_e2000"] = rounded(calibration.uncorrected_delta_e2000)
        out["light_unevenness"] = round(calibration.light_unevenness, 3)
        out["excluded_patches"] = calibration.excluded
        out["warnings"] = list(calibration.warnings)
    if not chart.verified:
        out.setdefault("warnings", []).append(
            f"chart: the {chart.name}'s dimensions are not verified; measure the card "
            "and give a custom geometry, or px/mm may be wrong"
        )
    return out


_ORDER = (
    "calibrated",
    "reason",
    "calibration",
    "px_per_mm",
    "roi",
    "reference",
    "difference",
    "exploratory",
    "alignment",
    "algorithm_version",
)


def _ordered(result: dict[str, Any]) -> dict[str, Any]:
    """Keys in the documented order, so the printed JSON reads like the contract."""
    return {key: result[key] for key in _ORDER if key in result}


__all__ = ["analyze", "calibration_only", "ImagingError"]
