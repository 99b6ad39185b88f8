"""The reduced pictures the pages show: rendered once, when what they depend on is
fixed (a photo's preview at upload and when its corners change; an aligned follow-up
when its measurement is made), kept in private storage, and served without decoding
the photo again. Colour-corrected only when the photo is calibrated."""

from __future__ import annotations

import stat

import pytest
from django.core.files.storage import default_storage

from scarrx.imaging import render
from scarrx.photos import services
from scarrx.photos.models import Measurement, Photo
from scarrx.photos.storage import read_private
from tests.conftest import client_for
from tests.photos.conftest import as_points, stored_files, upload


@pytest.fixture
def no_rendering(monkeypatch):
    """Serving a page's picture must not decode and recalibrate the photo."""

    def refuse(*args, **kwargs):
        raise AssertionError("a preview was rendered while serving a page")

    monkeypatch.setattr(render, "corrected_preview", refuse)


def get_jpeg(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    return response.content


def test_previews_are_served_from_storage_without_rendering(
    pharmacist, followup_measurement, no_rendering
):
    base_photo = followup_measurement.baseline.photo
    client = client_for(pharmacist)
    assert get_jpeg(client, f"/photos/{base_photo.public_id}/preview.jpg") == read_private(
        base_photo.preview
    )
    url = f"/measurements/{followup_measurement.public_id}/"
    assert get_jpeg(client, url + "baseline.jpg") == read_private(base_photo.preview)
    assert get_jpeg(client, url + "aligned.jpg") == read_private(followup_measurement.preview)


def test_stored_previews_are_what_rendering_would_give(pharmacist, followup_measurement):
    """Photos stored before previews were kept have none: rendered on demand, the same."""
    base_photo = followup_measurement.baseline.photo
    stored = read_private(base_photo.preview), read_private(followup_measurement.preview)
    Photo.objects.filter(pk=base_photo.pk).update(preview="")
    Measurement.objects.filter(pk=followup_measurement.pk).update(preview="")

    client = client_for(pharmacist)
    url = f"/measurements/{followup_measurement.public_id}/"
    assert get_jpeg(client, f"/photos/{base_photo.public_id}/preview.jpg") == stored[0]
    assert get_jpeg(client, url + "baseline.jpg") == stored[0]
    assert get_jpeg(client, url + "aligned.jpg") == stored[1]


def test_preview_is_colour_corrected_only_when_the_photo_is_calibrated(
    pharmacist, baseline_photo, patient, technician, no_chart_phantom
):
    photo = baseline_photo
    original = read_private(photo.file)
    corrected = render.preview_jpeg(original, photo.chart_corners)
    as_taken = render.preview_jpeg(original, None)
    assert corrected != as_taken  # the cast was strong: correction shows
    assert read_private(photo.preview) == corrected

    chartless = upload(patient, technician, no_chart_phantom.jpeg)
    assert read_private(chartless.preview) == render.preview_jpeg(
        read_private(chartless.file), None
    )

    # A chart found but whose fit was refused: its corners are known, yet not used.
    Photo.objects.filter(pk=photo.pk).update(calibrated=False, preview="")
    url = f"/photos/{photo.public_id}/preview.jpg"
    assert get_jpeg(client_for(pharmacist), url) == as_taken


def test_new_chart_corners_give_a_new_colour_corrected_preview(
    pharmacist, patient, technician, photo_consent, chart_missed_phantom
):
    photo = upload(patient, technician, chart_missed_phantom.jpeg)
    original = read_private(photo.file)
    assert read_private(photo.preview) == render.preview_jpeg(original, None)
    client = client_for(pharmacist)
    response = client.post(
        f"/photos/{photo.public_id}/corners/",
        {"corners": as_points(chart_missed_phantom.chart_corners)},
    )
    assert response.status_code == 302

    photo.refresh_from_db()
    assert photo.calibrated
    served = get_jpeg(client, f"/photos/{photo.public_id}/preview.jpg")
    assert served == render.preview_jpeg(original, photo.chart_corners)


def test_the_preview_replaced_by_new_corners_is_removed_from_storage(
    pharmacist, patient, technician, photo_consent, chart_missed_phantom,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    photo = upload(patient, technician, chart_missed_phantom.jpeg)
    first = photo.preview
    files_before = stored_files()

    with django_capture_on_commit_callbacks(execute=True):
        services.set_chart_corners(
            photo, actor=pharmacist, corners=chart_missed_phantom.chart_corners.tolist()
        )

    photo.refresh_from_db()
    assert photo.preview != first
    assert not default_storage.exists(first)
    assert len(stored_files()) == len(files_before)  # the new preview in place of the old


def test_private_files_are_readable_by_the_service_only(baseline_photo):
    for path in stored_files():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path.parent
