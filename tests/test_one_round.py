"""Every field's problem in one round through the API: what the schema refuses (missing,
wrong type, not a date) and what the operation's own checks refuse come in one 422, in the
one error shape (scarrx.oneround), for every kind of write; nothing is written."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from scarrx.audit.models import ChangeRecord
from scarrx.pharmacy import services as pharmacy
from tests.conftest import BASELINE, make_user
from tests.treatment.course import NPI, silicone_gel

RLO = "\u202e"  # a right-to-left override: refused by the text rule, a service check


def send(client, method: str, url: str, body: dict):
    return client.generic(method, url, json.dumps(body, default=str), "application/json")


def fields_named(response) -> set[str]:
    assert response.status_code == 422, response.content[:500]
    return {e["field"] for e in response.json()["errors"]}


def register(world):
    body = {"given_name": "", "family_name": " ", "date_of_birth": "17/05/2000",
            "sex": "female", "fitzpatrick": 3}  # fmt: skip
    return "POST", "/api/v1/patients", body, {"given_name", "family_name", "date_of_birth"}


def amend(world):
    url = f"/api/v1/patients/{world['patient'].public_id}"
    body = {"given_name": "", "date_of_birth": "soon", "fitzpatrick": 9}
    return "PATCH", url, body, {"given_name", "date_of_birth", "fitzpatrick"}


def consent(world):
    url = f"/api/v1/patients/{world['patient'].public_id}/consents"
    body = {"kind": "treatment", "granted": "perhaps", "given_on": "2999-01-01", "note": RLO}
    return "POST", url, body, {"granted", "given_on", "note"}


def assessment(world):
    url = f"/api/v1/patients/{world['patient'].public_id}/assessments"
    body = BASELINE | {
        "assessed_on": "2026-13-01",
        "bother": "a lot",
        "timepoint": "week_99",
        "notes": f"Seen {RLO}",
    }
    return "POST", url, body, {"assessed_on", "bother", "timepoint", "notes"}


def ingredient(world):
    body = {"name": "", "role": "solvent", "assay_percent": "lots", "notes": f"Keep dry{RLO}"}
    return "POST", "/api/v1/pharmacy/ingredients", body, {"name", "role", "assay_percent", "notes"}


def prescription(world):
    today = timezone.localdate()
    body = {
        "patient": world["patient"].public_id,
        "preparation": world["preparation"].public_id,
        "written_on": "yesterday",
        "start_on": today,
        "times": {"morning": "8 o'clock"},
        "area": "face_and_neck",
        "duration_days": "long",
        "refills_authorised": 2,
        "directions": "",
        "prescriber_name": "Drew Doctor",
        "prescriber_npi": NPI,
        "prescriber_licence": "MD-4417",
    }
    return (
        "POST",
        "/api/v1/prescriptions",
        body,
        {
            "written_on",
            "duration_days",
            "times.morning",
            "directions",
        },
    )


@pytest.fixture
def world(pharmacist, technician, patient):
    approver = make_user("pia", "pharmacist")
    gel = silicone_gel(pharmacist, technician, approver)
    preparation = pharmacy.derive_preparation(
        actor=pharmacist, patient=patient, formulation=gel["mfr"]
    )
    return {"patient": patient, "preparation": preparation}


@pytest.mark.parametrize(
    "write",
    [register, amend, consent, assessment, ingredient, prescription],
    ids=lambda w: w.__name__,
)
def test_the_schemas_and_the_services_refusals_come_in_one_answer(as_pharmacist, world, write):
    method, url, body, bad = write(world)
    before = ChangeRecord.objects.count()

    response = send(as_pharmacist, method, url, body)

    assert fields_named(response) == bad
    assert ChangeRecord.objects.count() == before


def test_an_operation_refused_only_by_its_schema_writes_nothing_in_its_second_look(
    as_pharmacist, world
):
    # Everything else is right: the operation's dry run passes, and is not kept.
    url = f"/api/v1/patients/{world['patient'].public_id}"
    before = ChangeRecord.objects.count()

    response = send(as_pharmacist, "PATCH", url, {"allergies": "Latex", "fitzpatrick": "three"})

    assert fields_named(response) == {"fitzpatrick"}
    assert ChangeRecord.objects.count() == before
    world["patient"].refresh_from_db()
    assert world["patient"].allergies == ""


def test_a_file_written_during_the_second_look_is_removed(db):
    from django.core.files.storage import default_storage

    from scarrx.dryrun import refusal_of
    from scarrx.photos.storage import save_private

    written = []

    def operation():
        written.append(save_private(b"a preview"))
        assert default_storage.exists(written[0])

    assert refusal_of(operation) is None
    assert written and not default_storage.exists(written[0])


def test_a_bad_body_for_a_patient_the_user_may_not_see_is_a_404_not_their_checks(world):
    """The second look runs the operation, and the operation's first word is whether the
    user may see the patient: another prescriber's patient is a 404 however the body is
    wrong, and no check of the patient's fields is heard."""
    from tests.conftest import client_for

    other = make_user("dr-other", "prescriber")
    url = f"/api/v1/patients/{world['patient'].public_id}/assessments"
    body = BASELINE | {"assessed_on": "2026-13-01", "timepoint": "week_99"}
    response = send(client_for(other), "POST", url, body)
    assert response.status_code == 404, response.content
    assert response.json()["errors"] == [{"field": None, "message": "Not found."}]
