"""Amending a patient so that the record looks like another patient's (the same name and
date of birth, phone or e-mail: the intake's own duplicate check) warns with a link to
the other record and is saved only with a reason, on the page and through the API."""

from __future__ import annotations

import json

import pytest

from scarrx.audit.models import ChangeRecord
from scarrx.patients.services import PossibleDuplicate, update_patient
from tests.conftest import client_for

SAME_AS_BEN = [
    {"given_name": "Ben", "family_name": "Sample"},  # other_patient's name, same birthday
    {"phone": "(555) 0100-77"},
    {"email": "BEN@example.org"},
]
IDS = ["name-and-birth", "phone", "email"]


@pytest.fixture
def ben(other_patient, pharmacist):
    return update_patient(
        other_patient, actor=pharmacist, phone="555-010077", email="ben@example.org"
    )


def patch(client, patient, body: dict):
    url = f"/api/v1/patients/{patient.public_id}"
    return client.patch(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("change", SAME_AS_BEN, ids=IDS)
def test_an_amendment_that_makes_a_duplicate_needs_a_reason_in_the_api(
    pharmacist, patient, ben, change
):
    client = client_for(pharmacist)
    before = ChangeRecord.objects.count()

    refused = patch(client, patient, change)

    (error,) = refused.json()["errors"]
    assert (refused.status_code, error["field"]) == (422, "duplicate_reason")
    assert ben.record_number in error["message"]
    assert ChangeRecord.objects.count() == before
    patient.refresh_from_db()
    assert patient.given_name == "Ada" and patient.phone == ""

    accepted = patch(client, patient, change | {"duplicate_reason": "Ben's sister, same phone"})

    assert accepted.status_code == 200
    record = ChangeRecord.objects.filter(action="patient.updated").latest("pk")
    assert record.reason == "Ben's sister, same phone"
    assert ben.record_number in record.summary


def test_a_record_already_alike_is_amended_without_asking_again(pharmacist, patient, ben):
    update_patient(patient, actor=pharmacist, phone="555-010077", duplicate_reason="Siblings")

    changed = update_patient(patient, actor=pharmacist, allergies="Latex")

    assert changed.allergies == "Latex"


def test_an_amendment_like_nobody_else_is_not_asked_for_a_reason(pharmacist, patient, ben):
    assert update_patient(patient, actor=pharmacist, phone="555-0123-456").phone


@pytest.mark.parametrize("change", SAME_AS_BEN, ids=IDS)
def test_the_edit_page_shows_the_possible_duplicate_with_a_link(
    as_pharmacist, patient, ben, change
):
    url = f"/patients/{patient.public_id}/edit/"
    form = as_pharmacist.get(url).context["form"]
    data = {
        name: value
        for name, value in ((n, form[n].value()) for n in form.fields)
        if value not in (None, False)
    } | change
    data["prior_treatments"] = []

    refused = as_pharmacist.post(url, data)

    assert refused.status_code == 422
    page = refused.content.decode()
    assert f'href="/patients/{ben.public_id}/"' in page
    assert "This patient may be registered already" in page
    patient.refresh_from_db()
    assert patient.phone == ""

    accepted = as_pharmacist.post(url, data | {"duplicate_reason": "Cousins, shared phone"})

    assert accepted.status_code == 302
    record = ChangeRecord.objects.filter(action="patient.updated").latest("pk")
    assert record.reason == "Cousins, shared phone"


def test_the_service_names_the_record_it_looks_like(pharmacist, patient, ben):
    with pytest.raises(PossibleDuplicate) as caught:
        update_patient(patient, actor=pharmacist, email="ben@example.org")

    assert caught.value.matches == [ben]
