"""The course's free text under the one text rule (scarrx.text): a right-to-left override
in a prescription's directions, a stop reason, a side effect's description, its review or
an application's note is refused with a 422 naming the field, and nothing is written."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from scarrx.audit.models import ChangeRecord
from scarrx.text import INVISIBLE
from scarrx.treatment import services
from scarrx.treatment.models import Application
from tests.conftest import client_for
from tests.treatment.course import key, prescription_fields

RLO = "\u202e"


def directions(world):
    # Written without a prescriber's name as well: both problems in one answer.
    body = prescription_fields(directions=f"Apply twice daily{RLO}") | {
        "patient": world["patient"].public_id,
        "preparation": world["preparation"].public_id,
    }
    return "/api/v1/prescriptions", body, "directions"


def prescriber_name(world):
    url, body, _ = directions(world)
    return url, body | {"prescriber_name": f"Drew{RLO}"}, "prescriber_name"


def stop_reason(world):
    url = f"/api/v1/prescriptions/{world['rx'].public_id}/status"
    return url, {"status": "stopped", "reason": f"Irritation{RLO}"}, "reason"


def side_effect(world):
    url = f"/api/v1/prescriptions/{world['rx'].public_id}/side-effects"
    body = {"kind": "irritation", "severity": "mild", "onset_on": timezone.localdate(),
            "action": "continue", "description": f"Stings{RLO}"}  # fmt: skip
    return url, body, "description"


def review(world):
    effect = services.report_side_effect(
        world["rx"], actor=world["patient"].user, via="portal", kind="irritation",
        severity="mild", onset_on=timezone.localdate(), action="continue",
    )  # fmt: skip
    url = f"/api/v1/side-effects/{effect.public_id}/review"
    return url, {"assessment": f"Expected{RLO}", "outcome": "ongoing"}, "assessment"


def application_note(world):
    url = f"/api/v1/prescriptions/{world['rx'].public_id}/applications"
    return url, {"key": key(), "note": f"Thin layer{RLO}"}, "note"


@pytest.fixture
def world(patient, preparation, rx, clock):
    return {"patient": patient, "preparation": preparation, "rx": rx}


@pytest.mark.parametrize(
    "write",
    [directions, prescriber_name, stop_reason, side_effect, review, application_note],
    ids=lambda w: w.__name__,
)
def test_bad_text_in_the_course_is_refused_by_field(pharmacist, world, write):
    url, body, field = write(world)
    before = (ChangeRecord.objects.count(), Application.objects.count())

    response = client_for(pharmacist).post(url, json.dumps(body, default=str), "application/json")

    assert response.status_code == 422, response.content[:300]
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors.get(field) == INVISIBLE, errors
    assert (ChangeRecord.objects.count(), Application.objects.count()) == before
