"""The reduced pictures pages show: a photo's preview and the aligned follow-up.

Rendering one decodes the full photo and refits the chart correction (about 0.2 s for
12 MP), so each is rendered once, when what it depends on is fixed, and kept in private
storage beside the photo: a photo's preview at upload and whenever its chart corners
change, an aligned follow-up's when the measurement that aligned it is made (its
homography never changes). Private storage rather than Django's cache because these are
patient photos: they stay behind the same permission-checked views, in the same bucket,
and survive restarts and every worker sees them.
"""

from __future__ import annotations

from scarrx.photos.models import Measurement, Photo
from scarrx.photos.storage import read_private


def _display_corners(photo: Photo) -> list | None:
    """The one rule for previews: colour-correct by the chart only when it calibrated."""
    return photo.chart_corners if photo.calibrated else None


def render_preview(data: bytes, photo: Photo) -> bytes:
    """A photo's preview from its stored JPEG bytes."""
    from scarrx.imaging.render import preview_jpeg  # OpenCV loads on first use

    return preview_jpeg(data, _display_corners(photo), chart=photo.chart_model)


def render_aligned(data: bytes, homography, base_photo: Photo, photo: Photo) -> bytes:
    """The follow-up `photo` (its JPEG bytes) resampled into `base_photo`'s frame."""
    from scarrx.imaging.render import aligned_preview_jpeg

    size = (base_photo.width, base_photo.height)
    return aligned_preview_jpeg(
        data, homography, size, _display_corners(photo), chart=photo.chart_model
    )


def preview_image(photo: Photo) -> bytes:
    """The photo reduced for a page, colour-corrected when its chart calibrates."""
    if photo.preview:
        return read_private(photo.preview)
    return render_preview(read_private(photo.file), photo)


def comparison_image(followup: Measurement, which: str) -> bytes:
    """The baseline photo's preview, or the follow-up aligned into the baseline's frame."""
    base_photo = followup.baseline.photo
    if which == "baseline":
        return preview_image(base_photo)
    if followup.preview:
        return read_private(followup.preview)
    homography = followup.result["alignment"]["homography"]
    return render_aligned(read_private(followup.photo.file), homography, base_photo, followup.photo)
