"""Uploading a progress photo from the console page and the API: what is stored (a clean,
upright, calibrated JPEG under a random name, its thumbnail, hashes and the consent in
force), and what is refused with a message naming the field, nothing stored half-way."""

from __future__ import annotations

import hashlib
import html
import io
from datetime import UTC, date, datetime

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.utils import timezone
from PIL import ExifTags, Image

from scarrx.audit.models import ChangeRecord
from scarrx.patients.services import record_consent
from scarrx.photos import services
from scarrx.photos.models import Photo
from scarrx.photos.storage import read_private
from tests.conftest import client_for
from tests.photos.conftest import (
    BASELINE_TAKEN,
    MAKE,
    MODEL,
    ZONE,
    stored_files,
    upload,
)

CHANNELS = ["page", "api"]
UPLOAD_NAME = "IMG_0412.jpg"


def send(channel: str, client, patient, data: bytes, *, name: str = UPLOAD_NAME, **fields):
    """POST a photo through the console page or the API; (response, {field: message})."""
    body = {
        "file": SimpleUploadedFile(name, data, content_type="image/jpeg"),
        "site": "cheeks",
        "view": "front",
        "taken_at": BASELINE_TAKEN.strftime("%Y-%m-%dT%H:%M"),
    } | fields
    body = {k: v for k, v in body.items() if v is not None}
    if channel == "page":
        response = client.post(f"/patients/{patient.public_id}/photos/new/", body)
        form = response.context["form"] if response.context else None
        errors = {k: " ".join(v) for k, v in form.errors.items()} if form else {}
    else:
        response = client.post(f"/api/v1/patients/{patient.public_id}/photos", body)
        errors = {}
        if response.status_code >= 400:
            for e in response.json()["errors"]:
                errors[e["field"]] = (errors.get(e["field"], "") + " " + e["message"]).strip()
    return response, errors


def only_photo() -> Photo:
    return Photo.objects.get()


def stored_image(name: str) -> Image.Image:
    img = Image.open(io.BytesIO(read_private(name)))
    img.load()
    return img


def assert_nothing_stored() -> None:
    assert Photo.objects.count() == 0
    assert stored_files() == []
    assert not ChangeRecord.objects.filter(action="photo.uploaded").exists()


# --- what is stored ------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_technician_uploads_a_phantom_photo_and_it_is_calibrated_and_recorded(
    channel, technician, patient, photo_consent, baseline_phantom
):
    response, errors = send(channel, client_for(technician), patient, baseline_phantom.jpeg)

    assert errors == {}
    photo = only_photo()
    if channel == "page":
        assert response.status_code == 302
        assert response["Location"] == f"/photos/{photo.public_id}/"
    else:
        assert response.status_code == 201
        body = response.json()
        assert body["id"] == str(photo.public_id)
        assert body["calibrated"] is True
        assert body["image_url"] == f"/api/v1/photos/{photo.public_id}/image"
    assert (photo.patient, photo.uploaded_by, photo.site, photo.view) == (
        patient,
        technician,
        "cheeks",
        "front",
    )
    assert photo.calibrated is True
    assert photo.uncalibrated_reason == ""
    assert 0 < photo.calibration["heldout_delta_e2000"] < 2.0
    assert photo.calibration["uncorrected_delta_e2000"] >= 5.0  # the cast was strong
    assert len(photo.chart_corners) == 4
    assert photo.px_per_mm == pytest.approx(baseline_phantom.px_per_mm, rel=0.03)
    assert (photo.width, photo.height, photo.source_format) == (1000, 750, "JPEG")
    assert (photo.taken_at, photo.taken_at_source) == (BASELINE_TAKEN, "given")
    assert photo.consent == photo_consent
    assert photo.algorithm_version.startswith("scarrx-imaging/")

    stored = read_private(photo.file)
    assert photo.sha256 == hashlib.sha256(stored).hexdigest()
    assert photo.original_sha256 == hashlib.sha256(baseline_phantom.jpeg).hexdigest()
    assert stored_image(photo.file).size == (1000, 750)
    thumb = stored_image(photo.thumbnail)
    assert thumb.format == "JPEG" and max(thumb.size) <= 512
    preview = stored_image(photo.preview)
    assert preview.format == "JPEG" and max(preview.size) == 1000  # never enlarged
    assert len(stored_files()) == 3  # the photo, its thumbnail and its preview: nothing else

    change = ChangeRecord.objects.get(action="photo.uploaded")
    assert (change.actor, change.patient, change.object_id) == (
        technician,
        patient,
        str(photo.public_id),
    )
    assert "calibrated" in change.summary
    assert change.data["sha256"] == photo.sha256


def test_upload_page_says_the_photo_is_calibrated_with_its_scale(
    technician, patient, photo_consent, baseline_phantom
):
    client = client_for(technician)
    response = client.post(
        f"/patients/{patient.public_id}/photos/new/",
        {
            "file": SimpleUploadedFile(UPLOAD_NAME, baseline_phantom.jpeg),
            "site": "cheeks",
            "view": "front",
            "taken_at": "2026-01-10T10:30",
        },
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Photo stored and calibrated by its colour chart." in page
    assert 'data-calibrated="yes"' in page
    assert f"{baseline_phantom.px_per_mm:.1f} <small>px/mm</small>" in page


def test_the_consent_in_force_is_the_one_linked(technician, pharmacist, patient, baseline_phantom):
    today = timezone.localdate()
    record_consent(
        patient=patient, actor=pharmacist, kind="photographs", granted=True, given_on=today
    )
    record_consent(
        patient=patient, actor=pharmacist, kind="photographs", granted=False, given_on=today
    )
    again = record_consent(
        patient=patient, actor=pharmacist, kind="photographs", granted=True, given_on=today
    )
    send("api", client_for(technician), patient, baseline_phantom.jpeg)
    assert only_photo().consent == again


@pytest.mark.parametrize(
    ("fixture", "source_format"), [("png_bytes", "PNG"), ("heic_bytes", "HEIF")]
)
def test_png_and_iphone_heic_are_accepted(
    request, fixture, source_format, technician, patient, photo_consent, baseline_phantom
):
    data = request.getfixturevalue(fixture)
    # The name and declared type are not trusted: the bytes are decoded for real.
    response, errors = send("api", client_for(technician), patient, data, name="photo.jpg")
    assert response.status_code == 201, errors
    photo = only_photo()
    assert (photo.source_format, photo.width, photo.height) == (source_format, 1000, 750)
    assert photo.calibrated is True
    assert photo.px_per_mm == pytest.approx(baseline_phantom.px_per_mm, rel=0.03)
    assert stored_image(photo.file).format == "JPEG"


def test_exif_orientation_is_applied_so_the_stored_photo_is_upright(
    technician, patient, photo_consent, sideways_jpeg, baseline_image
):
    assert Image.open(io.BytesIO(sideways_jpeg)).size == (750, 1000)  # on its side
    response, errors = send("page", client_for(technician), patient, sideways_jpeg)
    assert response.status_code == 302, errors

    photo = only_photo()
    assert (photo.width, photo.height) == (1000, 750)
    upright = stored_image(photo.file)
    assert upright.size == (1000, 750)
    difference = np.abs(np.asarray(upright, float) - np.asarray(baseline_image, float)).mean()
    assert difference < 4  # the same picture, not a rotated or mirrored one
    assert photo.calibrated is True


@pytest.mark.parametrize("channel", CHANNELS)
def test_gps_and_camera_identity_are_stripped_from_the_stored_file(
    channel, technician, patient, photo_consent, located_jpeg
):
    response, errors = send(channel, client_for(technician), patient, located_jpeg)
    assert response.status_code in (201, 302), errors

    photo = only_photo()
    for name in (photo.file, photo.thumbnail, photo.preview):
        data = read_private(name)
        exif = Image.open(io.BytesIO(data)).getexif()
        assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert ExifTags.Base.Make not in exif and ExifTags.Base.Model not in exif
        assert len(exif) == 0  # no EXIF at all
        assert b"Exif\x00\x00" not in data
        assert MAKE.encode() not in data and MODEL.encode() not in data
    assert photo.sha256 != photo.original_sha256


def test_taken_at_comes_from_exif_when_the_photo_says(
    technician, patient, photo_consent, located_jpeg
):
    response, errors = send("api", client_for(technician), patient, located_jpeg)
    assert response.status_code == 201, errors
    photo = only_photo()
    # EXIF DateTimeOriginal wins over the given time; camera wall-clock, pharmacy's zone.
    assert photo.taken_at == datetime(2025, 6, 1, 9, 15, tzinfo=ZONE)
    assert photo.taken_at_source == "exif"
    assert response.json()["taken_at_source"] == "exif"


def jpeg_taken(image: Image.Image, stamp: str, offset: str | None = None) -> bytes:
    exif = Image.Exif()
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    ifd[ExifTags.Base.DateTimeOriginal] = stamp
    if offset:
        ifd[ExifTags.Base.OffsetTimeOriginal] = offset
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


def test_exif_time_with_its_utc_offset_is_read_as_that_instant(
    technician, patient, photo_consent, baseline_image
):
    data = jpeg_taken(baseline_image, "2025:06:01 16:15:00", "+02:00")
    response, errors = send("api", client_for(technician), patient, data)
    assert response.status_code == 201, errors
    assert only_photo().taken_at == datetime(2025, 6, 1, 14, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "stamp", ["2000:01:01 00:00:00", "2099:01:01 10:00:00"], ids=["clock_never_set", "future"]
)
def test_untrustworthy_exif_time_gives_way_to_the_given_time(
    stamp, technician, patient, photo_consent, baseline_image
):
    response, errors = send(
        "api", client_for(technician), patient, jpeg_taken(baseline_image, stamp)
    )
    assert response.status_code == 201, errors
    photo = only_photo()
    assert (photo.taken_at, photo.taken_at_source) == (BASELINE_TAKEN, "given")


@pytest.mark.parametrize("channel", CHANNELS)
def test_photo_with_no_time_at_all_is_refused_naming_taken_at(
    channel, technician, patient, photo_consent, baseline_phantom
):
    response, errors = send(
        channel, client_for(technician), patient, baseline_phantom.jpeg, taken_at=None
    )
    assert response.status_code == 422
    assert "taken_at" in errors
    assert "when it was taken" in errors["taken_at"]
    assert_nothing_stored()


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(
    ("taken_at", "says"),
    [
        ("2000-05-16T23:59", "before the patient was born (17 May 2000)"),
        ("1999-06-01T10:00", "before the patient was born"),
        ("0001-01-01T00:00", "before the patient was born"),
        ("2099-01-01T10:00", "in the future"),
    ],
    ids=["day_before_birth", "year_before_birth", "year_one", "future"],
)
def test_taken_at_outside_the_patients_life_is_refused_naming_taken_at(
    channel, taken_at, says, technician, patient, photo_consent, located_jpeg
):
    """Even when the photo's own EXIF time is fine: the time typed in is wrong."""
    response, errors = send(
        channel, client_for(technician), patient, located_jpeg, taken_at=taken_at
    )
    assert response.status_code == 422
    assert set(errors) == {"taken_at"}
    assert says in errors["taken_at"]
    assert_nothing_stored()


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_time_the_clocks_skipped_is_refused(
    channel, settings, technician, patient, photo_consent, baseline_phantom
):
    settings.TIME_ZONE = "America/New_York"  # clocks went from 2:00 to 3:00 on 9 Mar 2025
    response, errors = send(
        channel, client_for(technician), patient, baseline_phantom.jpeg, taken_at="2025-03-09T02:30"
    )

    assert response.status_code == 422
    assert set(errors) == {"taken_at"}
    assert "never happened in America/New_York" in errors["taken_at"]
    assert_nothing_stored()


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_time_that_happened_twice_is_read_as_the_first(
    channel, settings, technician, patient, photo_consent, baseline_phantom
):
    settings.TIME_ZONE = "America/New_York"  # clocks went from 2:00 back to 1:00 on 2 Nov 2025
    response, _ = send(
        channel, client_for(technician), patient, baseline_phantom.jpeg, taken_at="2025-11-02T01:30"
    )

    assert response.status_code in (201, 302)
    assert only_photo().taken_at == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30 EDT


@pytest.mark.parametrize(
    "taken_at",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00Z"],
    ids=["year_one_east", "year_9999_west", "year_one_utc"],
)
def test_api_times_at_the_ends_of_the_calendar_are_a_422_not_a_500(
    taken_at, technician, patient, photo_consent, baseline_phantom
):
    client = client_for(technician)
    client.raise_request_exception = False  # a 500 must show as one, not as an exception
    response, errors = send("api", client, patient, baseline_phantom.jpeg, taken_at=taken_at)
    assert response.status_code == 422
    assert set(errors) == {"taken_at"}
    assert_nothing_stored()


def test_a_digital_photo_cannot_be_dated_before_2000(
    technician, patient, photo_consent, baseline_phantom
):
    type(patient).objects.filter(pk=patient.pk).update(date_of_birth=date(1975, 3, 2))
    response, errors = send(
        "api", client_for(technician), patient, baseline_phantom.jpeg, taken_at="1999-12-31T12:00"
    )
    assert response.status_code == 422
    assert errors == {"taken_at": "A digital photo cannot be dated before 1 Jan 2000."}
    assert_nothing_stored()


def test_exif_time_before_the_patient_was_born_gives_way_to_the_given_time(
    technician, patient, photo_consent, baseline_image
):
    # A plausible camera date in general (after 2000), impossible for this patient.
    data = jpeg_taken(baseline_image, "2000:03:01 09:00:00")
    response, errors = send("api", client_for(technician), patient, data)
    assert response.status_code == 201, errors
    photo = only_photo()
    assert (photo.taken_at, photo.taken_at_source) == (BASELINE_TAKEN, "given")


@pytest.mark.parametrize("channel", CHANNELS)
def test_file_over_40_mb_is_refused_naming_the_file(channel, technician, patient, photo_consent):
    data = b"\xff\xd8\xff" + bytes(services.MAX_UPLOAD_BYTES - 2)  # one byte over
    response, errors = send(channel, client_for(technician), patient, data)
    assert response.status_code == 422
    assert errors == {"file": "The file is larger than 40 MB."}
    assert_nothing_stored()


def test_upload_page_says_which_photo_consent_is_in_force(technician, patient, photo_consent):
    page = client_for(technician).get(f"/patients/{patient.public_id}/photos/new/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-consent="granted"' in text
    assert f"Consent to photographs given {photo_consent.given_on:%-d %b %Y}" in text
    assert 'type="file"' in text


@pytest.mark.parametrize("consent", ["never_asked", "withdrawn"])
def test_upload_page_without_photo_consent_says_so_and_offers_no_file_input(
    consent, technician, pharmacist, patient
):
    if consent == "withdrawn":
        for granted, day in ((True, date(2026, 1, 5)), (False, date(2026, 2, 9))):
            record_consent(
                patient=patient, actor=pharmacist, kind="photographs", granted=granted, given_on=day
            )
    page = client_for(technician).get(f"/patients/{patient.public_id}/photos/new/")
    text = html.unescape(page.content.decode())
    assert page.status_code == 200
    assert "No consent to photographs is in force" in text
    if consent == "withdrawn":
        assert 'data-consent="withdrawn"' in text
        assert "Consent to photographs withdrawn on 9 Feb 2026" in text
    else:
        assert 'data-consent="none"' in text
        assert "has never been recorded" in text
    assert 'type="file"' not in text
    assert "Upload and analyse" not in text


def test_photo_without_a_chart_is_stored_uncalibrated_with_the_reason(
    technician, patient, photo_consent, no_chart_phantom
):
    client = client_for(technician)
    response, errors = send("page", client, patient, no_chart_phantom.jpeg)
    assert response.status_code == 302, errors

    photo = only_photo()
    assert photo.calibrated is False
    assert "no colour chart found" in photo.uncalibrated_reason
    assert photo.px_per_mm is None
    assert len(stored_files()) == 3
    page = client.get(response["Location"]).content.decode()
    assert 'data-calibrated="no"' in page
    assert "no colour chart found" in page
    assert '<li class="warning">Photo stored, but not calibrated' in page  # not a success
    assert "yellow" not in page  # there is no chart to outline


def test_a_refused_upload_says_the_file_must_be_chosen_again(technician, patient, photo_consent):
    response, errors = send("page", client_for(technician), patient, b"not a photo")

    assert response.status_code == 422 and "file" in errors
    assert "choose the photo again" in response.content.decode()


# --- what is refused -----------------------------------------------------------------

BAD_FILES = [
    ("text", "not an image"),
    ("truncated_jpeg", "truncated"),
    ("bomb_png", "too many pixels"),
    ("jpeg_200_megapixels", "limit is 50 megapixels"),
    ("transparent_png", "alpha"),
]


@pytest.fixture
def text() -> bytes:
    return b"Patient: Ada Example\nThis is not a photo, just a note saved as .jpg.\n" * 20


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(("fixture", "says"), BAD_FILES, ids=[f for f, _ in BAD_FILES])
def test_bad_file_is_refused_naming_the_file_and_nothing_is_stored(
    request, channel, fixture, says, technician, patient, photo_consent
):
    data = request.getfixturevalue(fixture)
    response, errors = send(channel, client_for(technician), patient, data)
    assert response.status_code == 422
    assert set(errors) == {"file"}
    assert says in errors["file"]
    assert_nothing_stored()


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(("field", "value"), [("site", "elbow"), ("view", "overhead")])
def test_unknown_site_or_view_is_refused(
    channel, field, value, technician, patient, photo_consent, baseline_phantom
):
    response, errors = send(
        channel, client_for(technician), patient, baseline_phantom.jpeg, **{field: value}
    )
    assert response.status_code == 422
    assert set(errors) == {field}
    assert value in errors[field]
    assert_nothing_stored()


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("consent", ["never_asked", "withdrawn"])
def test_photo_of_a_patient_without_photo_consent_is_refused(
    channel, consent, technician, pharmacist, patient, baseline_phantom
):
    if consent == "withdrawn":
        for granted in (True, False):
            record_consent(
                patient=patient,
                actor=pharmacist,
                kind="photographs",
                granted=granted,
                given_on=timezone.localdate(),
            )
    response, errors = send(channel, client_for(technician), patient, baseline_phantom.jpeg)
    assert response.status_code == 422
    assert "consented to photographs" in " ".join(errors.values())
    assert_nothing_stored()


def test_a_failure_after_the_files_are_written_leaves_no_orphan_files(
    monkeypatch, technician, patient, photo_consent, baseline_phantom
):
    """Nothing stored half-way: if the database write fails (here, the audit row), the
    rolled-back upload must not leave the patient's photo behind in private storage."""

    def lost_connection(**kwargs):
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "record_change", lost_connection)
    with pytest.raises(DatabaseError):
        upload(patient, technician, baseline_phantom.jpeg)
    assert Photo.objects.count() == 0
    assert stored_files() == []
