"""Load uploaded photo bytes safely, upright, as RGB arrays; re-encode them clean.

Decoding is real (Pillow, with pillow-heif for iPhone HEIC), never trusted to the file
name or declared type. Refused, each with a one-line `ImagingError`: not a JPEG/PNG/HEIC
image, a truncated or corrupt file, more pixels than `max_pixels` (default 50 MP; this
also stops decompression bombs, since the check reads only the header), and images with
an alpha channel (a transparent PNG is a screenshot or an edit, not a clinical photo).

EXIF orientation is applied (`ImageOps.exif_transpose`), so every coordinate in scarrx is
a pixel of the upright image. pillow-heif applies HEIC rotation itself and resets the
EXIF tag, so iPhone HEIC is not rotated twice (clinical.md §8).

`sanitised_jpeg` writes what is stored: pixels only, no EXIF at all (so no GPS, no device
make, model or serial), in sRGB with a standard sRGB ICC profile. An embedded profile is
validated (littleCMS must parse it): a valid one that is not sRGB (e.g. Display P3) has
the pixels converted to sRGB; a junk one is dropped and the pixels read as sRGB. Either
way the profile in the stored file is our own few hundred bytes, never the upload's.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import ImagingError

pillow_heif.register_heif_opener()

MAX_PIXELS = 50_000_000
MAX_FILE_BYTES = 50 * 1024 * 1024
# Long side of the reduced copy used for chart detection and alignment (~0.75 MP for a
# 4:3 photo): large enough that a chart patch spans tens of pixels.
REDUCED_LONG_SIDE = 1000
ALLOWED_FORMATS = ("JPEG", "PNG", "HEIF")
SANITISED_QUALITY = 92
THUMBNAIL_SIDE = 512

_EXIF_IFD = 0x8769
_ORIENTATION = 0x0112
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_EARLIEST_PLAUSIBLE = datetime(2000, 1, 1, tzinfo=UTC)
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB photo (or a reduced copy of one) and what we kept of its metadata.

    `rgb` is (height, width, 3) uint8. `full_width`/`full_height` are the size of the
    upright full-resolution image, so a reduced copy knows how to map its pixels back.
    `taken_at` is EXIF DateTimeOriginal when present and plausible: timezone-aware when the
    camera recorded its UTC offset, otherwise naive camera wall-clock time, which the
    caller should read in the pharmacy's zone.
    """

    rgb: np.ndarray
    format: str
    full_width: int
    full_height: int
    taken_at: datetime | None = None
    icc_profile: bytes | None = None

    @property
    def scale(self) -> tuple[float, float]:
        """Full-resolution pixels per pixel of `rgb`, as (x, y)."""
        return self.full_width / self.rgb.shape[1], self.full_height / self.rgb.shape[0]

    @property
    def is_reduced(self) -> bool:
        return self.rgb.shape[1] != self.full_width or self.rgb.shape[0] != self.full_height


@dataclass(frozen=True)
class PreparedUpload:
    """What the photos app stores for an upload: clean JPEG, thumbnail, facts."""

    jpeg: bytes
    thumbnail: bytes
    sha256: str
    original_sha256: str
    width: int
    height: int
    source_format: str
    taken_at: datetime | None


def read_input(path_or_bytes: object) -> bytes:
    """Bytes as given, or the contents of a file path (str or os.PathLike)."""
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        return bytes(path_or_bytes)
    if not isinstance(path_or_bytes, str | os.PathLike):
        raise ImagingError("expected the photo as bytes or a file path")
    try:
        with open(path_or_bytes, "rb") as handle:
            # One byte over the limit is enough to refuse it; never read a huge file whole.
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ImagingError(f"cannot read {path_or_bytes}: {exc.strerror or exc}") from exc


def decode(data: bytes, *, max_pixels: int = MAX_PIXELS) -> DecodedImage:
    """Decode the whole photo, upright, as RGB uint8."""
    img = _open(data, max_pixels)
    return _finish(img, data_format=img.format)


def decode_reduced(
    data: bytes, *, long_side: int = REDUCED_LONG_SIDE, max_pixels: int = MAX_PIXELS
) -> DecodedImage:
    """Decode a reduced copy (long side about `long_side`), upright.

    For JPEG this uses Pillow's draft mode: the decoder scales the DCT by 1/2, 1/4 or 1/8,
    so a 12 MP photo reduces for a fraction of a full decode. Other formats are decoded
    whole and resized.
    """
    img = _open(data, max_pixels)
    fmt = img.format
    width, height = img.size
    if fmt == "JPEG":
        ratio = long_side / max(width, height)
        img.draft("RGB", (math.ceil(width * ratio), math.ceil(height * ratio)))
    full = (width, height)
    decoded = _finish(img, data_format=fmt, full_size=full)
    return reduce(decoded, long_side)


def reduce(image: DecodedImage, long_side: int = REDUCED_LONG_SIDE) -> DecodedImage:
    """A reduced copy of an already decoded image (area averaging, no aliasing)."""
    h, w = image.rgb.shape[:2]
    if max(h, w) <= long_side * 1.25:
        return image
    ratio = long_side / max(h, w)
    size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
    small = cv2.resize(image.rgb, size, interpolation=cv2.INTER_AREA)
    return DecodedImage(
        small,
        image.format,
        image.full_width,
        image.full_height,
        image.taken_at,
        image.icc_profile,
    )


def sanitised_jpeg(image: DecodedImage, *, quality: int = SANITISED_QUALITY) -> bytes:
    """Re-encode pixels only: no EXIF (so no GPS or device identity), ICC kept.

    Chroma is kept at full resolution (4:4:4) because redness is measured from it.
    """
    return _encode_jpeg(image.rgb, quality=quality, icc_profile=image.icc_profile)


def thumbnail_jpeg(image: DecodedImage, *, max_side: int = THUMBNAIL_SIDE) -> bytes:
    """A small clean JPEG for lists and pickers."""
    small = reduce(image, max_side).rgb
    if max(small.shape[:2]) > max_side:
        ratio = max_side / max(small.shape[:2])
        size = (max(1, round(small.shape[1] * ratio)), max(1, round(small.shape[0] * ratio)))
        small = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
    return _encode_jpeg(small, quality=85, icc_profile=image.icc_profile)


def prepare_upload(data: bytes, *, max_pixels: int = MAX_PIXELS) -> PreparedUpload:
    """Decode, refuse bad input, and produce the clean JPEG and thumbnail to store."""
    image = decode(data, max_pixels=max_pixels)
    jpeg = sanitised_jpeg(image)
    return PreparedUpload(
        jpeg=jpeg,
        thumbnail=thumbnail_jpeg(image),
        sha256=hashlib.sha256(jpeg).hexdigest(),
        original_sha256=hashlib.sha256(data).hexdigest(),
        width=image.full_width,
        height=image.full_height,
        source_format=image.format,
        taken_at=image.taken_at,
    )


def _open(data: bytes, max_pixels: int) -> Image.Image:
    if not data:
        raise ImagingError("the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImagingError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
        except UnidentifiedImageError as exc:
            raise ImagingError("not an image: expected a JPEG, PNG or HEIC photo") from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImagingError(_too_many_pixels(None, max_pixels)) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImagingError("the image file is corrupt") from exc
    width, height = img.size
    if width * height > max_pixels:
        raise ImagingError(_too_many_pixels(width * height, max_pixels))
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        raise ImagingError(
            f"the {img.format} has an alpha (transparency) channel; "
            "upload the original photo, not an edited or transparent copy"
        )
    return img


def _too_many_pixels(pixels: int | None, limit: int) -> str:
    size = "too many pixels" if pixels is None else f"{pixels / 1e6:.0f} megapixels"
    return f"the image has {size}; the limit is {limit / 1e6:.0f} megapixels"


def _finish(
    img: Image.Image, *, data_format: str | None, full_size: tuple[int, int] | None = None
) -> DecodedImage:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
            exif = img.getexif()  # for PNG, EXIF may follow the pixel data
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImagingError("the image file is truncated or corrupt") from exc
    orientation = exif.get(_ORIENTATION, 1)
    taken_at = _taken_at(exif)
    icc = img.info.get("icc_profile") or None
    img = _as_rgb(img)
    img = _to_srgb(img, icc)
    ImageOps.exif_transpose(img, in_place=True)
    rgb = np.asarray(img)
    del img
    width, height = full_size or (rgb.shape[1], rgb.shape[0])
    if full_size is not None and orientation in (5, 6, 7, 8):
        width, height = height, width
    return DecodedImage(rgb, data_format or "unknown", width, height, taken_at, SRGB_PROFILE)


SRGB_PROFILE: bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
MAX_ICC_BYTES = 1024 * 1024


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """The pixels in sRGB: converted from a valid non-sRGB embedded profile, as they are
    otherwise (no profile, an sRGB one, or one that does not parse)."""
    if not icc or len(icc) > MAX_ICC_BYTES:
        return img
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile) or ""
    except (OSError, ImageCms.PyCMSError, ValueError, TypeError):
        return img  # junk: dropped, pixels read as sRGB
    if "srgb" in description.lower().replace(" ", "").replace("-", ""):
        return img
    try:
        converted = ImageCms.profileToProfile(img, profile, _SRGB, outputMode="RGB")
    except (OSError, ImageCms.PyCMSError, ValueError):
        return img
    assert converted is not None
    return converted


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _as_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode.startswith("I"):
        # 16-bit greyscale PNG: scale to 8 bits rather than let convert() clip at 255.
        grey = (np.asarray(img, dtype=np.float64) / 257.0).clip(0, 255).astype(np.uint8)
        converted = Image.fromarray(grey).convert("RGB")
    else:
        converted = img.convert("RGB")
    converted.info = img.info
    return converted


def _taken_at(exif: Image.Exif) -> datetime | None:
    ifd = exif.get_ifd(_EXIF_IFD)
    stamp, offset = ifd.get(_DATETIME_ORIGINAL), ifd.get(_OFFSET_TIME_ORIGINAL)
    if not isinstance(stamp, str):
        return None
    stamp = stamp.strip().rstrip("\x00")
    try:
        if isinstance(offset, str) and offset.strip():
            when = datetime.strptime(stamp + offset.strip(), "%Y:%m:%d %H:%M:%S%z")
            check = when
        else:
            # EXIF without OffsetTimeOriginal has no zone: keep camera wall-clock time and
            # let the caller read it in the pharmacy's zone.
            when = datetime.strptime(stamp, "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007
            check = when.replace(tzinfo=UTC)
    except ValueError:
        return None
    # A camera clock never set reads 2000-01-01 or earlier; a date in the future is wrong.
    latest = datetime.now(UTC) + timedelta(days=1)
    return when if _EARLIEST_PLAUSIBLE < check <= latest else None


def _encode_jpeg(rgb: np.ndarray, *, quality: int, icc_profile: bytes | None) -> bytes:
    buf = io.BytesIO()
    options: dict[str, object] = {"quality": quality, "subsampling": 0}
    if icc_profile:
        options["icc_profile"] = icc_profile
    Image.fromarray(rgb).save(buf, "JPEG", **options)
    return buf.getvalue()
