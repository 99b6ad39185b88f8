"""Patients through the REST API: intake, list with search, retrieve; the one error shape;
bearer tokens; the OpenAPI schema; and no payload, however odd, reaching a 500."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scarrx.accounts.models import ApiToken
from scarrx.accounts.services import issue_api_token
from scarrx.assessments.models import ScarAssessment
from scarrx.audit.models import ChangeRecord
from scarrx.patients.models import Consent, Patient
from scarrx.patients.services import register_patient
from tests.conftest import client_for, patient_fields

URL = "/api/v1/patients"


def today() -> date:
    return timezone.localdate()


def years_ago(years: int, *, days: int = 0) -> date:
    t = today()
    return date(t.year - years, t.month, min(t.day, 28)) + timedelta(days=days)


def intake(**overrides) -> dict:
    body = {
        "given_name": "Cora",
        "family_name": "Intake",
        "date_of_birth": "1998-03-02",
        "sex": "female",
        "fitzpatrick": 4,
        "acne_severity": "severe",
        "cystic_acne": True,
        "prior_treatments": ["microneedling", "laser"],
        "consents": [{"kind": "treatment", "granted": True, "given_on": today().isoformat()}],
    }
    return body | overrides


def post(client, body, url=URL):
    data = body if isinstance(body, str) else json.dumps(body, default=str)
    return client.post(url, data, content_type="application/json")


def row_counts() -> dict[str, int]:
    return {
        "patients": Patient.objects.count(),
        "consents": Consent.objects.count(),
        "assessments": ScarAssessment.objects.count(),
        "changes": ChangeRecord.objects.count(),
    }


def fields_named(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# --- Intake -------------------------------------------------------------------------------


def test_pharmacist_registers_a_patient_and_gets_the_computed_fields(as_pharmacist, prescriber):
    response = post(as_pharmacist, intake(prescriber=str(prescriber.public_id)))

    assert response.status_code == 201
    body = response.json()
    patient = Patient.objects.get(public_id=body["id"])
    assert re.fullmatch(r"SRX-\d{6}", body["record_number"])
    assert body["record_number"] == patient.record_number == f"SRX-{patient.pk:06d}"
    assert body["prescriber"] == str(prescriber.public_id)
    assert body["prior_treatments"] == ["laser", "microneedling"]
    assert body["created_at"]
    assert [(c["kind"], c["granted"], c["recorded_by"]) for c in body["consents"]] == [
        ("treatment", True, "Phil Pharm")
    ]


def test_record_numbers_are_sequential_and_not_chosen_by_the_caller(as_pharmacist):
    first = post(as_pharmacist, intake(record_number="SRX-999999")).json()
    second = post(as_pharmacist, intake(given_name="Dan")).json()

    assert first["record_number"] != "SRX-999999"
    assert int(second["record_number"][4:]) == int(first["record_number"][4:]) + 1


def test_technician_may_register_a_patient(technician):
    assert post(client_for(technician), intake()).status_code == 201


@pytest.mark.parametrize("who", ["prescriber", "patient_user", "outsider"])
def test_only_the_pharmacy_registers_patients(request, patient, who):
    user = patient.user if who == "patient_user" else request.getfixturevalue(who)
    before = row_counts()

    response = post(client_for(user), intake())

    assert response.status_code == 403
    assert list(response.json()) == ["errors"]
    assert row_counts() == before


# --- List, search, retrieve ----------------------------------------------------------------


def test_list_is_paginated_and_searchable_by_name_and_record_number(
    as_pharmacist, patient, other_patient
):
    everyone = as_pharmacist.get(URL).json()
    by_name = as_pharmacist.get(URL, {"q": "sample"}).json()
    by_number = as_pharmacist.get(URL, {"q": patient.record_number}).json()
    two_words = as_pharmacist.get(URL, {"q": "ben sam"}).json()
    nobody = as_pharmacist.get(URL, {"q": "zzz"}).json()

    assert everyone["count"] == 2
    assert [p["given_name"] for p in by_name["items"]] == ["Ben"]
    assert [p["id"] for p in by_number["items"]] == [str(patient.public_id)]
    assert [p["given_name"] for p in two_words["items"]] == ["Ben"]
    assert nobody == {"items": [], "count": 0}


def test_list_items_are_summaries(as_pharmacist, patient):
    item = as_pharmacist.get(URL).json()["items"][0]

    assert set(item) == {
        "id",
        "record_number",
        "given_name",
        "family_name",
        "date_of_birth",
        "fitzpatrick",
    }


def test_retrieve_returns_the_whole_record_with_consents_in_force(
    as_pharmacist, pharmacist, prescriber
):
    created = post(
        as_pharmacist,
        intake(
            prescriber=str(prescriber.public_id),
            consents=[{"kind": "photographs", "granted": True, "given_on": "2026-01-02"}],
        ),
    ).json()
    withdrawal = {"kind": "photographs", "granted": False, "given_on": "2026-02-01"}
    assert post(as_pharmacist, withdrawal, f"{URL}/{created['id']}/consents").status_code == 201

    body = as_pharmacist.get(f"{URL}/{created['id']}").json()

    assert body["given_name"] == "Cora"
    assert body["acne_severity"] == "severe"
    assert body["cystic_acne"] is True
    assert [(c["kind"], c["granted"]) for c in body["consents"]] == [("photographs", False)]


def test_api_list_queries_do_not_grow_with_the_number_of_patients(
    pharmacist, django_assert_max_num_queries
):
    for i in range(30):
        register_patient(actor=pharmacist, **patient_fields(given_name=f"Pat{i}"))
    client = client_for(pharmacist)

    with django_assert_max_num_queries(8):
        body = client.get(URL).json()

    assert body["count"] == 30


# --- Bad input: 422 naming the field, nothing saved ---------------------------------------


BAD_INTAKE = [
    pytest.param({"date_of_birth": "2999-01-01"}, "date_of_birth", id="born-in-the-future"),
    pytest.param({"date_of_birth": "1850-01-01"}, "date_of_birth", id="born-before-1900"),
    pytest.param({"date_of_birth": "yesterday"}, "date_of_birth", id="date-not-a-date"),
    pytest.param({"date_of_birth": "2001-02-30"}, "date_of_birth", id="no-such-day"),
    pytest.param({"fitzpatrick": 7}, "fitzpatrick", id="phototype-7"),
    pytest.param({"fitzpatrick": 0}, "fitzpatrick", id="phototype-0"),
    pytest.param({"fitzpatrick": "III"}, "fitzpatrick", id="phototype-roman"),
    pytest.param({"fitzpatrick": 3.5}, "fitzpatrick", id="phototype-fraction"),
    pytest.param({"sex": "robot"}, "sex", id="unknown-sex"),
    pytest.param({"given_name": ""}, "given_name", id="no-given-name"),
    pytest.param({"family_name": None}, "family_name", id="null-family-name"),
    pytest.param({"email": "not-an-email"}, "email", id="bad-email"),
    pytest.param({"acne_onset_age": -1}, "acne_onset_age", id="negative-onset-age"),
    pytest.param({"acne_onset_age": 60}, "acne_onset_age", id="onset-after-today"),
    pytest.param({"pregnancy_status": "maybe"}, "pregnancy_status", id="unknown-pregnancy"),
    pytest.param(
        {"pregnancy_status": "pregnant", "pregnancy_status_on": "2999-01-01"},
        "pregnancy_status_on",
        id="pregnancy-date-in-future",
    ),
    pytest.param({"prior_treatments": ["magic"]}, "prior_treatments.0", id="unknown-treatment"),
    pytest.param({"prior_treatments": "laser"}, "prior_treatments", id="treatments-not-a-list"),
    pytest.param({"prescriber": str(uuid.uuid4())}, "prescriber", id="unknown-prescriber"),
    pytest.param({"prescriber": "drew"}, "prescriber", id="prescriber-not-a-uuid"),
    pytest.param(
        {"consents": [{"kind": "everything", "granted": True, "given_on": "2026-01-02"}]},
        "consents.0.kind",
        id="unknown-consent",
    ),
    pytest.param(
        {"consents": [{"kind": "treatment", "granted": "perhaps", "given_on": "2026-01-02"}]},
        "consents.0.granted",
        id="consent-neither-yes-nor-no",
    ),
]


@pytest.mark.parametrize(("change", "field"), BAD_INTAKE)
def test_bad_intake_is_refused_naming_the_field_and_nothing_is_saved(
    as_pharmacist, pharmacist, change, field
):
    before = row_counts()

    response = post(as_pharmacist, intake(**change))

    assert response.status_code == 422
    assert field in fields_named(response)
    assert all(e["message"] for e in response.json()["errors"])
    assert row_counts() == before


@pytest.mark.parametrize("when", ["future", "before-birth"])
def test_badly_dated_consent_at_intake_saves_neither_patient_nor_consent(as_pharmacist, when):
    given_on = "2999-01-01" if when == "future" else "1990-01-01"
    before = row_counts()

    response = post(
        as_pharmacist,
        intake(consents=[{"kind": "treatment", "granted": True, "given_on": given_on}]),
    )

    assert response.status_code == 422
    assert fields_named(response)[0].endswith("given_on")
    assert row_counts() == before


def test_prescriber_field_must_name_a_prescriber(as_pharmacist, pharmacist):
    before = row_counts()

    response = post(as_pharmacist, intake(prescriber=str(pharmacist.public_id)))

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "prescriber", "message": "This person is not a prescriber."}
    ]
    assert row_counts() == before


def test_missing_required_fields_are_each_named(as_pharmacist):
    response = post(as_pharmacist, {"given_name": "Cora"})

    assert response.status_code == 422
    assert set(fields_named(response)) >= {"family_name", "date_of_birth", "sex", "fitzpatrick"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"fitzpatrick": True}, "fitzpatrick", id="phototype-true"),
        pytest.param({"acne_onset_age": False}, "acne_onset_age", id="onset-age-false"),
    ],
)
def test_yes_no_is_not_taken_for_a_number(as_pharmacist, change, field):
    # JSON true is not phototype I: a client that sends a boolean has a bug to be told of.
    before = row_counts()

    response = post(as_pharmacist, intake(**change))

    assert response.status_code == 422
    assert field in fields_named(response)
    assert row_counts() == before


def test_nul_character_in_a_name_is_refused(as_pharmacist):
    # PostgreSQL cannot store NUL in text: unrefused, this is a 500 on the production database.
    before = row_counts()

    response = post(as_pharmacist, intake(given_name="Co\x00ra"))

    assert response.status_code == 422
    assert "given_name" in fields_named(response)
    assert row_counts() == before


@pytest.mark.parametrize("body", ["{not json", "", "\x00", '{"given_name": '])
def test_malformed_json_gets_the_one_error_shape(as_pharmacist, body):
    before = row_counts()

    response = post(as_pharmacist, body)

    assert response.status_code in (400, 422)
    errors = response.json()["errors"]
    assert errors and all(set(e) == {"field", "message"} and e["message"] for e in errors)
    assert row_counts() == before


@pytest.mark.parametrize("body", ["[]", "42", '"Cora"', "null"])
def test_json_that_is_not_an_object_is_422(as_pharmacist, body):
    response = post(as_pharmacist, body)

    assert response.status_code == 422
    assert response.json()["errors"]


def test_bad_query_parameters_are_422_in_the_one_shape(as_pharmacist, patient):
    response = as_pharmacist.get(URL, {"limit": -5})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


@pytest.mark.parametrize("param", ["offset", "limit"])
@pytest.mark.parametrize("listing", ["patients", "assessments", "audit"])
def test_enormous_paging_values_are_refused_not_a_500(as_pharmacist, patient, param, listing):
    # 10**20 does not fit the database's integers: SQLite raises OverflowError, PostgreSQL
    # "bigint out of range".
    url = {
        "patients": URL,
        "assessments": f"{URL}/{patient.public_id}/assessments",
        "audit": f"/api/v1/audit/patients/{patient.public_id}/changes",
    }[listing]
    as_pharmacist.raise_request_exception = False

    response = as_pharmacist.get(url, {param: 10**20})

    assert response.status_code in (200, 422)
    assert response.status_code == 200 or fields_named(response) == [param]


def test_malformed_patient_id_is_refused_in_the_one_shape(as_pharmacist):
    response = as_pharmacist.get(f"{URL}/not-a-uuid")

    assert response.status_code in (404, 422)
    assert list(response.json()) == ["errors"]


# --- The minimum age without a guardian ---------------------------------------------------


def test_minor_without_guardian_is_refused(as_pharmacist, settings):
    settings.MINIMUM_AGE_WITHOUT_GUARDIAN = 18
    before = row_counts()

    response = post(as_pharmacist, intake(date_of_birth=years_ago(17).isoformat()))

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "guardian_name",
            "message": "Patients under 18 need a parent or guardian recorded.",
        }
    ]
    assert row_counts() == before


def test_minor_with_guardian_is_registered(as_pharmacist, settings):
    settings.MINIMUM_AGE_WITHOUT_GUARDIAN = 18

    response = post(
        as_pharmacist,
        intake(
            date_of_birth=years_ago(17).isoformat(),
            guardian_name="Maria Intake",
            guardian_relationship="mother",
        ),
    )

    assert response.status_code == 201
    assert response.json()["guardian_name"] == "Maria Intake"


def test_patient_turning_the_minimum_age_today_needs_no_guardian(as_pharmacist, settings):
    settings.MINIMUM_AGE_WITHOUT_GUARDIAN = 18
    with time_machine.travel(datetime(2026, 6, 15, 12, tzinfo=UTC), tick=False):
        response = post(as_pharmacist, intake(date_of_birth="2008-06-15"))

    assert response.status_code == 201


def test_minimum_age_is_configurable(as_pharmacist, settings):
    settings.MINIMUM_AGE_WITHOUT_GUARDIAN = 16

    accepted = post(as_pharmacist, intake(date_of_birth=years_ago(17).isoformat()))
    refused = post(as_pharmacist, intake(date_of_birth=years_ago(15).isoformat()))

    assert accepted.status_code == 201
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["message"].startswith("Patients under 16 ")


# --- Bearer tokens -------------------------------------------------------------------------


def bearer(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_bearer_token_reads_and_writes_like_its_user(pharmacist, patient):
    raw = issue_api_token(user=pharmacist, name="lab system")
    client = bearer(raw)

    listed = client.get(URL)
    created = post(client, intake())

    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert created.status_code == 201
    assert ApiToken.objects.get(user=pharmacist).last_used_at is not None
    assert not ApiToken.objects.filter(digest=raw).exists()  # only a digest is kept


def test_a_token_says_when_it_was_last_used_to_the_minute_without_a_write_a_request(
    pharmacist,
):
    raw = issue_api_token(user=pharmacist, name="lab system")
    client = bearer(raw)
    start = datetime(2026, 6, 15, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        assert client.get(URL).status_code == 200
        assert ApiToken.objects.get(user=pharmacist).last_used_at == start
        clock.shift(timedelta(seconds=30))
        assert client.get(URL).status_code == 200  # within the minute: not written again
        assert ApiToken.objects.get(user=pharmacist).last_used_at == start
        clock.shift(timedelta(seconds=40))
        assert client.get(URL).status_code == 200
        assert ApiToken.objects.get(user=pharmacist).last_used_at == start + timedelta(seconds=70)


def test_bearer_token_sees_only_what_its_user_may(prescriber, patient, other_patient):
    body = bearer(issue_api_token(user=prescriber, name="clinic")).get(URL).json()

    assert [p["id"] for p in body["items"]] == [str(patient.public_id)]


@pytest.mark.parametrize("token", ["revoked", "garbage", "inactive-user", "empty"])
def test_unusable_bearer_token_gets_401(pharmacist, patient, token):
    raw = issue_api_token(user=pharmacist, name="lab")
    if token == "revoked":
        ApiToken.objects.update(revoked_at=timezone.now())
    elif token == "inactive-user":
        type(pharmacist).objects.filter(pk=pharmacist.pk).update(is_active=False)
    else:
        raw = "srx_not-a-real-token" if token == "garbage" else ""

    response = bearer(raw).get(f"{URL}/{patient.public_id}")

    assert response.status_code == 401
    assert list(response.json()) == ["errors"]


# --- OpenAPI -------------------------------------------------------------------------------


def test_openapi_schema_lists_every_endpoint(client):
    schema = client.get("/api/v1/openapi.json").json()

    operations = {
        (method, path)
        for path, ops in schema["paths"].items()
        for method in ops
        if method != "parameters"
    }
    assert operations >= {
        ("post", "/api/v1/patients"),
        ("get", "/api/v1/patients"),
        ("get", "/api/v1/patients/{patient_id}"),
        ("post", "/api/v1/patients/{patient_id}/assessments"),
        ("get", "/api/v1/patients/{patient_id}/assessments"),
        ("get", "/api/v1/assessments/{assessment_id}"),
        ("post", "/api/v1/assessments/{assessment_id}/amend"),
        ("get", "/api/v1/audit/patients/{patient_id}/access"),
        ("get", "/api/v1/audit/patients/{patient_id}/changes"),
    }
    assert "PatientIn" in schema["components"]["schemas"]
    assert "AssessmentIn" in schema["components"]["schemas"]


def test_api_documentation_page_is_served(client, db):
    assert client.get("/api/v1/docs").status_code == 200


# --- No input reaches a 500 ----------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.dates().map(date.isoformat),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
INTAKE_FIELDS = [*intake(), "prescriber", "guardian_name", "email", "acne_onset_age", "phone"]
payloads = st.one_of(
    st.dictionaries(st.sampled_from(INTAKE_FIELDS), json_values, max_size=4).map(
        lambda changes: intake() | changes
    ),
    json_values,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=payloads)
def test_no_intake_payload_reaches_a_500(pharmacist, body):
    client = client_for(pharmacist)
    client.raise_request_exception = False

    response = client.post(URL, json.dumps(body), content_type="application/json")

    assert response.status_code < 500, response.content[:500]
    assert "errors" in response.json() or response.status_code == 201
