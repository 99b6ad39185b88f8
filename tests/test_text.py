"""Free text, one rule everywhere (scarrx.text): no control or invisible formatting
characters, one line where a field is one line, and a maximum length declared on the
model; each refusal names its field, in the API and on the page, with nothing saved."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import CharField, TextField

from scarrx.audit.models import ChangeRecord
from scarrx.patients.models import Patient
from scarrx.pharmacy.models import Ingredient
from scarrx.text import (
    INVISIBLE,
    LINE_BREAK,
    MACHINE_WRITTEN,
    TEXT_LIMIT,
    free_text_fields,
    text_errors_of,
    text_limit,
    text_problem,
)
from tests.conftest import BASELINE, patient_fields

MB = 2**20


def intake(**overrides) -> dict:
    return patient_fields(given_name="Cora", family_name="Intake") | overrides


def intake_form(**overrides) -> dict:
    """The intake page's fields, as a pharmacist fills them in."""
    fields = {"pregnancy_status": "unknown", "acne_severity": "none"}
    return intake(**fields) | {"consents_given_on": "2026-01-10"} | overrides


def post(client, url: str, body: dict):
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def refused(response) -> dict[str, str]:
    assert response.status_code == 422, response.content[:300]
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.mark.parametrize(
    "name",
    [
        "\u200b\u200b",  # zero-width spaces only
        "Ada\u202eelbmuR",  # a right-to-left override: reads "Ada Rumble"
        "\ufeffAda",  # a byte-order mark
        "Ada\x1b[31m",  # a terminal escape
        "Ada\nLovelace",
        "\ud800",  # a lone surrogate, which no database can store
    ],
)
def test_a_name_with_invisible_or_control_characters_is_refused(as_pharmacist, name):
    response = post(as_pharmacist, "/api/v1/patients", intake(given_name=name))

    assert "given_name" in refused(response)
    assert not Patient.objects.exists()


def test_a_name_needs_a_letter(as_pharmacist):
    response = post(as_pharmacist, "/api/v1/patients", intake(family_name="--"))

    assert refused(response)["family_name"] == "A name needs at least one letter."


def test_names_spelled_with_a_joiner_between_letters_are_kept(as_pharmacist):
    # Persian writes Shahrokh with a zero-width non-joiner after the he.
    response = post(as_pharmacist, "/api/v1/patients", intake(given_name="شاه\u200cرخ"))

    assert response.status_code == 201
    assert Patient.objects.get().given_name == "شاه\u200cرخ"


def test_the_page_shows_a_bad_name_beside_its_field(as_pharmacist):
    response = as_pharmacist.post(
        "/patients/new/",
        intake_form(given_name="Ada\u202e"),
    )

    assert response.status_code == 422
    assert response.context["form"].errors["given_name"] == [INVISIBLE]


def test_several_lines_are_kept_where_a_field_has_several():
    assert text_problem("7 Sample Lane\nSampletown", multiline=True) is None
    assert text_problem("7 Sample Lane\nSampletown") == LINE_BREAK


# --- Sizes: declared once, on the model ----------------------------------------------------


def test_a_four_megabyte_address_is_refused_naming_the_field(as_pharmacist):
    response = post(as_pharmacist, "/api/v1/patients", intake(address="x" * (4 * MB)))

    assert refused(response)["address"].startswith("Keep this to 500 characters")
    assert not Patient.objects.exists()


def test_an_address_too_long_is_shown_beside_its_field_on_the_page(as_pharmacist):
    response = as_pharmacist.post("/patients/new/", intake_form(address="x" * 501))

    assert response.status_code == 422
    assert "address" in response.context["form"].errors


def test_four_megabyte_assessment_notes_are_refused(as_pharmacist, patient):
    body = BASELINE | {"notes": "x" * (4 * MB)}

    response = post(as_pharmacist, f"/api/v1/patients/{patient.public_id}/assessments", body)

    assert "notes" in refused(response)


def test_five_thousand_sites_are_refused(as_pharmacist, patient):
    body = BASELINE | {"sites": [{"site": "cheeks", "cause": "acne"}] * 5000}

    response = post(as_pharmacist, f"/api/v1/patients/{patient.public_id}/assessments", body)

    assert refused(response)["sites"] == "Record at most 30 sites."


def test_a_hundred_thousand_character_reason_is_refused_and_nothing_changes(
    as_pharmacist, baseline
):
    before = ChangeRecord.objects.count()
    body = BASELINE | {"reason": "because " * 12_500}

    response = post(as_pharmacist, f"/api/v1/assessments/{baseline.public_id}/amend", body)

    assert refused(response)["reason"].startswith("Keep this to 1,000 characters")
    assert ChangeRecord.objects.count() == before
    baseline.refresh_from_db()
    assert baseline.is_current


def test_a_reason_too_long_for_an_amended_patient_record_is_refused(as_pharmacist, patient):
    url = f"/api/v1/patients/{patient.public_id}"
    response = as_pharmacist.patch(
        url, json.dumps({"phone": "555-0199", "reason": "x" * 1001}), "application/json"
    )

    assert "reason" in refused(response)
    patient.refresh_from_db()
    assert patient.phone == ""


def test_a_consent_note_too_long_is_refused(as_pharmacist, patient):
    body = {"kind": "treatment", "granted": True, "given_on": "2026-01-10", "note": "x" * 301}

    response = post(as_pharmacist, f"/api/v1/patients/{patient.public_id}/consents", body)

    assert "note" in refused(response)


# --- Found by the API fuzzer (tests/fuzz) ---------------------------------------------------


def test_a_null_for_a_field_that_cannot_be_null_is_refused_not_a_500(as_pharmacist, patient):
    url = f"/api/v1/patients/{patient.public_id}"
    response = as_pharmacist.patch(
        url, json.dumps({"prior_treatment_notes": None}), "application/json"
    )

    assert "prior_treatment_notes" in refused(response)


def test_a_scar_age_of_a_huge_number_is_refused_not_a_500(as_pharmacist, patient):
    body = BASELINE | {"sites": [{"site": "cheeks", "cause": "acne", "scar_age_years": "1E+30"}]}

    response = post(as_pharmacist, f"/api/v1/patients/{patient.public_id}/assessments", body)

    assert refused(response)["sites.0.scar_age_years"] == "Enter a number below 1,000."


# --- Every app's free text, one rule (scarrx.text.free_text_fields) --------------------------

SCARRX_MODELS = [m for m in apps.get_models() if m.__module__.startswith("scarrx.")]
FREE_TEXT = [(m, f) for m in SCARRX_MODELS for f in free_text_fields(m)]


@pytest.mark.parametrize(
    ("model", "field"), FREE_TEXT, ids=[f"{m._meta.label}.{f.name}" for m, f in FREE_TEXT]
)
def test_no_record_stores_free_text_that_breaks_the_rule(db, model, field):
    # Whoever saves it (a service, the demo, a command): refused before the INSERT, by name.
    record = model()
    setattr(record, field.attname, "Ada\u202eelbmuR")

    with pytest.raises(ValidationError) as caught:
        record.save()

    assert caught.value.message_dict[field.name] == [INVISIBLE]
    assert not model._base_manager.exists()


@pytest.mark.parametrize(
    ("model", "field"), FREE_TEXT, ids=[f"{m._meta.label}.{f.name}" for m, f in FREE_TEXT]
)
def test_every_free_text_field_has_a_maximum(model, field):
    limit = text_limit(field)
    record = model()
    setattr(record, field.attname, "x" * (limit + 1))

    assert limit <= TEXT_LIMIT
    assert text_errors_of(record)[field.name][0].startswith(f"Keep this to {limit:,} characters")


def test_only_the_fields_the_software_writes_are_left_out_of_the_rule():
    for label, names in MACHINE_WRITTEN.items():
        model = apps.get_model(label)
        text = {f.name for f in model._meta.concrete_fields if isinstance(f, CharField | TextField)}
        assert names <= text, f"{label}: {sorted(names - text)} are not its text fields"


def test_an_ingredient_named_with_a_right_to_left_override_is_refused(as_pharmacist):
    body = {"name": "Tretinoin\u202e", "role": "active"}

    response = post(as_pharmacist, "/api/v1/pharmacy/ingredients", body)

    assert refused(response)["name"] == INVISIBLE
    assert not Ingredient.objects.exists()
