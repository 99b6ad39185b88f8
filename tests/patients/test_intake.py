"""Intake and the patient record in the staff console: registering through the form,
editing with history, recording consents, and bad input refused on the page with
nothing saved."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.html import escape

from scarrx.audit.models import ChangeRecord
from scarrx.patients.models import Consent, Patient
from scarrx.patients.services import register_patient, update_patient
from tests.conftest import client_for, patient_fields


def today() -> date:
    return timezone.localdate()


def years_ago(years: int) -> date:
    t = today()
    return date(t.year - years, t.month, min(t.day, 28))


def intake_form(**overrides) -> dict:
    data = {
        "given_name": "Cora",
        "family_name": "Intake",
        "date_of_birth": "1998-03-02",
        "sex": "female",
        "fitzpatrick": "4",
        "pregnancy_status": "not_pregnant",
        "acne_severity": "severe",
        "acne_onset_age": "14",
        "cystic_acne": "on",
        "prior_treatments": ["microneedling", "chemical_peel"],
        "allergies": "benzoyl peroxide",
        "consents_given_on": today().isoformat(),
        "consent_treatment": "granted",
        "consent_photographs": "granted",
    }
    return data | overrides


def edit_form(patient, **overrides) -> dict:
    data = {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "fitzpatrick": str(patient.fitzpatrick),
        "pregnancy_status": patient.pregnancy_status,
        "acne_severity": patient.acne_severity,
        "prescriber": str(patient.prescriber_id or ""),
    }
    return data | overrides


def row_counts() -> dict[str, int]:
    return {
        "patients": Patient.objects.count(),
        "consents": Consent.objects.count(),
        "changes": ChangeRecord.objects.count(),
    }


# --- Registering through the intake page -------------------------------------------------


def test_pharmacist_registers_a_patient_through_the_intake_page(as_pharmacist, pharmacist):
    assert as_pharmacist.get("/patients/new/").status_code == 200

    response = as_pharmacist.post("/patients/new/", intake_form())

    patient = Patient.objects.get(family_name="Intake")
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.public_id}/"
    assert patient.record_number == f"SRX-{patient.pk:06d}"
    assert patient.prior_treatments == ["chemical_peel", "microneedling"]
    assert patient.cystic_acne is True
    assert {(c.kind, c.granted, c.recorded_by) for c in patient.consents.all()} == {
        ("treatment", True, pharmacist),
        ("photographs", True, pharmacist),
    }  # the third was not asked: nothing recorded for it


def test_the_new_patient_page_shows_the_record_and_its_timeline(as_pharmacist):
    response = as_pharmacist.post("/patients/new/", intake_form(), follow=True)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Cora Intake" in page
    assert "Registered Cora Intake" in page  # the first timeline entry
    assert "benzoyl peroxide" in page


def test_technician_registers_patients_too(technician):
    response = client_for(technician).post("/patients/new/", intake_form())

    assert response.status_code == 302
    assert Patient.objects.filter(family_name="Intake").exists()


@pytest.mark.parametrize("who", ["prescriber", "outsider"])
def test_intake_page_does_not_exist_for_those_who_may_not_register(request, who):
    client = client_for(request.getfixturevalue(who))

    assert client.get("/patients/new/").status_code == 404
    assert client.post("/patients/new/", intake_form()).status_code == 404
    assert not Patient.objects.exists()


def test_intake_page_sends_a_signed_out_visitor_to_sign_in(db):
    response = client_for(None).get("/patients/new/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/patients/new/"


# --- Bad input on the intake page ---------------------------------------------------------

BAD_INTAKE_FORM = [
    pytest.param({"date_of_birth": "2999-01-01"}, "date_of_birth", id="born-in-the-future"),
    pytest.param({"date_of_birth": "1850-01-01"}, "date_of_birth", id="born-before-1900"),
    pytest.param({"date_of_birth": "not a date"}, "date_of_birth", id="not-a-date"),
    pytest.param({"fitzpatrick": "7"}, "fitzpatrick", id="phototype-7"),
    pytest.param({"fitzpatrick": "-1"}, "fitzpatrick", id="phototype-negative"),
    pytest.param({"sex": "robot"}, "sex", id="unknown-sex"),
    pytest.param({"given_name": ""}, "given_name", id="no-given-name"),
    pytest.param({"acne_onset_age": "-3"}, "acne_onset_age", id="negative-onset-age"),
    pytest.param({"acne_onset_age": "2.5"}, "acne_onset_age", id="fractional-onset-age"),
    pytest.param({"acne_onset_age": "70"}, "acne_onset_age", id="onset-after-today"),
    pytest.param({"prior_treatments": ["magic"]}, "prior_treatments", id="unknown-treatment"),
    pytest.param({"email": "nope"}, "email", id="bad-email"),
    pytest.param(
        {"pregnancy_status_on": "2999-01-01"}, "pregnancy_status_on", id="pregnancy-in-future"
    ),
    pytest.param({"consents_given_on": ""}, "consents_given_on", id="no-consent-date"),
    pytest.param({"given_name": "Co\x00ra"}, "given_name", id="nul-character"),
]


@pytest.mark.parametrize(("change", "field"), BAD_INTAKE_FORM)
def test_bad_intake_form_shows_the_error_beside_the_field_and_saves_nothing(
    as_pharmacist, change, field
):
    before = row_counts()

    response = as_pharmacist.post("/patients/new/", intake_form(**change))

    assert response.status_code == 422
    messages = response.context["form"].errors.get(field)
    assert messages
    page = response.content.decode()
    assert all(escape(message) in page for message in messages)  # shown, not only kept
    assert row_counts() == before


def test_intake_page_says_why_a_future_birth_date_is_refused(as_pharmacist):
    response = as_pharmacist.post("/patients/new/", intake_form(date_of_birth="2999-01-01"))

    assert "Date of birth cannot be in the future." in response.content.decode()


@pytest.mark.parametrize("given_on", ["2999-01-01", "1990-01-01"], ids=["future", "before-birth"])
def test_intake_with_badly_dated_consents_saves_neither_patient_nor_consents(
    as_pharmacist, given_on
):
    before = row_counts()

    response = as_pharmacist.post("/patients/new/", intake_form(consents_given_on=given_on))

    assert response.status_code == 422
    assert response.context["form"].errors
    assert row_counts() == before


def test_intake_page_refuses_a_minor_without_a_guardian(as_pharmacist, settings):
    settings.MINIMUM_AGE_WITHOUT_GUARDIAN = 18
    before = row_counts()

    response = as_pharmacist.post(
        "/patients/new/", intake_form(date_of_birth=years_ago(16).isoformat())
    )

    assert response.status_code == 422
    assert response.context["form"].errors["guardian_name"] == [
        "Patients under 18 need a parent or guardian recorded."
    ]
    assert row_counts() == before


def test_intake_page_accepts_a_minor_with_a_guardian(as_pharmacist, settings):
    settings.MINIMUM_AGE_WITHOUT_GUARDIAN = 18

    response = as_pharmacist.post(
        "/patients/new/",
        intake_form(
            date_of_birth=years_ago(16).isoformat(),
            guardian_name="Maria Intake",
            guardian_relationship="mother",
        ),
    )

    assert response.status_code == 302
    assert Patient.objects.get(family_name="Intake").guardian_name == "Maria Intake"


def test_intake_page_follows_a_lower_minimum_age(as_pharmacist, settings):
    settings.MINIMUM_AGE_WITHOUT_GUARDIAN = 16

    response = as_pharmacist.post(
        "/patients/new/", intake_form(date_of_birth=years_ago(17).isoformat())
    )

    assert response.status_code == 302


# --- The same rules in the service --------------------------------------------------------


def test_register_patient_refuses_a_field_it_does_not_know(pharmacist):
    with pytest.raises(ValidationError) as caught:
        register_patient(actor=pharmacist, record_number="SRX-1", **patient_fields())

    assert "record_number" in caught.value.message_dict
    assert not Patient.objects.exists()


def test_register_patient_collects_every_problem_at_once(pharmacist):
    with pytest.raises(ValidationError) as caught:
        register_patient(
            actor=pharmacist,
            **patient_fields(
                date_of_birth=today() + timedelta(days=1),
                fitzpatrick=9,
                prior_treatments=["magic"],
            ),
        )

    assert {"date_of_birth", "fitzpatrick", "prior_treatments"} <= set(caught.value.message_dict)


@pytest.mark.parametrize("who", ["prescriber", "outsider"])
def test_only_the_pharmacy_may_register_or_update(request, patient, who):
    actor = request.getfixturevalue(who)

    with pytest.raises(PermissionDenied):
        register_patient(actor=actor, **patient_fields(given_name="Zed"))
    with pytest.raises(PermissionDenied):
        update_patient(patient, actor=actor, phone="555-0100")

    assert Patient.objects.count() == 1


# --- Editing the record -------------------------------------------------------------------


def test_pharmacist_edits_a_patient_and_the_old_value_is_kept(as_pharmacist, pharmacist, patient):
    response = as_pharmacist.post(
        f"/patients/{patient.public_id}/edit/",
        edit_form(patient, phone="555-0100", fitzpatrick="4", reason="Phone call"),
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.phone, patient.fitzpatrick) == ("555-0100", 4)
    change = ChangeRecord.objects.get(action="patient.updated")
    assert change.actor == pharmacist
    assert change.reason == "Phone call"
    assert change.data == {"phone": ["", "555-0100"], "fitzpatrick": [3, 4]}


def test_saving_the_edit_form_unchanged_writes_no_history(as_pharmacist, patient):
    before = row_counts()

    response = as_pharmacist.post(f"/patients/{patient.public_id}/edit/", edit_form(patient))

    assert response.status_code == 302
    assert row_counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": years_ago(12).isoformat()}, "guardian_name"),
        ({"fitzpatrick": "0"}, "fitzpatrick"),
    ],
)
def test_bad_edit_is_refused_and_the_record_is_unchanged(as_pharmacist, patient, change, field):
    before = row_counts()

    response = as_pharmacist.post(
        f"/patients/{patient.public_id}/edit/", edit_form(patient, **change)
    )

    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert row_counts() == before
    patient.refresh_from_db()
    assert (patient.date_of_birth, patient.fitzpatrick) == (date(2000, 5, 17), 3)


def test_edit_cannot_assign_a_non_prescriber_as_prescriber(as_pharmacist, patient, technician):
    response = as_pharmacist.post(
        f"/patients/{patient.public_id}/edit/", edit_form(patient, prescriber=str(technician.pk))
    )

    assert response.status_code == 422
    assert "prescriber" in response.context["form"].errors


# --- Consents -----------------------------------------------------------------------------


def test_pharmacist_records_a_consent_from_the_patient_page(as_pharmacist, pharmacist, patient):
    response = as_pharmacist.post(
        f"/patients/{patient.public_id}/consents/",
        {"kind": "photographs", "granted": "yes", "given_on": today().isoformat()},
        follow=True,
    )

    assert response.redirect_chain == [(f"/patients/{patient.public_id}/", 302)]
    assert "Consent recorded." in response.content.decode()
    consent = patient.consents.get()
    assert (consent.kind, consent.granted, consent.recorded_by) == ("photographs", True, pharmacist)
    assert ("Photographs", consent, "granted") in response.context["consents"]
    assert response.context["photo_consent"] == consent


def test_withdrawing_a_consent_is_a_new_decision_not_an_edit(as_pharmacist, patient):
    url = f"/patients/{patient.public_id}/consents/"
    as_pharmacist.post(url, {"kind": "treatment", "granted": "yes", "given_on": "2026-01-02"})
    as_pharmacist.post(url, {"kind": "treatment", "granted": "no", "given_on": "2026-03-02"})

    assert [c.granted for c in patient.consents.order_by("given_on")] == [True, False]
    assert list(
        ChangeRecord.objects.filter(patient=patient, action__startswith="consent.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["consent.granted", "consent.withdrawn"]


def test_the_patient_page_says_when_a_consent_was_withdrawn(as_pharmacist, patient):
    url = f"/patients/{patient.public_id}/consents/"
    as_pharmacist.post(url, {"kind": "treatment", "granted": "yes", "given_on": "2026-01-02"})
    as_pharmacist.post(url, {"kind": "treatment", "granted": "no", "given_on": "2026-03-02"})

    page = as_pharmacist.get(f"/patients/{patient.public_id}/").content.decode()

    assert "Withdrawn on 2 Mar 2026" in page


def test_an_error_beside_its_field_does_not_repeat_the_label(as_pharmacist):
    response = as_pharmacist.post("/patients/new/", intake_form(date_of_birth="2999-01-01"))

    page = response.content.decode()
    assert "<li>Date of birth cannot be in the future.</li>" in page
    assert "Date of birth: Date of birth" not in page


def test_no_known_allergies_raise_no_safety_alert(pharmacist, patient):
    patient = update_patient(patient, actor=pharmacist, allergies="None known")

    assert not any(flag.startswith("Allergies") for flag in patient.safety_flags())


def test_refusing_a_consent_never_given_reads_as_declined(as_pharmacist, patient):
    url = f"/patients/{patient.public_id}/consents/"
    as_pharmacist.post(url, {"kind": "photographs", "granted": "no", "given_on": "2026-01-02"})

    change = ChangeRecord.objects.get(patient=patient, action__startswith="consent.")
    assert change.action == "consent.declined"
    assert change.summary == "Consent to photographs declined"


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "photographs", "granted": "yes", "given_on": "2999-01-01"},
        {"kind": "photographs", "granted": "yes", "given_on": "1990-01-01"},
        {"kind": "everything", "granted": "yes", "given_on": "2026-01-02"},
        {"kind": "photographs", "granted": "maybe", "given_on": "2026-01-02"},
        {"kind": "photographs", "granted": "yes", "given_on": ""},
    ],
    ids=["future", "before-birth", "unknown-kind", "no-decision", "no-date"],
)
def test_bad_consent_is_not_recorded_and_the_page_says_why(as_pharmacist, patient, data):
    before = row_counts()

    response = as_pharmacist.post(f"/patients/{patient.public_id}/consents/", data, follow=True)

    assert "Consent not recorded" in response.content.decode()
    assert row_counts() == before


def test_consent_url_only_takes_a_post(as_pharmacist, patient):
    assert as_pharmacist.get(f"/patients/{patient.public_id}/consents/").status_code == 405


# --- Duplicates, contradictions, decisions made, every problem at once --------------------


@pytest.mark.parametrize(
    "same",
    [
        {},  # same name and date of birth
        {"given_name": "Nora", "date_of_birth": "1990-01-01", "phone": "(555) 0199-42"},
        {"given_name": "Nora", "date_of_birth": "1990-01-01", "email": "CORA@example.org"},
    ],
    ids=["name-and-birth", "phone", "email"],
)
def test_a_possible_duplicate_is_shown_with_a_link_and_needs_a_reason(
    as_pharmacist, pharmacist, same
):
    first = register_patient(
        actor=pharmacist,
        **patient_fields(given_name="Cora", family_name="Intake", date_of_birth=date(1998, 3, 2)),
        phone="555-019942",
        email="cora@example.org",
    )

    refused = as_pharmacist.post("/patients/new/", intake_form(**same))

    assert refused.status_code == 422
    assert Patient.objects.count() == 1
    page = refused.content.decode()
    assert f'href="/patients/{first.public_id}/"' in page
    assert "This patient may be registered already" in page

    reason = "Twin sister, same birthday"
    accepted = as_pharmacist.post("/patients/new/", intake_form(**same, duplicate_reason=reason))

    assert accepted.status_code == 302
    change = ChangeRecord.objects.filter(action="patient.registered").latest("pk")
    assert change.reason == reason
    assert change.data["possible_duplicates"] == [first.record_number]


def test_the_api_refuses_a_possible_duplicate_without_a_reason(as_pharmacist, patient):
    body = {"given_name": "ada", "family_name": "EXAMPLE", "date_of_birth": "2000-05-17",
            "sex": "female", "fitzpatrick": 3}  # fmt: skip
    url = "/api/v1/patients"

    refused = as_pharmacist.post(url, body, content_type="application/json")
    accepted = as_pharmacist.post(
        url, body | {"duplicate_reason": "a namesake"}, content_type="application/json"
    )

    (error,) = refused.json()["errors"]
    assert (refused.status_code, error["field"]) == (422, "duplicate_reason")
    assert patient.record_number in error["message"]
    assert accepted.status_code == 201


@pytest.mark.parametrize("status", ["pregnant", "breastfeeding"])
def test_a_male_patient_cannot_be_marked_pregnant_or_breastfeeding(as_pharmacist, status):
    response = as_pharmacist.post(
        "/patients/new/", intake_form(sex="male", pregnancy_status=status)
    )

    assert response.status_code == 422
    assert "pregnancy_status" in response.context["form"].errors
    assert not Patient.objects.exists()


def test_a_pregnancy_status_dated_before_birth_is_refused(as_pharmacist):
    response = as_pharmacist.post("/patients/new/", intake_form(pregnancy_status_on="0001-01-01"))

    assert response.context["form"].errors["pregnancy_status_on"] == [
        "This date cannot be before the date of birth."
    ]


def test_only_the_consent_decisions_made_are_recorded(as_pharmacist, pharmacist):
    form = intake_form(consent_treatment="granted", consent_photographs="declined")

    as_pharmacist.post("/patients/new/", form)

    patient = Patient.objects.get()
    assert {(c.kind, c.granted) for c in patient.consents.all()} == {
        ("treatment", True),
        ("photographs", False),
    }
    actions = ChangeRecord.objects.filter(action__startswith="consent.").values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["consent.declined", "consent.granted"]


def test_every_problem_on_the_intake_page_is_shown_at_once(as_pharmacist):
    response = as_pharmacist.post(
        "/patients/new/", intake_form(given_name="", family_name="", date_of_birth="2999-01-01")
    )

    errors = response.context["form"].errors
    assert {"given_name", "family_name", "date_of_birth"} <= set(errors)
    assert errors["date_of_birth"] == ["Date of birth cannot be in the future."]
