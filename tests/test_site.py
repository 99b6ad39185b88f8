"""Site-wide promises: nothing loaded from a CDN, the OpenAPI schema lists the API."""

import re

from tests.conftest import client_for


def external_references(html: str) -> list[str]:
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    return [r for r in refs if r.startswith(("http:", "https:", "//"))]


def test_api_docs_are_served_from_our_own_static_files(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert external_references(response.content.decode()) == []


def test_console_pages_load_nothing_from_other_hosts(pharmacist, patient):
    html = client_for(pharmacist).get(f"/patients/{patient.public_id}/").content.decode()
    assert "/static/vendor/pico.min.css" in html
    assert external_references(html) == []


def test_openapi_schema_lists_every_area(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/patients" in paths
    assert "/api/v1/patients/{patient_id}/assessments" in paths
    assert "/api/v1/patients/{patient_id}/photos" in paths
    assert "/api/v1/audit/patients/{patient_id}/access" in paths
