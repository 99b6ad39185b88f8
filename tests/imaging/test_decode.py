"""Upload safety: real decoding, refusals, orientation, metadata stripping."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

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
    import pillow_heif  # to write the test file; scarrx loads it only for HEIF uploads

    pillow_heif.register_heif_opener()
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


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied_as_pillow_would(orientation):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    rgb = marked_image()
    rgb[-10:, 40:60] = (20, 20, 220)  # a second mark, so mirror images differ
    data = jpeg_bytes(rgb, exif, quality=95)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    assert np.abs(decode(data).rgb.astype(int) - expected).max() <= 2


def test_png_orientation_after_the_pixel_data_is_applied():
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    data = png_bytes(Image.fromarray(marked_image()))
    chunk = b"eXIf" + exif.tobytes()
    tail = struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
    data = data[:-12] + tail + data[-12:]  # before IEND, after IDAT
    assert decode(data).rgb.shape == (96, 64, 3)


def display_p3_profile() -> bytes:
    """A minimal ICC v2 matrix/TRC profile with Display P3 primaries (gamma 2.2 curves):
    what iPhone photos carry. Written from ICC.1:2001-04 (header, tag table, desc,
    wtpt, r/g/bXYZ, r/g/bTRC), primaries adapted to the D50 PCS by Bradford."""
    from scarrx.imaging.colorimetry import D50_XY, D65_XY, bradford, xy_to_xyz_white

    xy = np.array([[0.680, 0.320], [0.265, 0.690], [0.150, 0.060]])
    columns = np.stack([xy[:, 0] / xy[:, 1], np.ones(3), (1 - xy.sum(axis=1)) / xy[:, 1]])
    white = xy_to_xyz_white(D65_XY)
    matrix = bradford(D65_XY, D50_XY) @ (columns * np.linalg.solve(columns, white))

    def xyz(values) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(struct.pack(">i", round(v * 65536)) for v in values)

    text = b"Display P3 (test)\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67)
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags = [(b"desc", desc), (b"wtpt", xyz(xy_to_xyz_white(D50_XY)))]
    tags += [(name, xyz(matrix[:, k])) for k, name in enumerate((b"rXYZ", b"gXYZ", b"bXYZ"))]
    tags += [(name, curve) for name in (b"rTRC", b"gTRC", b"bTRC")]
    offset, table, body = 128 + 4 + 12 * len(tags), b"", b""
    for name, data in tags:
        data += bytes(-len(data) % 4)
        table += name + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = struct.pack(">I", size) + bytes(4) + b"\x02\x10\0\0" + b"mntrRGB XYZ "
    header += bytes(12) + b"acsp" + bytes(24) + xyz(xy_to_xyz_white(D50_XY))[8:]
    header += bytes(128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + body


def test_display_p3_photo_is_converted_strip_by_strip_as_a_whole_image_would_be():
    rgb = np.random.default_rng(5).integers(0, 255, (600, 90, 3), dtype=np.uint8)
    icc = display_p3_profile()
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG", icc_profile=icc)
    whole = ImageCms.profileToProfile(
        Image.fromarray(rgb),
        ImageCms.ImageCmsProfile(io.BytesIO(icc)),
        ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")),
        outputMode="RGB",
    )
    decoded = decode(buf.getvalue()).rgb
    assert not np.array_equal(decoded, rgb)  # converted: P3 colours are wider than sRGB
    assert np.array_equal(decoded, np.asarray(whole))


def test_an_upload_makes_no_second_copy_of_its_pixels_in_python():
    """Issue 7: a 157 KB PNG of 49 MP cost ~490 MB to take in. The decoder's own buffer
    is outside Python's view; `make bench` measures the whole peak."""
    flat = np.zeros((2000, 3000, 3), dtype=np.uint8)
    flat[::50] = 200
    data = png_bytes(Image.fromarray(flat))
    del flat
    tracemalloc.start()
    try:
        prepare_upload(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.3 * 2000 * 3000 * 3
