"""No cache keeps patient data: every response is `private, no-store` unless its view
says otherwise, and only public assets (static files, the capture guide's example
pictures) say otherwise. Photo and preview images are checked in tests/photos."""

from __future__ import annotations

import pytest

from tests.conftest import client_for


def never_stored(response) -> bool:
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    return {"private", "no-store"} <= directives


@pytest.mark.parametrize(
    "path",
    [
        "/patients/",
        "/patients/{patient}/",
        "/patients/{patient}/timeline/",
        "/patients/{patient}/edit/",
        "/assessments/{assessment}/",
        "/audit/patients/{patient}/",
        "/api/v1/patients",
        "/api/v1/patients/{patient}",
        "/api/v1/patients/{patient}/assessments",
        "/api/v1/assessments/{assessment}",
        "/api/v1/audit/patients/{patient}/changes",
        "/api/v1/patients/00000000-0000-0000-0000-000000000000",  # a refusal too
    ],
)
def test_every_response_with_patient_data_is_private_and_never_stored(
    as_pharmacist, baseline, patient, path
):
    url = path.format(patient=patient.public_id, assessment=baseline.public_id)

    response = as_pharmacist.get(url)

    assert response.status_code in (200, 404)
    assert never_stored(response), response.get("Cache-Control")


def test_a_refused_write_is_not_stored_either(as_pharmacist):
    response = as_pharmacist.post("/api/v1/patients", "{}", content_type="application/json")

    assert response.status_code == 422
    assert never_stored(response)


def test_public_assets_keep_their_own_caching(client, db):
    guide_picture = client.get("/photos/guide/front.jpg")
    stylesheet = client.get("/static/scarrx/console.css")
    stylesheet.close()  # WhiteNoise streams the file

    assert "public" in guide_picture["Cache-Control"]
    assert "no-store" not in stylesheet.get("Cache-Control", "")
    assert stylesheet.status_code == 200


def test_the_sign_in_page_is_not_stored(client, db):
    assert never_stored(client.get("/login/"))


def test_the_portal_record_is_not_stored_either(patient):
    assert never_stored(client_for(patient.user).get("/api/v1/portal/me"))
