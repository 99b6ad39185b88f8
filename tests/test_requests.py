"""Requests refused before any view: too large, malformed, too many fields or files, an
unknown API route. The API answers in its one JSON error shape, console pages with a
plain page, in debug mode as in production: never a 500, never a traceback."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import client_for

MB = 2**20


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def mode(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def caller(mode, pharmacist):
    client = client_for(pharmacist)
    client.raise_request_exception = False
    return client


def api_error(response, status: int) -> str:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    (error,) = response.json()["errors"]
    return error["message"]


def plain_page(response, status: int) -> str:
    assert response.status_code == status, response.content[:300]
    html = response.content.decode()
    assert "Traceback" not in html and "DJANGO_SETTINGS_MODULE" not in html
    return html


def photos_url(patient) -> str:
    return f"/api/v1/patients/{patient.public_id}/photos"


def test_a_json_body_over_the_upload_limit_is_413_in_the_one_shape(caller):
    body = json.dumps({"given_name": "x" * (6 * MB)})

    response = caller.post("/api/v1/patients", body, content_type="application/json")

    assert "too large" in api_error(response, 413)


def test_a_multipart_body_without_a_boundary_is_400_in_the_one_shape(caller, patient):
    response = caller.post(photos_url(patient), b"--x\r\n\r\n", content_type="multipart/form-data")

    assert "cannot be read" in api_error(response, 400)


def test_over_a_thousand_fields_is_400_in_the_api_and_a_plain_page_on_the_console(caller):
    body = "&".join(f"f{i}=1" for i in range(1001))
    form = "application/x-www-form-urlencoded"

    assert "more than 1000 fields" in api_error(
        caller.post("/api/v1/patients", body, content_type=form), 400
    )
    assert "more than 1000 fields" in plain_page(
        caller.post("/patients/new/", body, content_type=form), 400
    )
    assert "more than 1000 fields" in plain_page(caller.get(f"/patients/?{body}"), 400)


def test_over_a_hundred_files_is_400(caller, patient):
    files = {f"file{i}": SimpleUploadedFile(f"{i}.jpg", b"x") for i in range(101)}

    response = caller.post(photos_url(patient), {"site": "cheeks", "view": "front", **files})

    assert "more than 100 files" in api_error(response, 400)


def multipart(file_name: str) -> bytes:
    """A photo upload written by hand: the test client would shorten the file name."""
    head = f'Content-Disposition: form-data; name="file"; filename="{file_name}"'
    return (
        f"--B\r\n{head}\r\nContent-Type: image/jpeg\r\n\r\nxx\r\n"
        '--B\r\nContent-Disposition: form-data; name="site"\r\n\r\ncheeks\r\n--B--\r\n'
    ).encode()


def test_a_file_name_of_a_thousand_characters_is_400_not_a_500(caller, patient):
    body = multipart("a" * 1000 + ".jpg")
    form = "multipart/form-data; boundary=B"

    assert "cannot be read" in api_error(
        caller.post(photos_url(patient), body, content_type=form), 400
    )
    assert "cannot be read" in plain_page(
        caller.post(f"/patients/{patient.public_id}/photos/new/", body, content_type=form), 400
    )


def test_a_console_post_without_a_boundary_gets_a_plain_page(caller):
    response = caller.post("/patients/new/", b"--x\r\n\r\n", content_type="multipart/form-data")

    assert "cannot be read" in plain_page(response, 400)


def test_an_unknown_api_route_is_a_json_404(caller):
    for path in ("/api/v1/nothing-here", "/api/v1/patients/", "/api/v2/patients"):
        assert api_error(caller.get(path), 404) == "Not found."


def test_a_wrong_method_on_an_api_route_answers_in_the_one_shape(caller):
    assert api_error(caller.delete("/api/v1/patients"), 405)


def test_an_unauthenticated_api_post_is_401_not_a_csrf_failure(client, db):
    client.raise_request_exception = False

    response = client.post("/api/v1/patients", "{}", content_type="application/json")

    assert "bearer token" in api_error(response, 401)
