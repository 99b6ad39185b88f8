"""The audit trail: every page and endpoint showing patient data records who saw what, from
where; every change to a clinical record is kept with its actor; nothing clinical is ever
deleted; and a pharmacist can read a patient's history."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from scarrx.accounts.services import issue_api_token
from scarrx.assessments.models import AssessmentSite, ScarAssessment
from scarrx.assessments.services import amend_assessment
from scarrx.audit.models import AccessRecord, ChangeRecord
from scarrx.patients.models import Consent, Patient
from scarrx.patients.services import record_consent, update_patient
from tests.conftest import BASELINE, client_for

READS = [
    ("/patients/", "patient-list", "web", True),
    ("/patients/?q=ada", "patient-list", "web", True),
    ("/patients/{patient}/", "patient-detail", "web", True),
    ("/patients/{patient}/edit/", "patient-edit", "web", True),
    ("/patients/{patient}/assessments/new/", "assessment-new", "web", True),
    ("/assessments/{assessment}/", "assessment-detail", "web", True),
    ("/assessments/{assessment}/amend/", "assessment-amend", "web", True),
    ("/audit/patients/{patient}/", "patient-history", "web", True),
    ("/api/v1/patients", "api:list_patients", "api", True),
    ("/api/v1/patients?q=ada", "api:list_patients", "api", True),
    ("/api/v1/patients/{patient}", "api:get_patient", "api", True),
    ("/api/v1/patients/{patient}/assessments", "api:list_assessments", "api", True),
    ("/api/v1/assessments/{assessment}", "api:get_assessment", "api", True),
    ("/api/v1/audit/patients/{patient}/access", "api:patient_access", "api", True),
    ("/api/v1/audit/patients/{patient}/changes", "api:patient_changes", "api", True),
]


def as_json(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str))


def post_json(client, url: str, body: dict):
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def new_accesses(before_pk: int):
    return list(AccessRecord.objects.filter(pk__gt=before_pk).order_by("pk"))


def last_access_pk() -> int:
    last = AccessRecord.objects.order_by("-pk").first()
    return last.pk if last else 0


# --- Every read of patient data is recorded -----------------------------------------------


@pytest.mark.parametrize(("template", "what", "via", "names_patient"), READS)
def test_every_patient_data_read_records_who_what_path_and_ip(
    pharmacist, baseline, patient, template, what, via, names_patient
):
    url = template.format(patient=patient.public_id, assessment=baseline.public_id)
    before = last_access_pk()

    response = client_for(pharmacist).get(url, REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 200
    [record] = new_accesses(before)
    assert record.user == pharmacist
    assert record.what == what
    assert record.path == url
    assert record.ip == "203.0.113.7"
    assert record.via == via
    assert record.patient == (patient if names_patient else None)
    assert record.at is not None


def test_a_list_records_an_access_for_each_patient_it_shows(pharmacist, patient, other_patient):
    before = last_access_pk()

    client_for(pharmacist).get("/patients/?q=e")  # Ada Example and Ben Sample

    assert {r.patient for r in new_accesses(before)} == {patient, other_patient}


def test_an_empty_search_still_records_that_it_was_made(pharmacist, patient):
    before = last_access_pk()

    client_for(pharmacist).get("/patients/?q=nobody")

    [record] = new_accesses(before)
    assert record.patient is None and record.what == "patient-list"


def test_registering_a_patient_through_the_api_records_the_access(as_pharmacist, pharmacist):
    before = last_access_pk()

    response = post_json(
        as_pharmacist,
        "/api/v1/patients",
        {
            "given_name": "Cora",
            "family_name": "Intake",
            "date_of_birth": "1998-03-02",
            "sex": "female",
            "fitzpatrick": 4,
        },
    )

    assert response.status_code == 201
    [record] = new_accesses(before)
    assert (record.user, record.what, record.via) == (pharmacist, "api:register_patient", "api")
    assert record.patient == Patient.objects.get(family_name="Intake")


def test_recording_and_amending_through_the_api_record_the_access(
    as_pharmacist, pharmacist, baseline, patient
):
    before = last_access_pk()

    created = post_json(
        as_pharmacist,
        f"/api/v1/patients/{patient.public_id}/assessments",
        as_json(BASELINE | {"timepoint": "week_4"}),
    )
    amended = post_json(
        as_pharmacist,
        f"/api/v1/assessments/{baseline.public_id}/amend",
        as_json(BASELINE | {"reason": "recount"}),
    )

    assert (created.status_code, amended.status_code) == (201, 201)
    records = new_accesses(before)
    assert [(r.user, r.patient, r.via) for r in records] == [(pharmacist, patient, "api")] * 2
    assert [r.what for r in records] == ["api:record_assessment", "api:amend_assessment"]


def test_a_bearer_token_read_is_recorded_against_the_tokens_user(pharmacist, patient):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(user=pharmacist, name='lab')}")
    before = last_access_pk()

    client.get(f"/api/v1/patients/{patient.public_id}")

    [record] = new_accesses(before)
    assert (record.user, record.via, record.patient) == (pharmacist, "api", patient)


def test_a_patient_reading_their_own_record_is_recorded(patient):
    before = last_access_pk()

    response = client_for(patient.user).get("/api/v1/portal/me")

    assert response.status_code == 200
    [record] = new_accesses(before)
    assert (record.user, record.patient, record.what) == (patient.user, patient, "api:my_record")


def test_a_refused_read_shows_nothing_and_records_no_patient_access(outsider, patient):
    before = last_access_pk()

    client_for(outsider).get(f"/api/v1/patients/{patient.public_id}")

    assert not AccessRecord.objects.filter(pk__gt=before, patient=patient).exists()


# --- Every change is kept, with its actor -------------------------------------------------


def test_registering_a_patient_records_the_change_with_the_actor(pharmacist, patient):
    change = ChangeRecord.objects.get(action="patient.registered")

    assert change.actor == pharmacist
    assert change.patient == patient
    assert change.object_type == "patients.patient"
    assert change.object_id == str(patient.public_id)
    assert change.data["given_name"] == "Ada"
    assert change.data["date_of_birth"] == "2000-05-17"
    assert change.data["prescriber"] == "Drew Doctor"
    assert change.summary == f"Registered Ada Example ({patient.record_number})"


def test_updating_a_patient_keeps_the_old_values(pharmacist, technician, patient):
    update_patient(
        patient,
        actor=technician,
        reason="New phone; phototype re-asked",
        phone="555-0100",
        fitzpatrick=4,
        family_name="Example",  # unchanged: not in the diff
    )

    change = ChangeRecord.objects.get(action="patient.updated")
    assert change.actor == technician
    assert change.patient == patient
    assert change.data == {"phone": ["", "555-0100"], "fitzpatrick": [3, 4]}
    assert change.reason == "New phone; phototype re-asked"
    assert "phone" in change.summary and "fitzpatrick" in change.summary


def test_changing_the_prescriber_keeps_who_it_was(pharmacist, other_prescriber, patient):
    update_patient(patient, actor=pharmacist, prescriber=other_prescriber)

    change = ChangeRecord.objects.get(action="patient.updated")
    assert change.data == {"prescriber": ["Drew Doctor", "Dora Doctor"]}


def test_an_update_that_changes_nothing_writes_nothing(pharmacist, patient):
    before = ChangeRecord.objects.count()

    update_patient(patient, actor=pharmacist, given_name="Ada")

    assert ChangeRecord.objects.count() == before


def test_recording_a_consent_records_the_change_with_the_actor(technician, patient):
    consent = record_consent(
        patient=patient,
        actor=technician,
        kind="deidentified_data",
        granted=False,
        given_on=date(2026, 1, 9),
    )

    change = ChangeRecord.objects.get(action="consent.declined")  # never granted before
    assert (change.actor, change.patient) == (technician, patient)
    assert change.object_id == str(consent.public_id)
    assert change.data == {
        "kind": "deidentified_data",
        "granted": False,
        "given_on": "2026-01-09",
        "note": "",
    }


def test_signing_and_amending_record_changes_with_their_actors(baseline, pharmacist, prescriber):
    amend_assessment(baseline, actor=prescriber, reason="Recount", **BASELINE)

    changes = ChangeRecord.objects.filter(action__startswith="assessment.").order_by("pk")
    assert [(c.action, c.actor, c.reason) for c in changes] == [
        ("assessment.signed", pharmacist, ""),
        ("assessment.amended", prescriber, "Recount"),
    ]
    assert all(c.patient == baseline.patient for c in changes)


def test_changes_through_the_console_name_the_signed_in_user(technician, patient):
    client_for(technician).post(
        f"/patients/{patient.public_id}/consents/",
        {"kind": "treatment", "granted": "yes", "given_on": timezone.localdate().isoformat()},
    )

    assert ChangeRecord.objects.get(action="consent.granted").actor == technician


# --- Nothing clinical is deleted ----------------------------------------------------------


def _one_of_each(baseline, patient) -> dict[type, object]:
    record_consent(
        patient=patient,
        actor=baseline.assessor,
        kind="treatment",
        granted=True,
        given_on=date(2026, 1, 9),
    )
    client_for(baseline.assessor).get(f"/patients/{patient.public_id}/")
    return {
        Patient: patient,
        ScarAssessment: baseline,
        AssessmentSite: baseline.sites.first(),
        Consent: patient.consents.first(),
        AccessRecord: AccessRecord.objects.first(),
        ChangeRecord: ChangeRecord.objects.first(),
    }


MODELS = [Patient, ScarAssessment, AssessmentSite, Consent, AccessRecord, ChangeRecord]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_record_cannot_be_deleted(baseline, patient, model):
    obj = _one_of_each(baseline, patient)[model]
    before = model.objects.count()

    with pytest.raises(PermissionError, match="never deleted"):
        obj.delete()

    assert model.objects.count() == before
    assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_records_cannot_be_deleted_in_bulk(baseline, patient, model):
    _one_of_each(baseline, patient)
    before = model.objects.count()

    with pytest.raises(PermissionError, match="never deleted"):
        model.objects.all().delete()

    assert model.objects.count() == before


def test_a_patients_assessments_cannot_be_deleted_through_the_patient(baseline, patient):
    with pytest.raises(PermissionError):
        patient.assessments.all().delete()
    with pytest.raises(PermissionError):
        patient.change_records.all().delete()

    assert ScarAssessment.objects.filter(patient=patient).count() == 1


@pytest.mark.parametrize("model", [AccessRecord, ChangeRecord], ids=lambda m: m.__name__)
def test_audit_rows_cannot_be_rewritten_in_bulk(baseline, patient, model):
    _one_of_each(baseline, patient)

    with pytest.raises(PermissionError, match="never changed"):
        model.objects.all().update(at=timezone.now())


# --- A pharmacist reads the history -------------------------------------------------------


def test_pharmacist_reads_the_history_page(
    as_pharmacist, pharmacist, technician, baseline, patient
):
    update_patient(patient, actor=technician, reason="moved", address="1 New Street")
    client_for(technician).get(f"/patients/{patient.public_id}/", REMOTE_ADDR="198.51.100.4")

    response = as_pharmacist.get(f"/audit/patients/{patient.public_id}/")

    assert response.status_code == 200
    changes = [(e["r"].action, e["who"]) for e in response.context["entries"]]
    assert changes == [
        ("patient.updated", technician),
        ("assessment.signed", pharmacist),
        ("patient.registered", pharmacist),
    ]
    page = response.content.decode()
    assert "Patient record updated" in page
    assert "Address: — → 1 New Street" in page
    assert "Reason: moved" in page

    reads = as_pharmacist.get(f"/audit/patients/{patient.public_id}/?show=reads")

    accesses = [(e["r"].what, e["who"]) for e in reads.context["entries"]]
    assert accesses[-1] == ("patient-detail", technician)
    assert accesses[0][0] == "patient-history"
    text = reads.content.decode()
    assert "Patient page" in text
    assert "198.51.100.4" in text
    assert "Tess Tech" in text


def test_pharmacist_reads_the_history_through_the_api(as_pharmacist, technician, baseline, patient):
    client_for(technician).get(f"/api/v1/patients/{patient.public_id}", REMOTE_ADDR="198.51.100.4")
    base = f"/api/v1/audit/patients/{patient.public_id}"

    changes = as_pharmacist.get(f"{base}/changes").json()
    access = as_pharmacist.get(f"{base}/access").json()

    assert changes["count"] == 2
    assert [(c["action"], c["actor"]) for c in changes["items"]] == [
        ("assessment.signed", "phil"),
        ("patient.registered", "phil"),
    ]
    assert changes["items"][0]["data"]["gb_quantitative"] == 5
    # The changes read itself came first, then this one: newest first.
    assert [(a["what"], a["user"], a["ip"], a["via"]) for a in access["items"][:3]] == [
        ("api:patient_access", "phil", "127.0.0.1", "api"),
        ("api:patient_changes", "phil", "127.0.0.1", "api"),
        ("api:get_patient", "tess", "198.51.100.4", "api"),
    ]


def test_history_is_only_about_the_one_patient(as_pharmacist, patient, other_patient):
    client_for(patient.user).get(f"/api/v1/patients/{patient.public_id}")

    response = as_pharmacist.get(f"/api/v1/audit/patients/{other_patient.public_id}/changes")

    assert [c["action"] for c in response.json()["items"]] == ["patient.registered"]
    assert response.json()["items"][0]["summary"].startswith("Registered Ben Sample")


def test_changes_read_in_words_with_labels_and_local_dates(pharmacist, patient, settings):
    from scarrx.audit.words import change_lines

    update_patient(
        patient, actor=pharmacist, reason="asked", pregnancy_status="pregnant", sex="female"
    )
    registered = ChangeRecord.objects.get(action="patient.registered")
    updated = ChangeRecord.objects.get(action="patient.updated")

    assert "Pregnancy status: Not known → Pregnant" in change_lines(updated)
    assert "Date of birth: 17 May 2000" in change_lines(registered)
    assert "Sex: Female" in change_lines(registered)


def test_an_instant_in_a_change_reads_in_the_pharmacys_zone():
    from scarrx.audit.words import value_words

    assert value_words("2026-11-29T14:30:00+00:00") == "29 Nov 2026, 09:30"  # New York
    assert value_words("week_12", {"week_12": "Week 12"}) == "Week 12"
    assert value_words(["laser", "fillers"], {"laser": "Laser", "fillers": "Fillers"}) == (
        "Laser, Fillers"
    )


@pytest.mark.parametrize(
    ("text", "flagged"),
    [("None known", False), ("NKDA", False), ("", False), ("Penicillin", True), ("nuts.", True)],
)
def test_an_allergy_entry_that_names_none_raises_no_flag(text, flagged):
    from scarrx.patients.models import has_allergies

    assert has_allergies(text) is flagged
