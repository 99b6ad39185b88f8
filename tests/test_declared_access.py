"""Every route declares who may reach it, and none shows one patient's records to anyone
else. Generated from Django's URL resolver and the API's operations, so a route added
tomorrow is checked without anyone listing it here.

For every route: it has a declaration (scarrx.access). For every route that names an
object (an id in its URL), each caller with no business with it (no role, another
patient, another prescriber, and any role the declaration excludes) gets a 404 and
nothing is written; an API request whose body is refused before the object is looked up
must at least answer exactly as it does for an id that does not exist, so it gives no
hint. Routes that name no object refuse the callers their declaration excludes (404 on a
page, 403 in the API). A signed-out caller is sent to sign in (pages) or gets a 401
(API). And every rightful read that shows the patient is recorded under the route's name,
with words for the audit page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from django.http import HttpResponse
from django.urls import path
from ninja import NinjaAPI

from scarrx.access import staff
from scarrx.accounts.models import User
from scarrx.accounts.roles import Perm, sync_roles
from scarrx.assessments.services import record_assessment
from scarrx.patients.models import Patient
from scarrx.patients.services import link_portal_account, record_consent, register_patient
from scarrx.photos import services as photos
from tests.access_walk import (
    Route,
    api_routes,
    console_routes,
    intruders_for,
    read_problems,
    refusal_problems,
    rightful_for,
    send,
    undeclared,
)
from tests.conftest import BASELINE, client_for, fast_and_private, make_user, module_data
from tests.pharmacy.world import pharmacy_params
from tests.photos.conftest import BASELINE_TAKEN, FOLLOW_UP_TAKEN
from tests.photos.conftest import baseline_phantom as baseline_phantom  # noqa: F401
from tests.photos.conftest import followup_phantom as followup_phantom  # noqa: F401
from tests.treatment.course import whole_course

ROUTES = console_routes() + api_routes()


@dataclass
class World:
    cast: dict
    patient: Patient
    params: dict
    missing: dict
    private: object


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory, baseline_phantom, followup_phantom):
    """One patient with a record of every kind, and the whole cast, made once."""
    private = tmp_path_factory.mktemp("declared-access")
    with module_data(django_db_blocker, private):
        sync_roles()
        pharmacist = make_user("phil", "pharmacist")
        technician = make_user("tess", "technician")
        prescriber = make_user("drew", "prescriber")
        cast = {
            "pharmacist": pharmacist,
            "technician": technician,
            "prescriber": prescriber,
            "other_prescriber": make_user("dora", "prescriber"),
            "outsider": make_user("olly", None),
            "patient_user": make_user("ada", "patient"),
            "other_patient_user": make_user("ben", "patient"),
        }
        patient = register_patient(
            actor=pharmacist,
            prescriber=prescriber,
            given_name="Ada",
            family_name="Example",
            date_of_birth=BASELINE["assessed_on"].replace(year=2000),
            sex="female",
            fitzpatrick=3,
        )
        other = register_patient(
            actor=pharmacist,
            given_name="Ben",
            family_name="Sample",
            date_of_birth=BASELINE["assessed_on"].replace(year=1999),
            sex="male",
            fitzpatrick=4,
        )
        link_portal_account(patient, username=cast["patient_user"], actor=pharmacist)
        link_portal_account(other, username=cast["other_patient_user"], actor=pharmacist)
        record_consent(
            patient=patient,
            actor=pharmacist,
            kind="photographs",
            granted=True,
            given_on=BASELINE["assessed_on"],
        )
        baseline = record_assessment(patient=patient, actor=pharmacist, **BASELINE)
        photo = photos.upload_photo(
            patient=patient,
            actor=technician,
            data=baseline_phantom.jpeg,
            site="cheeks",
            view="front",
            taken_at=BASELINE_TAKEN,
        )
        photos.measure_photo(
            photo,
            actor=pharmacist,
            roi=[list(p) for p in baseline_phantom.roi],
            reference=[list(p) for p in baseline_phantom.reference],
        )
        followup = photos.upload_photo(
            patient=patient,
            actor=technician,
            data=followup_phantom.jpeg,
            site="cheeks",
            view="front",
            taken_at=FOLLOW_UP_TAKEN,
        )
        compared = photos.carry_over(followup, actor=pharmacist)
        pharmacy = pharmacy_params(patient, pharmacist, technician)
        patient.refresh_from_db()
        course = whole_course(
            patient=patient,
            pharmacist=pharmacist,
            technician=technician,
            prescriber=prescriber,
            approver=User.objects.get(username="pia"),  # made by pharmacy_params
        )
        params = {
            **pharmacy,
            "patient_id": patient.public_id,
            "assessment_id": baseline.public_id,
            "photo_id": photo.public_id,
            "measurement_id": compared.public_id,
            "which": "baseline",
            "view": "front",
            "prescription_id": course["prescription_id"],
            "fill_id": course["fill_id"],
            "side_effect_id": course["side_effect_id"],
            "token": course["token"],
        }
        missing = {k: uuid.uuid4() if isinstance(v, uuid.UUID) else v for k, v in params.items()}
        yield World(cast, patient, params, missing, private)


@pytest.fixture
def w(world, db, settings):
    for name, value in fast_and_private(world.private).items():
        setattr(settings, name, value)
    return world


def _id(route: Route) -> str:
    return f"{route.name or 'unnamed'}:{route.template}"


def checked(routes, predicate):
    return [pytest.param(r, id=_id(r)) for r in routes if predicate(r)]


# --- every route is declared ------------------------------------------------------------


def test_every_route_declares_who_may_reach_it():
    assert undeclared(ROUTES) == []


def test_api_operation_ids_are_unique_so_reads_name_one_operation():
    names = [r.name for r in ROUTES if r.api and r.access is not None]
    assert len(names) == len(set(names))


# --- intruders are refused --------------------------------------------------------------


@pytest.mark.parametrize("route", checked(ROUTES, lambda r: r.access is not None))
def test_intruders_are_refused_and_nothing_is_written(w, route):
    problems = []
    for who in intruders_for(route, w.cast):
        client = client_for(w.cast[who])
        for method in route.methods:
            url = route.url(w.params)
            found = refusal_problems(route, method, client, url, w.patient)
            if (
                found
                and route.names_an_object
                and _same_as_for_a_missing_id(w, route, method, client)
            ):
                found = []
            problems += [f"{who}: {p}" for p in found]
    assert problems == []


def _same_as_for_a_missing_id(w, route, method, client) -> bool:
    """Refused before the object is looked up (a body the API rejects, a method a form
    does not take): no hint either, if an id that does not exist gets the very same."""
    hidden = send(client, method, route.url(w.params))
    missing = send(client, method, route.url(w.missing))
    same = (hidden.status_code, hidden.content) == (missing.status_code, missing.content)
    return same and hidden.status_code in (400, 405, 422)


@pytest.mark.parametrize(
    "route", checked(ROUTES, lambda r: r.access is not None and r.access.audience != "public")
)
def test_signed_out_callers_sign_in_first(w, route):
    client = client_for(None)
    for method in route.methods:
        response = send(client, method, route.url(w.params))
        if route.api:
            assert response.status_code == 401, method
        else:
            assert response.status_code == 302, method
            assert response["Location"].startswith("/login/?next=")


# --- rightful reads are recorded --------------------------------------------------------


@pytest.mark.parametrize(
    "route",
    checked(
        ROUTES,
        lambda r: r.access is not None and r.access.audience != "public" and "GET" in r.methods,
    ),
)
def test_a_rightful_read_of_the_patient_is_recorded_with_words(w, route):
    client = client_for(w.cast[rightful_for(route)])
    shown = (w.patient.family_name, w.patient.record_number)

    assert read_problems(route, client, route.url(w.params), w.patient, shown) == []


# --- and the walk itself can fail -------------------------------------------------------


def _leaky(request, patient_id):
    """Declared, but fetches without scoping: shows any patient to any staff member."""
    return HttpResponse(Patient.objects.get(public_id=patient_id).full_name)


def _undeclared(request, patient_id):
    return HttpResponse(Patient.objects.get(public_id=patient_id).full_name)


urlpatterns = [
    path("leaky/<uuid:patient_id>/", staff(Perm.VIEW_PATIENT)(_leaky), name="leaky"),
    path("undeclared/<uuid:patient_id>/", _undeclared, name="undeclared"),
]


def test_the_walk_notices_an_undeclared_and_a_leaky_route(w):
    routes = {r.name: r for r in console_routes(urlconf=__name__)}
    assert undeclared(list(routes.values())) == ["GET/POST /undeclared/{patient_id}/"]

    broken_api = NinjaAPI(urls_namespace="broken", auth=None)

    @broken_api.get("/patients/{patient_id}")
    def open_to_all(request, patient_id: uuid.UUID):
        return {"ok": True}

    assert undeclared(api_routes(broken_api)) == ["GET /api/v1/patients/{patient_id}"]

    from django.test import override_settings

    with override_settings(ROOT_URLCONF=__name__):
        leaky = routes["leaky"]
        client = client_for(w.cast["other_prescriber"])
        problems = refusal_problems(leaky, "GET", client, leaky.url(w.params), w.patient)
        assert problems == [f"GET /leaky/{w.patient.public_id}/: 200, not 404"]
        assert "other_prescriber" in intruders_for(leaky, w.cast)
        unrecorded = read_problems(
            leaky, client_for(w.cast["pharmacist"]), leaky.url(w.params), w.patient, ()
        )
        assert unrecorded and "recorded no read" in unrecorded[0]
