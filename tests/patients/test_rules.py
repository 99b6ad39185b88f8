"""Patient record rules found by review: names that are only spaces, a date of birth
moved after records already dated, a NUL in a search."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from scarrx.patients.services import register_patient, update_patient
from tests.conftest import client_for, patient_fields


def test_a_name_of_only_spaces_is_refused(pharmacist):
    with pytest.raises(ValidationError) as refused:
        register_patient(actor=pharmacist, **patient_fields(given_name="   ", family_name="\t"))
    assert {"given_name", "family_name"} <= set(refused.value.message_dict)


def test_names_are_stored_without_surrounding_spaces(pharmacist):
    patient = register_patient(actor=pharmacist, **patient_fields(given_name="  Ada "))
    assert patient.given_name == "Ada"


def test_date_of_birth_cannot_move_after_the_records_already_dated(baseline, pharmacist):
    patient = baseline.patient
    with pytest.raises(ValidationError) as refused:
        update_patient(patient, actor=pharmacist, date_of_birth=date(2026, 2, 1))
    assert "date_of_birth" in refused.value.message_dict
    patient.refresh_from_db()
    assert patient.date_of_birth == date(2000, 5, 17)


def test_a_nul_in_a_search_is_not_an_error(pharmacist, patient):
    client = client_for(pharmacist)
    assert client.get("/patients/?q=a%00b").status_code == 200
    assert client.get("/api/v1/patients?q=a%00b").status_code == 200


def test_a_nul_in_an_amendment_reason_is_refused(pharmacist, patient):
    with pytest.raises(ValidationError) as refused:
        update_patient(patient, actor=pharmacist, reason="typo\x00", phone="555-0199")
    assert "reason" in refused.value.message_dict


def test_api_clients_can_find_a_prescriber_to_name_at_intake(pharmacist, prescriber, outsider):
    listed = client_for(pharmacist).get("/api/v1/prescribers").json()
    assert [p["id"] for p in listed["items"]] == [str(prescriber.public_id)]
    assert client_for(outsider).get("/api/v1/prescribers").status_code == 403
