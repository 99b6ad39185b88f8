"""Pictures for people: colour-corrected previews, and a follow-up warped into its
baseline's frame, for side-by-side and slider comparison.

Previews are reduced (about a megapixel): a comparison page shows no more. When the
chart's corners are known the preview is colour-corrected with the same fit that the
measurements use, so a warm evening photo and a cool daylight one look alike.
"""

from __future__ import annotations

import cv2
import numpy as np

from .calibrate import calibrate
from .chart import chart_from_corners, sample_patches
from .charts import DEFAULT_CHART, chart_model
from .colorimetry import SRGB_DECODE_LUT, srgb_encode
from .decode import DecodedImage, decode, read_input, reduce

PREVIEW_LONG_SIDE = 1200
BORDER_GREY = (235, 235, 235)


def corrected_preview(
    photo: object,
    corners: object | None = None,
    *,
    long_side: int = PREVIEW_LONG_SIDE,
    chart: object = DEFAULT_CHART,
) -> DecodedImage:
    """A reduced copy of the photo, corrected to sRGB when the chart calibrates (its
    patches sampled where `chart`, the card in the photo, puts them)."""
    image = decode(read_input(photo))
    small = reduce(image, long_side)
    if corners is None:
        return small
    location = chart_from_corners(image, corners, chart_model(chart))
    calibration = calibrate(sample_patches(image.rgb, location))
    if not calibration.calibrated or calibration.correction is None:
        return small
    linear = calibration.correction.apply(SRGB_DECODE_LUT[small.rgb])
    rgb = np.round(srgb_encode(np.clip(linear, 0.0, 1.0)) * 255).astype(np.uint8)
    return DecodedImage(rgb, small.format, small.full_width, small.full_height)


def preview_jpeg(
    photo: object, corners: object | None = None, *, chart: object = DEFAULT_CHART
) -> bytes:
    return _jpeg(corrected_preview(photo, corners, chart=chart).rgb)


def aligned_preview_jpeg(
    followup: object,
    homography: object,
    baseline_size: tuple[int, int],
    corners: object | None = None,
    *,
    long_side: int = PREVIEW_LONG_SIDE,
    chart: object = DEFAULT_CHART,
) -> bytes:
    """The follow-up resampled into the baseline's frame, at the baseline preview's size,
    using the stored homography (baseline full-resolution px → follow-up px)."""
    small = corrected_preview(followup, corners, long_side=long_side, chart=chart)
    bw, bh = baseline_size
    s_b = long_side / max(bw, bh)
    sx, sy = small.scale
    to_baseline_full = np.diag([1 / s_b, 1 / s_b, 1.0])
    to_followup_small = np.diag([1 / sx, 1 / sy, 1.0])
    # Each output pixel: baseline full-res → follow-up full-res (H) → follow-up preview.
    dst_to_src = to_followup_small @ np.asarray(homography, dtype=np.float64) @ to_baseline_full
    size = (max(1, round(bw * s_b)), max(1, round(bh * s_b)))
    warped = cv2.warpPerspective(
        small.rgb,
        dst_to_src,
        size,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=BORDER_GREY,
    )
    return _jpeg(warped)


def _jpeg(rgb: np.ndarray) -> bytes:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:  # pragma: no cover - OpenCV does not fail on a valid uint8 array
        raise RuntimeError("could not encode JPEG")
    return buf.tobytes()
