"""Who may see a progress photo: every photo page, file and endpoint, for the whole cast.

Deny by default: another patient, an outsider and another prescriber get a 404 (never a
403 that confirms the photo exists); a signed-out visitor is sent to sign in on pages
(never given the image bytes) and gets a 401 from the API. Photos are never at a public
URL, live under random names, and every view of one is an AccessRecord.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from scarrx.access import visible_to
from scarrx.audit.models import AccessRecord, ChangeRecord
from scarrx.photos.models import Measurement, Photo
from scarrx.photos.storage import read_private
from tests.conftest import client_for
from tests.photos.conftest import as_points, upload

JPEG_MAGIC = b"\xff\xd8\xff"

PAGES = [
    ("get", "/photos/{photo}/"),
    ("get", "/photos/{photo}/image.jpg"),
    ("get", "/photos/{photo}/thumb.jpg"),
    ("post", "/photos/{photo}/regions/"),
    ("post", "/photos/{photo}/corners/"),
    ("post", "/photos/{followup}/carry-over/"),
    ("get", "/measurements/{measurement}/compare/"),
    ("get", "/measurements/{measurement}/baseline.jpg"),
    ("get", "/measurements/{measurement}/aligned.jpg"),
    ("get", "/patients/{patient}/photos/new/"),
    ("post", "/patients/{patient}/photos/new/"),
]

ENDPOINTS = [
    ("get", "/api/v1/photos/{photo}"),
    ("get", "/api/v1/photos/{photo}/image"),
    ("get", "/api/v1/patients/{patient}/photos"),
    ("post", "/api/v1/patients/{patient}/photos"),
    ("post", "/api/v1/photos/{photo}/measurements"),
    ("post", "/api/v1/photos/{photo}/corners"),
    ("post", "/api/v1/photos/{followup}/align"),
]

# GET views that show a photo, and the AccessRecord each must write.
SHOWN = [
    ("/photos/{photo}/", "photo-detail"),
    ("/photos/{photo}/image.jpg", "photo-file"),
    ("/photos/{photo}/thumb.jpg", "photo-thumb"),
    ("/measurements/{measurement}/compare/", "photo-compare"),
    ("/measurements/{measurement}/baseline.jpg", "photo-compare-image"),
    ("/measurements/{measurement}/aligned.jpg", "photo-compare-image"),
    ("/api/v1/photos/{photo}", "api:get_photo"),
    ("/api/v1/photos/{photo}/image", "api:photo_image"),
    ("/api/v1/patients/{patient}/photos", "api:list_photos"),
]

INTRUDERS = ["outsider", "other_prescriber", "other_patient_user"]


@pytest.fixture
def request_fixture(request):
    """Look a cast member up by name, for tests parametrized over the cast."""
    return request.getfixturevalue


@pytest.fixture
def urls(baseline_photo, followup_measurement, baseline_phantom):
    ids = {
        "photo": baseline_photo.public_id,
        "followup": followup_measurement.photo.public_id,
        "measurement": followup_measurement.public_id,
        "patient": baseline_photo.patient.public_id,
    }
    return lambda template: template.format(**ids)


def post_body(url: str, phantom) -> dict:
    """A body the view would accept from someone allowed, so only access is tested."""
    if url.endswith("/regions/"):
        return {"roi": as_points(phantom.roi), "reference": as_points(phantom.reference)}
    if url.endswith("/corners/"):
        return {"corners": as_points(phantom.chart_corners)}
    if url.endswith("/measurements"):
        return {"roi": phantom.roi, "reference": phantom.reference}
    if url.endswith("/corners"):
        return {"corners": phantom.chart_corners.tolist()}
    if url.endswith(("/photos/new/", "/photos")):
        return {
            "file": SimpleUploadedFile("x.jpg", phantom.jpeg),
            "site": "cheeks",
            "view": "front",
            "taken_at": "2026-02-01T10:00",
        }
    return {}


def call(client, method: str, url: str, phantom):
    if method == "get":
        return client.get(url)
    body = post_body(url, phantom)
    if url.startswith("/api/") and not url.endswith("/photos"):
        return client.post(url, json.dumps(body), content_type="application/json")
    return client.post(url, body)


def counts() -> dict:
    return {
        "photos": Photo.objects.count(),
        "measurements": Measurement.objects.count(),
        "changes": ChangeRecord.objects.count(),
    }


@pytest.mark.parametrize("who", INTRUDERS)
def test_intruder_gets_404_for_every_photo_page_file_and_endpoint(
    request_fixture, who, urls, baseline_phantom
):
    user = request_fixture(who)
    client = client_for(user)
    before = counts()

    statuses = {
        f"{method.upper()} {urls(url)}": call(client, method, urls(url), baseline_phantom)
        for method, url in PAGES + ENDPOINTS
    }

    assert {k: r.status_code for k, r in statuses.items()} == dict.fromkeys(statuses, 404)
    for response in statuses.values():
        assert not response.content.startswith(JPEG_MAGIC)
    assert counts() == before  # nothing written on their behalf
    assert not AccessRecord.objects.filter(user=user).exists()


def test_signed_out_visitor_is_sent_to_sign_in_and_never_gets_the_image(urls, baseline_phantom):
    client = client_for(None)
    before = counts()
    for method, template in PAGES:
        url = urls(template)
        response = call(client, method, url, baseline_phantom)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url
        assert not response.content.startswith(JPEG_MAGIC), url
    for method, template in ENDPOINTS:
        response = call(client, method, urls(template), baseline_phantom)
        assert response.status_code == 401, template
        assert response.json() == {
            "errors": [{"field": None, "message": "Sign in or send a bearer token."}]
        }
    assert counts() == before


def test_patient_may_get_their_own_photo_through_the_api_but_not_another(
    patient_user, baseline_photo, other_patient, pharmacist, other_photo_consent, unrelated_phantom
):
    theirs = upload(other_patient, pharmacist, unrelated_phantom.jpeg)
    client = client_for(patient_user)

    image = client.get(f"/api/v1/portal/photos/{baseline_photo.public_id}/image")
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert image.content == read_private(baseline_photo.file)
    listed = client.get("/api/v1/portal/photos")
    assert [p["id"] for p in listed.json()["items"]] == [str(baseline_photo.public_id)]

    assert client.get(f"/api/v1/portal/photos/{theirs.public_id}/image").status_code == 404
    # The staff API is not theirs, even for their own photo.
    assert client.get(f"/api/v1/photos/{baseline_photo.public_id}").status_code == 404
    assert client.get(f"/api/v1/photos/{theirs.public_id}/image").status_code == 404
    # The console is for staff: a patient's own photo page is not theirs to open.
    assert client.get(f"/photos/{baseline_photo.public_id}/").status_code == 404
    assert client.get(f"/photos/{baseline_photo.public_id}/image.jpg").status_code == 404


@pytest.mark.parametrize("who", ["pharmacist", "prescriber", "technician"])
def test_pharmacy_staff_and_the_patients_prescriber_can_view(request_fixture, who, urls):
    client = client_for(request_fixture(who))
    for template, _ in SHOWN:
        response = client.get(urls(template))
        assert response.status_code == 200, template
        if template.endswith((".jpg", "/image")):
            assert response["Content-Type"] == "image/jpeg"
            assert response["Cache-Control"] == "private, no-store"
            Image.open(io.BytesIO(response.content)).verify()


def test_every_view_of_a_photo_writes_an_access_record(pharmacist, urls, patient):
    client = client_for(pharmacist)
    for template, what in SHOWN:
        before = AccessRecord.objects.filter(user=pharmacist, what=what).count()
        assert client.get(urls(template)).status_code == 200, template
        records = AccessRecord.objects.filter(user=pharmacist, what=what)
        assert records.count() == before + 1, template
        latest = records.order_by("-pk").first()
        assert (latest.patient, latest.path) == (patient, urls(template))
        assert latest.via == ("api" if template.startswith("/api/") else "web")


def test_private_storage_gives_photos_no_url(baseline_photo):
    # Django's storages raise ValueError("This file is not accessible via a URL.") when
    # they have no base URL; a URL here would be one config change from public.
    with pytest.raises(ValueError, match="no URL"):
        default_storage.url(baseline_photo.file)


def test_nothing_serves_a_photo_by_its_storage_name(baseline_photo, pharmacist):
    client = client_for(pharmacist)
    for guess in (f"/{baseline_photo.file}", f"/media/{baseline_photo.file}"):
        response = client.get(guess)
        assert response.status_code == 404, guess
        assert not response.content.startswith(JPEG_MAGIC)


def test_stored_file_names_are_random_not_the_upload_name(
    patient, technician, photo_consent, baseline_phantom
):
    first = upload(patient, technician, baseline_phantom.jpeg)
    second = upload(patient, technician, baseline_phantom.jpeg)
    names = [first.file, first.thumbnail, second.file, second.thumbnail]
    assert len(set(names)) == 4  # same bytes, different names
    for name in names:
        assert re.fullmatch(r"photos/[0-9a-f]{4}/[A-Za-z0-9_-]{32}\.jpg", name), name
        assert str(patient.public_id) not in name and patient.record_number not in name
    assert first.sha256 == second.sha256  # the same picture, told apart by its hash only


@pytest.fixture
def prescriber_without_photo_permission(prescriber, monkeypatch):
    """The patient's own prescriber, in a pharmacy whose prescriber role has no
    photos.view_photo: a staff role is not enough on its own."""
    from scarrx.accounts.roles import PRESCRIBER, ROLE_PERMISSIONS, Perm

    monkeypatch.setitem(
        ROLE_PERMISSIONS, PRESCRIBER, ROLE_PERMISSIONS[PRESCRIBER] - {Perm.VIEW_PHOTO}
    )
    return type(prescriber).objects.get(pk=prescriber.pk)  # no cached permissions


def test_staff_without_the_view_permission_see_no_photos(
    prescriber_without_photo_permission, urls, baseline_photo
):
    user = prescriber_without_photo_permission
    assert not visible_to(user, Photo).exists()
    assert not visible_to(user, Measurement).exists()
    client = client_for(user)
    for template, _ in SHOWN:
        response = client.get(urls(template))
        assert response.status_code == 404, template
        assert not response.content.startswith(JPEG_MAGIC)


def test_a_patient_sees_their_own_photos_and_no_one_elses(
    patient_user, baseline_photo, other_patient, pharmacist, other_photo_consent, unrelated_phantom
):
    upload(other_patient, pharmacist, unrelated_phantom.jpeg)
    assert list(visible_to(patient_user, Photo)) == [baseline_photo]
