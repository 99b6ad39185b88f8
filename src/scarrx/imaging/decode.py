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

Pixels of 8-bit JPEGs and PNGs (nearly every upload) are decoded by OpenCV's libjpeg-turbo
and libpng straight into one numpy array, after Pillow has read and checked the header
(format, size, alpha, EXIF, ICC). Pillow would decode into its own 4-bytes-per-pixel
buffer and copy it out: 12 MP took 145 ms that way against 80 ms, and taking in a
49 MP PNG peaked at about 490 MB where one array is 147 MB (issue 7: six such uploads
at once took a server to 2.8 GB). OpenCV's own buffer is copied once into numpy, so the
peak is two arrays for a moment and one after (`make bench` measures it). A reduced
decode of a JPEG uses libjpeg's DCT scaling (1/2, 1/4, 1/8). A non-sRGB profile is
converted in strips of rows and the stored JPEG is encoded from the decoded array
itself, so nothing else full-size is made; `heavy_work()` bounds how many run at once.
Other modes (CMYK JPEG, HEIC, 16-bit greyscale PNG) go through Pillow as before.
pillow-heif is loaded only when an upload looks like HEIF (an ISO-BMFF "ftyp" box).
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
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import ImagingError

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
    if _opencv_can(img):
        return _decoded_by_opencv(data, img, cv2.IMREAD_COLOR_RGB)
    return _finish(img, data_format=img.format)


def decode_reduced(
    data: bytes, *, long_side: int = REDUCED_LONG_SIDE, max_pixels: int = MAX_PIXELS
) -> DecodedImage:
    """Decode a reduced copy (long side about `long_side`), upright.

    For JPEG the decoder scales the DCT by 1/2, 1/4 or 1/8, so a 12 MP photo reduces for
    a fraction of a full decode. Other formats are decoded whole and resized.
    """
    img = _open(data, max_pixels)
    if _opencv_can(img):
        factor = 1
        if img.format == "JPEG":
            while factor < 8 and max(img.size) / (factor * 2) >= long_side:
                factor *= 2
        flags = cv2.IMREAD_COLOR_RGB | _REDUCED.get(factor, 0)
        return reduce(_decoded_by_opencv(data, img, flags), long_side)
    fmt = img.format
    width, height = img.size
    if fmt == "JPEG":
        ratio = long_side / max(width, height)
        img.draft("RGB", (math.ceil(width * ratio), math.ceil(height * ratio)))
    decoded = _finish(img, data_format=fmt, full_size=(width, height))
    return reduce(decoded, long_side)


# IMREAD_REDUCED_GRAYSCALE_k is the bare "reduce by k" bit; with IMREAD_COLOR_RGB it
# decodes colour at 1/k.
_REDUCED = {
    2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
    4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
    8: cv2.IMREAD_REDUCED_GRAYSCALE_8,
}
_OPENCV_MODES = {"JPEG": ("RGB", "L"), "PNG": ("RGB", "L", "P")}
_STRIP_ROWS = 256  # rows per strip when converting a non-sRGB profile


def _opencv_can(img: Image.Image) -> bool:
    """8-bit JPEG and PNG in the modes OpenCV decodes as Pillow would."""
    return img.mode in _OPENCV_MODES.get(img.format or "", ())


def _decoded_by_opencv(data: bytes, img: Image.Image, flags: int) -> DecodedImage:
    """Pixels by OpenCV (orientation applied here, from the EXIF Pillow read)."""
    fmt = img.format or "unknown"
    if fmt == "PNG" and b"IEND" not in data[-64:]:
        raise ImagingError("the image file is truncated or corrupt")  # before libpng says so
    exif = _exif(img, data)
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags | cv2.IMREAD_IGNORE_ORIENTATION)
    if pixels is None or pixels.ndim != 3:
        raise ImagingError("the image file is truncated or corrupt")
    icc = img.info.get("icc_profile") or None
    _convert_to_srgb(pixels, icc, "RGB" if flags & cv2.IMREAD_COLOR_RGB else "BGR")
    orientation = exif.get(_ORIENTATION, 1)
    pixels = _orient(pixels, orientation)
    width, height = img.size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return DecodedImage(pixels, fmt, width, height, _taken_at(exif), SRGB_PROFILE)


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The upright image for an EXIF orientation (as `ImageOps.exif_transpose`)."""
    if orientation == 2:
        return cv2.flip(pixels, 1)
    if orientation == 3:
        return cv2.rotate(pixels, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(pixels, 0)
    if orientation == 5:
        return cv2.transpose(pixels)
    if orientation == 6:
        return cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.flip(cv2.transpose(pixels), -1)
    if orientation == 8:
        return cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return pixels


def _exif(img: Image.Image, data: bytes) -> Image.Exif:
    """EXIF from the header; a PNG's eXIf chunk may follow the pixel data, so its chunks
    are walked (lengths only, nothing decoded)."""
    if img.format != "PNG":
        return img.getexif()
    exif = Image.Exif()
    at = 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        if kind == b"eXIf":
            exif.load(data[at + 8 : at + 8 + length])
            break
        if kind == b"IEND":
            break
        at += 12 + length
    return exif


def _convert_to_srgb(pixels: np.ndarray, icc: bytes | None, order: str) -> None:
    """Convert pixels in place from a valid non-sRGB embedded profile, strip by strip,
    so no second full-size copy is made; leave them as they are otherwise."""
    profile = _non_srgb_profile(icc)
    if profile is None:
        return
    try:
        transform = ImageCms.buildTransform(profile, _SRGB, "RGB", "RGB")
    except (OSError, ImageCms.PyCMSError, ValueError):
        return
    for top in range(0, pixels.shape[0], _STRIP_ROWS):
        strip = pixels[top : top + _STRIP_ROWS]
        rgb = strip if order == "RGB" else strip[..., ::-1]
        converted = ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(rgb)), transform)
        assert converted is not None
        out = np.asarray(converted)
        strip[...] = out if order == "RGB" else out[..., ::-1]


def _non_srgb_profile(icc: bytes | None) -> ImageCms.ImageCmsProfile | None:
    """The embedded profile when it parses and is not sRGB; None otherwise (junk is
    dropped and the pixels read as sRGB)."""
    if not icc or len(icc) > MAX_ICC_BYTES:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile) or ""
    except (OSError, ImageCms.PyCMSError, ValueError, TypeError):
        return None
    if "srgb" in description.lower().replace(" ", "").replace("-", ""):
        return None
    return profile


def reduce(
    image: DecodedImage, long_side: int = REDUCED_LONG_SIDE, *, fast: bool = False
) -> DecodedImage:
    """A reduced copy of an already decoded image: area averaging, no aliasing; or with
    `fast`, bilinear sampling (2 ms instead of 20 ms from 12 MP, which must read every
    pixel): noisier, and enough to find the chart, whose corners come out the same to
    about a full-resolution pixel on the real photos."""
    h, w = image.rgb.shape[:2]
    if max(h, w) <= long_side * 1.25:
        return image
    ratio = long_side / max(h, w)
    size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
    how = cv2.INTER_LINEAR if fast else cv2.INTER_AREA
    small = cv2.resize(image.rgb, size, interpolation=how)
    return DecodedImage(
        small,
        image.format,
        image.full_width,
        image.full_height,
        image.taken_at,
        image.icc_profile,
    )


def sanitised_jpeg(image: DecodedImage, *, quality: int = SANITISED_QUALITY) -> bytes:
    """Re-encode pixels only: no EXIF (so no GPS or device identity), our sRGB profile.

    Chroma is kept at full resolution (4:4:4) because redness is measured from it.
    """
    return _encode_jpeg(cv2.cvtColor(image.rgb, cv2.COLOR_RGB2BGR), quality=quality)


def thumbnail_jpeg(image: DecodedImage, *, max_side: int = THUMBNAIL_SIDE) -> bytes:
    """A small clean JPEG for lists and pickers."""
    return _encode_jpeg(
        cv2.cvtColor(_thumbnail(image.rgb, max_side), cv2.COLOR_RGB2BGR), quality=85
    )


def prepare_upload(data: bytes, *, max_pixels: int = MAX_PIXELS) -> PreparedUpload:
    """Decode, refuse bad input, and produce the clean JPEG and thumbnail to store.

    The pixels are decoded once, in the byte order the JPEG encoder takes (BGR), and
    both files are encoded from that one array (3 bytes a pixel; two for a moment while
    decoding, see the module docstring).
    """
    img = _open(data, max_pixels)
    if _opencv_can(img):
        image = _decoded_by_opencv(data, img, cv2.IMREAD_COLOR_BGR)
        bgr = image.rgb
    else:
        image = _finish(img, data_format=img.format)
        bgr = cv2.cvtColor(image.rgb, cv2.COLOR_RGB2BGR)
    del img
    jpeg = _encode_jpeg(bgr, quality=SANITISED_QUALITY)
    thumbnail = _encode_jpeg(_thumbnail(bgr, THUMBNAIL_SIDE), quality=85)
    return PreparedUpload(
        jpeg=jpeg,
        thumbnail=thumbnail,
        sha256=hashlib.sha256(jpeg).hexdigest(),
        original_sha256=hashlib.sha256(data).hexdigest(),
        width=image.full_width,
        height=image.full_height,
        source_format=image.format,
        taken_at=image.taken_at,
    )


def _thumbnail(pixels: np.ndarray, max_side: int) -> np.ndarray:
    h, w = pixels.shape[:2]
    if max(h, w) <= max_side:
        return pixels
    ratio = max_side / max(h, w)
    size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


def _open(data: bytes, max_pixels: int) -> Image.Image:
    if not data:
        raise ImagingError("the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImagingError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    formats = ALLOWED_FORMATS if _heif_ready(data) else ("JPEG", "PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=formats)
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


def _heif_ready(data: bytes) -> bool:
    """Register pillow-heif (0.06 s to import) when the bytes look like HEIF/HEIC: an
    ISO-BMFF file begins with a box whose type is "ftyp"."""
    if data[4:8] != b"ftyp":
        return False
    import pillow_heif

    pillow_heif.register_heif_opener()
    return True


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
    profile = _non_srgb_profile(icc)
    if profile is None:
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


def _encode_jpeg(bgr: np.ndarray, *, quality: int) -> bytes:
    """JPEG (4:4:4, no EXIF) of BGR pixels, with our sRGB profile in an APP2 segment."""
    ok, encoded = cv2.imencode(
        ".jpg",
        bgr,
        [cv2.IMWRITE_JPEG_QUALITY, quality,
         cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444],
    )  # fmt: skip
    if not ok:
        raise ImagingError("the image could not be re-encoded")
    return _with_icc(encoded.tobytes(), SRGB_PROFILE)


def _with_icc(jpeg: bytes, icc: bytes) -> bytes:
    """Insert an ICC profile after the JFIF header: one APP2 "ICC_PROFILE" segment,
    sequence 1 of 1 (ICC.1:2010 Annex B.4; the profile is far below the 64 kB limit)."""
    payload = b"ICC_PROFILE\0" + bytes([1, 1]) + icc
    segment = b"\xff\xe2" + (len(payload) + 2).to_bytes(2, "big") + payload
    at = 2
    if jpeg[2:4] == b"\xff\xe0":  # after APP0 (JFIF), which must come first
        at = 4 + int.from_bytes(jpeg[4:6], "big")
    return jpeg[:at] + segment + jpeg[at:]
