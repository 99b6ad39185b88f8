"""The API fuzzed from its own OpenAPI schema (schemathesis): every operation, signed in
as a pharmacist, with generated parameters and bodies (real patient, assessment and photo
ids in the paths, so the cases reach the operations' own checks), answers anything but a
server error. `make fuzz`; a bounded number of examples per operation, so CI runs it in
about a minute."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from scarrx.accounts.services import issue_api_token
from scarrx.assessments.services import record_assessment
from scarrx.patients.services import record_consent
from scarrx.photos import services as photos
from tests.conftest import BASELINE

EXAMPLES = 25  # per operation

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]


# The schema as the API serves it (no database is read for it), and the app to call.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())


@cache
def phantoms() -> tuple:
    """A baseline and a follow-up photo of the same synthetic skin (rendered once)."""
    from dataclasses import replace

    from scarrx.imaging import phantom as ph

    spec = ph.SceneSpec(seed=2, scar_delta_a=13.0)
    before = ph.photograph(ph.make_scene(spec), ph.WARM_CAST)
    moved = replace(ph.COOL_CAST, rotation_deg=3.0, shift_px=(25.0, -15.0), seed=3)
    after = ph.photograph(ph.make_scene(replace(spec, scar_delta_a=8.0)), moved)
    return before, after


@pytest.fixture(autouse=True)
def _connection_kept_between_requests():
    """The app is called as a WSGI server calls it, which closes the database connection
    when each request ends: here that connection holds the test's transaction (the cast),
    so keep it open, as Django's test client does."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@dataclass
class Cast:
    token: str
    ids: dict[str, uuid.UUID]


@pytest.fixture
def cast(pharmacist, patient, request) -> Cast:
    """A pharmacist's token; the patient, an assessment, and for an operation on a photo a
    measured baseline photo and a follow-up to align to it (the slow part)."""
    token = issue_api_token(user=pharmacist, name="fuzz", actor=pharmacist)
    ids = {"patient_id": patient.public_id}
    ids["assessment_id"] = record_assessment(
        patient=patient, actor=pharmacist, **BASELINE
    ).public_id
    record_consent(
        patient=patient, actor=pharmacist, kind="photographs", granted=True,
        given_on=timezone.localdate(),
    )  # fmt: skip
    if "{photo_id}" not in request.node.name:
        return Cast(token=token, ids=ids)
    before, after = phantoms()
    now = timezone.now()
    first = photos.upload_photo(
        patient=patient, actor=pharmacist, data=before.jpeg, site="cheeks", view="front",
        taken_at=now - timedelta(days=30),
    )  # fmt: skip
    roi, reference = ([list(p) for p in points] for points in (before.roi, before.reference))
    photos.measure_photo(first, actor=pharmacist, roi=roi, reference=reference)
    later = photos.upload_photo(
        patient=patient, actor=pharmacist, data=after.jpeg, site="cheeks", view="front",
        taken_at=now - timedelta(days=1),
    )  # fmt: skip
    ids["photo_id"] = later.public_id
    return Cast(token=token, ids=ids)


def with_real_ids(case, cast: Cast) -> None:
    """Where the case made up a well-formed id, use one that exists (a malformed one is
    kept: refusing it is part of the test)."""
    for name, value in (case.path_parameters or {}).items():
        if name in cast.ids:
            try:
                uuid.UUID(str(value))
            except ValueError:
                continue
            case.path_parameters[name] = str(cast.ids[name])


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_server_error(case, cast):
    with_real_ids(case, cast)
    response = case.call(headers={"Authorization": f"Bearer {cast.token}"})
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, response.text[:500]
