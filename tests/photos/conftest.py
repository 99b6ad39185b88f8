"""Phantom photos and the photo cast shared by the photos tests.

Phantoms (and the files made from them) are rendered once per session: they are the slow
part. Everything that touches the database is per test, as usual.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pillow_heif
import pytest
from django.conf import settings
from django.utils import timezone
from PIL import ExifTags, Image

from scarrx.imaging.phantom import (
    COOL_CAST,
    WARM_CAST,
    PhantomPhoto,
    SceneSpec,
    make_scene,
    photograph,
)
from scarrx.patients.services import record_consent
from scarrx.photos import services

# The follow-up camera: moved, rotated, zoomed, other light, lower JPEG quality.
FOLLOW_UP_CAMERA = replace(
    COOL_CAST, rotation_deg=-8.0, scale=1.07, shift_px=(35.0, -20.0), jpeg_quality=80, seed=9
)
ZONE = ZoneInfo(settings.TIME_ZONE)  # the pharmacy's: naive times are read in it
BASELINE_TAKEN = datetime(2026, 1, 10, 10, 30, tzinfo=ZONE)
FOLLOW_UP_TAKEN = datetime(2026, 3, 7, 10, 30, tzinfo=ZONE)
MAKE, MODEL = "Apple", "iPhone 15 Pro"
EXIF_TAKEN = "2025:06:01 09:15:00"


def a_star_difference(phantom: PhantomPhoto) -> float:
    """The truth: scar minus reference a* of the scene the phantom photographed."""
    scene = phantom.scene
    return float(scene.true_lab(scene.roi_mm)[1] - scene.true_lab(scene.spec.reference_mm)[1])


def as_points(points) -> str:
    """[(x, y), ...] -> "X,Y X,Y ..." as the console's hidden inputs hold them."""
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def stored_files() -> list[Path]:
    """Every file in private storage (MEDIA_ROOT is a fresh tmp dir per test)."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _encode(img: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# --- phantoms ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def baseline_phantom() -> PhantomPhoto:
    """A scar (a* 13 above the skin) under a strong warm cast, chart in frame."""
    return photograph(make_scene(SceneSpec(seed=2, scar_delta_a=13.0)), WARM_CAST)


@pytest.fixture(scope="session")
def followup_phantom() -> PhantomPhoto:
    """The same skin weeks later: scar a* 5 lower, chart held elsewhere, camera moved and
    rotated, cool light instead of warm."""
    spec = SceneSpec(seed=2, scar_delta_a=8.0, chart_origin_mm=(22.0, 13.0))
    return photograph(make_scene(spec), FOLLOW_UP_CAMERA)


@pytest.fixture(scope="session")
def unrelated_phantom() -> PhantomPhoto:
    """Someone else's skin: another texture, the scar and pits elsewhere."""
    spec = SceneSpec(seed=40, scar_centre_mm=(60.0, 90.0), scar_axes_mm=(30.0, 12.0))
    return photograph(make_scene(spec), COOL_CAST)


@pytest.fixture(scope="session")
def no_chart_phantom() -> PhantomPhoto:
    return photograph(make_scene(SceneSpec(seed=12, chart_origin_mm=None)), WARM_CAST)


@pytest.fixture(scope="session")
def chart_missed_phantom() -> PhantomPhoto:
    """A dim room's high-ISO noise: the whole chart is in the frame, but detection does
    not find it."""
    return photograph(make_scene(SceneSpec(seed=3)), replace(WARM_CAST, noise=0.25))


# --- files made from them ------------------------------------------------------------


@pytest.fixture(scope="session")
def baseline_image(baseline_phantom) -> Image.Image:
    img = Image.open(io.BytesIO(baseline_phantom.jpeg))
    img.load()
    return img


@pytest.fixture(scope="session")
def png_bytes(baseline_image) -> bytes:
    return _encode(baseline_image, "PNG", compress_level=1)


@pytest.fixture(scope="session")
def heic_bytes(baseline_image) -> bytes:
    buf = io.BytesIO()
    pillow_heif.from_pillow(baseline_image).save(buf, format="HEIF", quality=92)
    return buf.getvalue()


@pytest.fixture(scope="session")
def sideways_jpeg(baseline_image) -> bytes:
    """Stored on its side with EXIF Orientation 6 ("rotate 90° clockwise to view"), as a
    phone held upright writes it."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    raw = baseline_image.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise
    return _encode(raw, "JPEG", quality=92, exif=exif)


@pytest.fixture(scope="session")
def located_jpeg(baseline_image) -> bytes:
    """A phone's JPEG: camera make and model, where it was (GPS) and when (DateTimeOriginal)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    exif[ExifTags.Base.Model] = MODEL
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = EXIF_TAKEN
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (0.0, 7.0, 40.0)
    data = _encode(baseline_image, "JPEG", quality=92, exif=exif)
    written = Image.open(io.BytesIO(data)).getexif()  # the fixture says what we think
    assert written.get_ifd(ExifTags.IFD.GPSInfo) and written[ExifTags.Base.Model] == MODEL
    return data


@pytest.fixture(scope="session")
def transparent_png() -> bytes:
    return _encode(Image.new("RGBA", (640, 480), (200, 150, 130, 128)), "PNG")


@pytest.fixture(scope="session")
def truncated_jpeg(baseline_phantom) -> bytes:
    return baseline_phantom.jpeg[: len(baseline_phantom.jpeg) // 2]


@pytest.fixture(scope="session")
def bomb_png() -> bytes:
    """A real 30000×30000 one-bit PNG of zeros: about 110 kB that would inflate to 900
    megapixels."""
    width = height = 30_000
    row = b"\x00" * (1 + width // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    block = row * 1000
    idat = b"".join(packer.compress(block) for _ in range(height // 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


@pytest.fixture(scope="session")
def jpeg_200_megapixels() -> bytes:
    """A small JPEG whose frame header claims 16330×12248 pixels (200 MP)."""
    data = bytearray(_encode(Image.new("RGB", (16, 16), (200, 150, 120)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 12_248, 16_330)  # height, width
    return bytes(data)


# --- the cast, with photos -----------------------------------------------------------


@pytest.fixture
def other_photo_consent(other_patient, pharmacist):
    return record_consent(
        patient=other_patient,
        actor=pharmacist,
        kind="photographs",
        granted=True,
        given_on=timezone.localdate(),
    )


def upload(patient, actor, data: bytes, *, taken: datetime = BASELINE_TAKEN, **fields):
    """Upload through the service, as the page and API do (cheeks, front view)."""
    fields = {"site": "cheeks", "view": "front"} | fields
    return services.upload_photo(patient=patient, actor=actor, data=data, taken_at=taken, **fields)


@pytest.fixture
def baseline_photo(patient, technician, photo_consent, baseline_phantom):
    return upload(patient, technician, baseline_phantom.jpeg)


@pytest.fixture
def baseline_measurement(baseline_photo, pharmacist, baseline_phantom):
    return services.measure_photo(
        baseline_photo,
        actor=pharmacist,
        roi=[list(p) for p in baseline_phantom.roi],
        reference=[list(p) for p in baseline_phantom.reference],
    )


@pytest.fixture
def followup_photo(patient, technician, photo_consent, followup_phantom, baseline_measurement):
    return upload(patient, technician, followup_phantom.jpeg, taken=FOLLOW_UP_TAKEN)


@pytest.fixture
def followup_measurement(followup_photo, pharmacist, baseline_measurement):
    return services.carry_over(followup_photo, actor=pharmacist)


@pytest.fixture
def other_patient_user(other_patient):
    return other_patient.user


@pytest.fixture
def patient_user(patient):
    return patient.user
