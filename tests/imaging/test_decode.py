"""Upload safety: real decoding, refusals, orientation, metadata stripping."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from PIL import Image

from scarrx.imaging.decode import (
    MAX_PIXELS,
    decode,
    decode_reduced,
    prepare_upload,
    sanitised_jpeg,
    thumbnail_jpeg,
)
from scarrx.imaging.errors import ImagingError

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
MAKE, MODEL, ORIENTATION, SOFTWARE = 0x010F, 0x0110, 0x0112, 0x0131
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, BODY_SERIAL = 0x9003, 0x9011, 0xA431


def jpeg_bytes(rgb: np.ndarray, exif: Image.Exif | None = None, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    extra = {} if exif is None else {"exif": exif.tobytes()}
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality, **extra)
    return buf.getvalue()


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def marked_image(width: int = 96, height: int = 64) -> np.ndarray:
    """Grey with a red top-left corner, so orientation can be checked."""
    rgb = np.full((height, width, 3), 128, dtype=np.uint8)
    rgb[:16, :16] = (220, 20, 20)
    return rgb


def png_header_only(width: int, height: int, idat: bytes = b"") -> bytes:
    """A PNG whose header claims a size; the pixel data may be absent or tiny."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def gps_tagged_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[SOFTWARE] = "Canon", "EOS R5", "Firmware 1.2"
    exif[ORIENTATION] = 1
    exif.get_ifd(EXIF_IFD).update(
        {BODY_SERIAL: "SN-0042-7731", DATETIME_ORIGINAL: "2024:03:05 14:22:10"}
    )
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 40.0)})
    return exif


def test_not_an_image_is_refused():
    with pytest.raises(ImagingError, match="not an image"):
        decode(b"Patient consent form, page 1 of 2")


def test_gif_is_refused_even_though_it_is_an_image():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "GIF")
    with pytest.raises(ImagingError, match="JPEG, PNG or HEIC"):
        decode(buf.getvalue())


def test_empty_upload_is_refused():
    with pytest.raises(ImagingError, match="empty"):
        decode(b"")


def test_truncated_jpeg_is_refused():
    data = jpeg_bytes(np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8))
    with pytest.raises(ImagingError, match="truncated"):
        decode(data[: len(data) * 2 // 3])


def test_truncated_png_is_refused():
    noise = np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    data = png_bytes(Image.fromarray(noise))
    with pytest.raises(ImagingError, match="truncated or corrupt"):
        decode(data[: len(data) // 2])


def test_decompression_bomb_is_refused_before_decoding():
    # 64 MP of zeros compresses to ~64 kB: a real bomb, over the 50 MP limit.
    rows = b"".join(b"\x00" + bytes(8000) for _ in range(8000))
    bomb = png_header_only(8000, 8000, zlib.compress(rows, 9))
    assert len(bomb) < 200_000
    with pytest.raises(ImagingError, match="64 megapixels; the limit is 50"):
        decode(bomb)


def test_200_megapixel_image_is_refused():
    with pytest.raises(ImagingError, match="limit is 50 megapixels"):
        decode(png_header_only(20000, 10000))


def test_pixel_limit_is_configurable():
    data = jpeg_bytes(marked_image(400, 300))
    assert decode(data, max_pixels=120_000).rgb.shape == (300, 400, 3)
    with pytest.raises(ImagingError, match="megapixels"):
        decode(data, max_pixels=100_000)
    assert MAX_PIXELS == 50_000_000


def test_png_with_alpha_channel_is_refused_with_a_clear_message():
    data = png_bytes(Image.new("RGBA", (32, 32), (200, 120, 100, 255)))
    with pytest.raises(ImagingError, match="alpha"):
        decode(data)


def test_palette_png_with_transparency_is_refused():
    img = Image.new("P", (16, 16))
    img.info["transparency"] = 0
    with pytest.raises(ImagingError, match="alpha"):
        decode(png_bytes(img))


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # stored sideways: rotate 90° clockwise to view
    image = decode(jpeg_bytes(marked_image(), exif))
    assert image.rgb.shape == (96, 64, 3)
    assert image.rgb[4, -4, 0] > 180 and image.rgb[4, 4, 0] < 160  # red now top right


def test_iphone_heic_is_decoded_upright_and_not_rotated_twice():
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    buf = io.BytesIO()
    Image.fromarray(marked_image()).save(buf, "HEIF", exif=exif.tobytes(), quality=95)
    image = decode(buf.getvalue())
    assert image.format == "HEIF"
    assert image.rgb.shape == (96, 64, 3)
    assert image.rgb[4, -4, 0] > 180 and image.rgb[4, 4, 0] < 160


def test_greyscale_jpeg_is_decoded_as_rgb():
    buf = io.BytesIO()
    Image.new("L", (40, 30), 77).save(buf, "JPEG")
    rgb = decode(buf.getvalue()).rgb
    assert rgb.shape == (30, 40, 3) and abs(int(rgb[5, 5, 1]) - 77) <= 2


def test_date_taken_comes_from_exif_with_its_offset():
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD).update(
        {DATETIME_ORIGINAL: "2024:03:05 14:22:10", OFFSET_TIME_ORIGINAL: "+01:00"}
    )
    taken = decode(jpeg_bytes(marked_image(), exif)).taken_at
    assert taken == datetime(2024, 3, 5, 13, 22, 10, tzinfo=UTC)


def test_date_taken_without_offset_is_camera_wall_clock_time():
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = "2024:03:05 14:22:10"
    taken = decode(jpeg_bytes(marked_image(), exif)).taken_at
    assert taken is not None and taken.tzinfo is None
    assert (taken.year, taken.month, taken.day, taken.hour) == (2024, 3, 5, 14)


@pytest.mark.parametrize(
    "stamp",
    [
        "1999:12:31 23:59:59",
        "0000:00:00 00:00:00",
        "yesterday",
        pytest.param(
            (datetime.now(UTC) + timedelta(days=30)).strftime("%Y:%m:%d %H:%M:%S"),
            id="thirty-days-ahead",  # a fixed id: both xdist workers must collect the same
        ),
    ],
)
def test_implausible_date_taken_is_ignored(stamp):
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = stamp
    assert decode(jpeg_bytes(marked_image(), exif)).taken_at is None


def test_sanitised_jpeg_has_no_gps_and_no_device_identity():
    original = jpeg_bytes(marked_image(), gps_tagged_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test is real
    clean = sanitised_jpeg(decode(original))
    stored = Image.open(io.BytesIO(clean))
    exif = stored.getexif()
    assert not exif.get_ifd(GPS_IFD)
    assert MAKE not in exif and MODEL not in exif
    assert not exif.get_ifd(EXIF_IFD)
    assert "exif" not in stored.info
    for secret in (b"Canon", b"EOS R5", b"SN-0042-7731"):
        assert secret not in clean


def test_sanitised_jpeg_is_stored_upright_without_an_orientation_tag():
    exif = gps_tagged_exif()
    exif[ORIENTATION] = 8
    clean = Image.open(io.BytesIO(sanitised_jpeg(decode(jpeg_bytes(marked_image(), exif)))))
    assert clean.size == (64, 96)
    assert ORIENTATION not in clean.getexif()


def test_prepare_upload_gives_clean_file_thumbnail_and_hashes():
    data = jpeg_bytes(marked_image(1200, 900), gps_tagged_exif())
    upload = prepare_upload(data)
    assert (upload.width, upload.height, upload.source_format) == (1200, 900, "JPEG")
    assert upload.taken_at is not None and upload.taken_at.year == 2024
    assert len(upload.sha256) == 64 and upload.sha256 != upload.original_sha256
    assert b"Canon" not in upload.jpeg and b"Canon" not in upload.thumbnail
    assert max(Image.open(io.BytesIO(upload.thumbnail)).size) == 512


def test_thumbnail_keeps_aspect_ratio():
    thumb = Image.open(io.BytesIO(thumbnail_jpeg(decode(jpeg_bytes(marked_image(300, 1200))))))
    assert thumb.size == (128, 512)


def test_reduced_jpeg_decode_uses_draft_and_knows_its_scale():
    data = jpeg_bytes(marked_image(2400, 1800))
    small = decode_reduced(data)
    assert max(small.rgb.shape[:2]) <= 1250
    assert (small.full_width, small.full_height) == (2400, 1800)
    sx, sy = small.scale
    assert sx == pytest.approx(2400 / small.rgb.shape[1])
    assert sy == pytest.approx(1800 / small.rgb.shape[0])


def test_reduced_decode_of_rotated_jpeg_reports_upright_full_size():
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    small = decode_reduced(jpeg_bytes(marked_image(2400, 1600), exif))
    assert (small.full_width, small.full_height) == (1600, 2400)
    assert small.rgb.shape[0] > small.rgb.shape[1]
