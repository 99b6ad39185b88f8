"""Who may see a patient: every patient-data page and endpoint, for every member of the cast.

Deny by default: someone who may not see a patient gets a 404 (never a 403 that confirms the
record exists), a signed-out visitor is sent to sign in (pages) or gets a 401 (API), and
nothing is written on their behalf.
"""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from scarrx.assessments.models import ScarAssessment
from scarrx.audit.models import ChangeRecord
from scarrx.patients.models import Consent, Patient
from scarrx.patients.services import register_patient
from tests.conftest import BASELINE, client_for, patient_fields

PAGES = [
    ("get", "/patients/{patient}/"),
    ("get", "/patients/{patient}/edit/"),
    ("post", "/patients/{patient}/consents/"),
    ("get", "/patients/{patient}/assessments/new/"),
    ("get", "/assessments/{assessment}/"),
    ("get", "/assessments/{assessment}/amend/"),
    ("get", "/audit/patients/{patient}/"),
]

ENDPOINTS = [
    ("get", "/api/v1/patients/{patient}"),
    ("get", "/api/v1/patients/{patient}/assessments"),
    ("post", "/api/v1/patients/{patient}/assessments"),
    ("get", "/api/v1/assessments/{assessment}"),
    ("post", "/api/v1/assessments/{assessment}/amend"),
    ("get", "/api/v1/audit/patients/{patient}/access"),
    ("get", "/api/v1/audit/patients/{patient}/changes"),
]

# Someone with no business seeing `patient`: no role, another prescriber, another patient.
INTRUDERS = ["outsider", "other_prescriber", "other_patient_user"]


def jsonable(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str))


def follow_up() -> dict:
    """A valid week-4 assessment (the baseline fixture already holds the baseline)."""
    return jsonable(BASELINE | {"timepoint": "week_4", "global_impression": 3})


def amendment() -> dict:
    return jsonable(BASELINE | {"bother": 6, "reason": "Bother score was misheard."})


def consent_form() -> dict:
    return {"kind": "photographs", "granted": "yes", "given_on": timezone.localdate().isoformat()}


def body_for(path: str) -> dict:
    if path.endswith("/consents/"):
        return consent_form()
    if path.endswith("/amend"):
        return amendment()
    return follow_up()


def fill(template: str, patient, assessment) -> str:
    return template.format(patient=patient.public_id, assessment=assessment.public_id)


def page_request(client, method: str, url: str):
    if method == "post":
        return client.post(url, body_for(url))
    return client.get(url)


def api_request(client, method: str, url: str):
    if method == "post":
        return client.post(url, json.dumps(body_for(url)), content_type="application/json")
    return client.get(url)


def row_counts() -> dict[str, int]:
    return {
        "patients": Patient.objects.count(),
        "assessments": ScarAssessment.objects.count(),
        "consents": Consent.objects.count(),
        "changes": ChangeRecord.objects.count(),
    }


@pytest.fixture
def other_patient_user(other_patient):
    return other_patient.user


@pytest.fixture
def patient_user(patient):
    return patient.user


# --- Intruders get 404 -------------------------------------------------------------------


@pytest.mark.parametrize("who", INTRUDERS)
@pytest.mark.parametrize(("method", "template"), PAGES)
def test_intruder_gets_404_for_patient_page(request, baseline, patient, who, method, template):
    client = client_for(request.getfixturevalue(who))
    before = row_counts()

    response = page_request(client, method, fill(template, patient, baseline))

    assert response.status_code == 404
    assert row_counts() == before


@pytest.mark.parametrize("who", INTRUDERS)
@pytest.mark.parametrize(("method", "template"), ENDPOINTS)
def test_intruder_gets_404_from_patient_endpoint(request, baseline, patient, who, method, template):
    client = client_for(request.getfixturevalue(who))
    before = row_counts()

    response = api_request(client, method, fill(template, patient, baseline))

    assert response.status_code == 404
    assert response.json() == {"errors": [{"field": None, "message": "Not found."}]}
    assert row_counts() == before


@pytest.mark.parametrize("who", INTRUDERS)
@pytest.mark.parametrize(
    ("template", "data"),
    [
        ("/patients/{patient}/edit/", {"given_name": "Mallory"}),
        ("/patients/{patient}/assessments/new/", {"assessed_on": "2026-01-11"}),
        ("/assessments/{assessment}/amend/", {"reason": "just because"}),
    ],
)
def test_intruder_posting_a_console_form_gets_404_and_changes_nothing(
    request, baseline, patient, who, template, data
):
    client = client_for(request.getfixturevalue(who))
    before = row_counts()

    response = client.post(fill(template, patient, baseline), data)

    assert response.status_code == 404
    assert row_counts() == before
    patient.refresh_from_db()
    assert patient.given_name == "Ada"


def test_unknown_patient_id_is_404_even_for_the_pharmacist(as_pharmacist):
    missing = "00000000-0000-4000-8000-000000000000"

    assert as_pharmacist.get(f"/patients/{missing}/").status_code == 404
    assert as_pharmacist.get(f"/api/v1/patients/{missing}").status_code == 404
    assert as_pharmacist.get(f"/api/v1/assessments/{missing}").status_code == 404


# --- Signed out: sign in first -----------------------------------------------------------


@pytest.mark.parametrize(("method", "template"), PAGES)
def test_signed_out_visitor_is_sent_to_sign_in_from_patient_page(
    baseline, patient, method, template
):
    url = fill(template, patient, baseline)
    before = row_counts()

    response = page_request(client_for(None), method, url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert row_counts() == before


@pytest.mark.parametrize(("method", "template"), ENDPOINTS)
def test_signed_out_caller_gets_401_from_patient_endpoint(baseline, patient, method, template):
    before = row_counts()

    response = api_request(client_for(None), method, fill(template, patient, baseline))

    assert response.status_code == 401
    assert response.json() == {
        "errors": [{"field": None, "message": "Sign in or send a bearer token."}]
    }
    assert row_counts() == before


# --- The rightful users ------------------------------------------------------------------

# Expected status per page (in PAGES order). The consent form redirects back to the patient.
PAGE_STATUS = {
    "pharmacist": [200, 200, 302, 200, 200, 200, 200],
    # Technicians keep the records but do not grade scars or read the audit trail.
    "technician": [200, 200, 302, 404, 200, 404, 404],
    # Prescribers grade their own patients; the front desk keeps identity and consents.
    "prescriber": [200, 404, 404, 200, 200, 200, 404],
    # The portal comes later: the console is staff only, even for one's own record.
    "patient_user": [404, 404, 404, 404, 404, 404, 404],
}

# Expected status per endpoint (in ENDPOINTS order). Every one names an object, so a
# caller whose role may not do it gets 404, like any other intruder. A patient reads their
# own records through the portal router, never the staff API.
API_STATUS = {
    "pharmacist": [200, 200, 201, 200, 201, 200, 200],
    "technician": [200, 200, 404, 200, 404, 404, 404],
    "prescriber": [200, 200, 201, 200, 201, 404, 404],
    "patient_user": [404, 404, 404, 404, 404, 404, 404],
}


@pytest.mark.parametrize("who", list(PAGE_STATUS))
def test_rightful_users_reach_exactly_the_pages_their_role_allows(request, baseline, patient, who):
    client = client_for(request.getfixturevalue(who))

    got = [
        page_request(client, method, fill(template, patient, baseline)).status_code
        for method, template in PAGES
    ]

    assert got == PAGE_STATUS[who]


@pytest.mark.parametrize("who", list(API_STATUS))
def test_rightful_users_reach_exactly_the_endpoints_their_role_allows(
    request, baseline, patient, who
):
    client = client_for(request.getfixturevalue(who))

    got = [
        api_request(client, method, fill(template, patient, baseline)).status_code
        for method, template in ENDPOINTS
    ]

    assert got == API_STATUS[who]


def test_technician_cannot_record_an_assessment_through_the_api(technician, baseline, patient):
    before = row_counts()

    response = api_request(
        client_for(technician), "post", f"/api/v1/patients/{patient.public_id}/assessments"
    )

    assert response.status_code == 404
    assert row_counts() == before


def test_patient_portal_user_reads_own_record_in_the_api(patient_user, baseline, patient):
    client = client_for(patient_user)

    record = client.get("/api/v1/portal/me").json()
    assessments = client.get("/api/v1/portal/assessments").json()

    assert record["record_number"] == patient.record_number
    assert [a["id"] for a in assessments["items"]] == [str(baseline.public_id)]


def test_staff_cannot_use_the_portal_router(pharmacist, patient):
    response = client_for(pharmacist).get("/api/v1/portal/me")

    assert response.status_code == 403


def test_prescriber_sees_own_patients_assessment_but_not_another_prescribers(
    prescriber, other_prescriber, pharmacist, baseline
):
    theirs = register_patient(
        actor=pharmacist, prescriber=other_prescriber, **patient_fields(given_name="Cy")
    )
    client = client_for(prescriber)

    assert client.get(f"/assessments/{baseline.public_id}/").status_code == 200
    assert client.get(f"/patients/{theirs.public_id}/").status_code == 404
    assert client.get(f"/api/v1/patients/{theirs.public_id}").status_code == 404


# --- Lists show only whom you may see ----------------------------------------------------


def test_prescriber_list_page_shows_only_their_own_patients(prescriber, patient, other_patient):
    response = client_for(prescriber).get("/patients/")

    assert response.status_code == 200
    assert [p.pk for p in response.context["page"]] == [patient.pk]
    assert patient.record_number in response.content.decode()
    assert other_patient.record_number not in response.content.decode()


def test_prescriber_api_list_shows_only_their_own_patients(prescriber, patient, other_patient):
    body = client_for(prescriber).get("/api/v1/patients").json()

    assert body["count"] == 1
    assert [p["id"] for p in body["items"]] == [str(patient.public_id)]


def test_other_prescriber_list_is_empty(other_prescriber, patient, other_patient):
    page = client_for(other_prescriber).get("/patients/")
    api = client_for(other_prescriber).get("/api/v1/patients").json()

    assert list(page.context["page"]) == []
    assert api == {"items": [], "count": 0}


def test_outsider_list_is_empty_in_the_api_and_the_page_does_not_exist(
    outsider, patient, other_patient
):
    client = client_for(outsider)

    assert client.get("/api/v1/patients").status_code == 403
    assert client.get("/patients/").status_code == 404


def test_patient_portal_user_sees_only_themself_in_the_api(patient_user, other_patient):
    client = client_for(patient_user)

    assert client.get("/api/v1/patients").status_code == 403
    me = client.get("/api/v1/portal/me").json()
    assert me["record_number"] == patient_user.patient_record.record_number


def test_pharmacist_list_page_shows_every_patient(as_pharmacist, patient, other_patient):
    response = as_pharmacist.get("/patients/")

    assert {p.pk for p in response.context["page"]} == {patient.pk, other_patient.pk}


def test_list_page_search_finds_by_name_and_record_number(as_pharmacist, patient, other_patient):
    by_name = as_pharmacist.get("/patients/", {"q": "sample"})
    by_number = as_pharmacist.get("/patients/", {"q": patient.record_number})

    assert [p.pk for p in by_name.context["page"]] == [other_patient.pk]
    assert [p.pk for p in by_number.context["page"]] == [patient.pk]


def test_list_page_htmx_search_returns_only_the_rows(as_pharmacist, patient, other_patient):
    response = as_pharmacist.get("/patients/", {"q": "ada"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "patients/_rows.html"
    assert "<html" not in response.content.decode()


def test_patient_list_page_queries_do_not_grow_with_the_number_of_patients(
    pharmacist, django_assert_max_num_queries
):
    for i in range(30):
        register_patient(actor=pharmacist, **patient_fields(given_name=f"Pat{i}"))
    client = client_for(pharmacist)

    with django_assert_max_num_queries(10):
        response = client.get("/patients/")

    assert response.status_code == 200
    assert len(response.context["page"]) == 30
