"""Amending a patient, recording a consent decision and linking a portal login through the
API: the same services as the console pages, the same refusals, each change recorded."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from scarrx.audit.models import ChangeRecord
from scarrx.patients.models import Consent
from tests.conftest import client_for, make_user


def send(client, method: str, url: str, body: dict):
    return client.generic(
        method, url, json.dumps(body, default=str), content_type="application/json"
    )


def test_a_technician_amends_a_patient_with_a_reason_kept_in_the_history(technician, patient):
    response = send(
        client_for(technician),
        "PATCH",
        f"/api/v1/patients/{patient.public_id}",
        {"allergies": "Penicillin", "reason": "patient reported a new allergy"},
    )

    assert response.status_code == 200
    assert response.json()["allergies"] == "Penicillin"
    patient.refresh_from_db()
    assert (patient.allergies, patient.given_name) == ("Penicillin", "Ada")  # only what was sent
    change = ChangeRecord.objects.get(action="patient.updated")
    assert change.data == {"allergies": ["", "Penicillin"]}
    assert change.reason == "patient reported a new allergy"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"given_name": ""}, "given_name"),
        ({"given_name": None}, "given_name"),
        ({"fitzpatrick": 9}, "fitzpatrick"),
        ({"prescriber": "00000000-0000-4000-8000-000000000000"}, "prescriber"),
    ],
)
def test_a_bad_amendment_names_the_field_and_changes_nothing(pharmacist, patient, body, field):
    before = ChangeRecord.objects.count()

    response = send(client_for(pharmacist), "PATCH", f"/api/v1/patients/{patient.public_id}", body)

    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    assert ChangeRecord.objects.count() == before
    patient.refresh_from_db()
    assert patient.given_name == "Ada"


def test_a_prescriber_may_not_amend_their_patients_identity(prescriber, patient):
    response = send(
        client_for(prescriber), "PATCH", f"/api/v1/patients/{patient.public_id}", {"phone": "1"}
    )

    assert response.status_code == 404


def test_a_consent_withdrawal_is_recorded_through_the_api(technician, patient, photo_consent):
    response = send(
        client_for(technician),
        "POST",
        f"/api/v1/patients/{patient.public_id}/consents",
        {"kind": "photographs", "granted": False, "given_on": timezone.localdate()},
    )

    assert response.status_code == 201
    kinds = {c["kind"]: c["granted"] for c in response.json()["consents"]}
    assert kinds["photographs"] is False
    assert ChangeRecord.objects.filter(action="consent.withdrawn").count() == 1
    assert Consent.objects.filter(patient=patient).count() == 2


def test_a_consent_in_the_future_is_refused_naming_the_date(technician, patient):
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    response = send(
        client_for(technician),
        "POST",
        f"/api/v1/patients/{patient.public_id}/consents",
        {"kind": "treatment", "granted": True, "given_on": tomorrow},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "given_on"
    assert not Consent.objects.filter(patient=patient).exists()


def test_a_portal_login_is_linked_by_username_and_only_a_patient_login(
    pharmacist, other_patient, technician
):
    make_user("cleo", "patient")
    url = f"/api/v1/patients/{other_patient.public_id}/portal-login"
    client = client_for(pharmacist)

    staff_login = send(client, "POST", url, {"username": technician.username})
    unknown = send(client, "POST", url, {"username": "nobody"})
    taken = send(client, "POST", url, {"username": "ada"})  # already linked to `patient`
    linked = send(client, "POST", url, {"username": "Cleo"})

    assert [r.status_code for r in (staff_login, unknown, taken)] == [422, 422, 422]
    assert {r.json()["errors"][0]["field"] for r in (staff_login, unknown, taken)} == {"username"}
    assert linked.status_code == 200
    other_patient.refresh_from_db()
    assert other_patient.user.username == "cleo"
    assert ChangeRecord.objects.filter(action="patient.portal_linked", patient=other_patient)


def test_the_console_links_a_portal_login_from_the_patient_page(pharmacist, other_patient):
    make_user("cleo", "patient")
    client = client_for(pharmacist)
    url = f"/patients/{other_patient.public_id}/portal-login/"

    refused = client.post(url, {"username": "nobody"}, follow=True)
    done = client.post(url, {"username": "cleo"}, follow=True)

    assert "No login with this username" in refused.content.decode()
    assert "Portal login linked." in done.content.decode()
    assert "Signs in to the portal as <strong>cleo</strong>" in done.content.decode()
