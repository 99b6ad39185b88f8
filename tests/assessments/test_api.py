"""Scar assessments through the REST API: record with computed scores, list, retrieve, amend;
bad input refused with a 422 naming the field and nothing saved; no payload reaches a 500."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scarrx.assessments.models import AssessmentSite, ScarAssessment
from scarrx.audit.models import ChangeRecord
from scarrx.patients.models import Patient
from tests.conftest import BASELINE, client_for


def as_json(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str))


def baseline_body(**overrides) -> dict:
    return as_json(BASELINE) | overrides


def follow_up_body(**overrides) -> dict:
    return baseline_body(timepoint="week_4", global_impression=2) | overrides


SURGICAL_SITE = {
    "site": "chest",
    "cause": "surgery",
    "scar_age_years": 2.5,
    "vss_pigmentation": 2,
    "vss_vascularity": 2,
    "vss_pliability": 3,
    "vss_height": 2,
}


def post(client, url: str, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data, content_type="application/json")


def create_url(patient) -> str:
    return f"/api/v1/patients/{patient.public_id}/assessments"


def amend_url(assessment) -> str:
    return f"/api/v1/assessments/{assessment.public_id}/amend"


def row_counts() -> dict[str, int]:
    return {
        "patients": Patient.objects.count(),
        "assessments": ScarAssessment.objects.count(),
        "sites": AssessmentSite.objects.count(),
        "changes": ChangeRecord.objects.count(),
    }


def fields_named(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# --- Record, list, retrieve ---------------------------------------------------------------


def test_recording_a_baseline_returns_the_computed_scores(as_pharmacist, patient):
    body = baseline_body(sites=[*baseline_sites(), SURGICAL_SITE])

    response = post(as_pharmacist, create_url(patient), body)

    assert response.status_code == 201
    got = response.json()
    assert got["patient"] == str(patient.public_id)
    assert got["assessor"] == "Phil Pharm"
    assert got["scores"] == {
        "gb_qualitative": "3 (moderate)",
        "gb_quantitative": 5,  # clinical.md §2.2 worked example
        "ecca": 50,  # clinical.md §2.3 worked example
        "scar_s": {"face": 3},
        "scar_s_sum": None,
        "vancouver": {"chest": 9},  # clinical.md §2.5 worked example 2/2/3/2
    }
    assert got["gb_counts"] == {"A1": 8, "A2": 15, "B2": 5}
    assert got["scale_versions"]["ecca"] == "ecca-2007"
    assert got["is_current"] is True
    assert got["amends"] is None
    assert [s["vss_total"] for s in got["sites"]] == [None, 9]


def baseline_sites() -> list[dict]:
    return as_json({"sites": BASELINE["sites"]})["sites"]


def test_recorded_assessment_is_saved_with_its_raw_inputs(as_pharmacist, patient):
    got = post(as_pharmacist, create_url(patient), baseline_body()).json()

    saved = ScarAssessment.objects.get(public_id=got["id"])
    assert saved.patient == patient
    assert saved.ecca_inputs == {"V": {"count": 12}, "U": {"count": 3}}
    assert (saved.gb_quantitative, saved.ecca) == (5, 50)


def test_prescriber_records_a_follow_up_for_their_patient(prescriber, baseline, patient):
    response = post(client_for(prescriber), create_url(patient), follow_up_body())

    assert response.status_code == 201
    assert response.json()["global_impression"] == 2
    assert response.json()["assessor"] == "Drew Doctor"


def test_list_shows_current_versions_newest_first(as_pharmacist, pharmacist, baseline, patient):
    follow = post(
        as_pharmacist, create_url(patient), follow_up_body(assessed_on="2026-02-07")
    ).json()

    listed = as_pharmacist.get(create_url(patient)).json()["items"]

    assert [a["id"] for a in listed] == [follow["id"], str(baseline.public_id)]
    assert listed[1]["scores"]["gb_quantitative"] == 5


def test_list_can_include_superseded_versions(as_pharmacist, baseline, patient):
    amended = post(as_pharmacist, amend_url(baseline), baseline_body(reason="recount")).json()

    current = as_pharmacist.get(create_url(patient)).json()["items"]
    everything = as_pharmacist.get(create_url(patient), {"include_superseded": "true"})
    everything = everything.json()["items"]

    assert [a["id"] for a in current] == [amended["id"]]
    assert {a["id"] for a in everything} == {amended["id"], str(baseline.public_id)}


def test_retrieve_one_assessment(as_pharmacist, baseline):
    got = as_pharmacist.get(f"/api/v1/assessments/{baseline.public_id}").json()

    assert got["id"] == str(baseline.public_id)
    assert got["scores"]["ecca"] == 50
    assert got["sites"] == [
        {
            "site": "cheeks",
            "cause": "acne",
            "scar_age_years": "4.0",
            "vss_pigmentation": None,
            "vss_vascularity": None,
            "vss_pliability": None,
            "vss_height": None,
            "notes": "",
            "vss_total": None,
        }
    ]


def test_assessment_list_queries_do_not_grow_with_the_number_of_assessments(
    as_pharmacist, baseline, patient, django_assert_max_num_queries
):
    for week in range(1, 9):
        post(
            as_pharmacist,
            create_url(patient),
            follow_up_body(timepoint="other", assessed_on=f"2026-0{1 + week // 5}-1{week}"),
        )

    with django_assert_max_num_queries(10):
        listed = as_pharmacist.get(create_url(patient)).json()["items"]

    assert len(listed) == 9


# --- Amend ---------------------------------------------------------------------------------


def test_amending_returns_a_new_version_and_supersedes_the_original(as_pharmacist, baseline):
    response = post(
        as_pharmacist,
        amend_url(baseline),
        baseline_body(bother=4, reason="Patient corrected the bother score."),
    )

    assert response.status_code == 201
    got = response.json()
    assert got["id"] != str(baseline.public_id)
    assert got["amends"] == str(baseline.public_id)
    assert got["amendment_reason"] == "Patient corrected the bother score."
    assert got["bother"] == 4
    original = as_pharmacist.get(f"/api/v1/assessments/{baseline.public_id}").json()
    assert original["is_current"] is False
    assert original["bother"] == 7


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_amending_without_a_reason_is_refused(as_pharmacist, baseline, reason):
    body = baseline_body() if reason is None else baseline_body(reason=reason)
    before = row_counts()

    response = post(as_pharmacist, amend_url(baseline), body)

    assert response.status_code == 422
    assert fields_named(response) == ["reason"]
    assert row_counts() == before
    baseline.refresh_from_db()
    assert baseline.is_current is True


def test_amending_a_superseded_version_is_refused(as_pharmacist, baseline):
    post(as_pharmacist, amend_url(baseline), baseline_body(reason="first"))
    before = row_counts()

    response = post(as_pharmacist, amend_url(baseline), baseline_body(reason="second"))

    assert response.status_code == 422
    assert response.json() == {
        "errors": [{"field": "assessment", "message": "This assessment was already amended."}]
    }
    assert row_counts() == before


# --- Bad input: 422 naming the field, nothing saved ---------------------------------------

future = (timezone.localdate() + timedelta(days=1)).isoformat()

BAD_ASSESSMENTS = [
    pytest.param({"gb_counts": {"B1": -1}}, "gb_counts.B1", id="negative-count"),
    pytest.param({"gb_counts": {"B1": 2.5}}, "gb_counts.B1", id="fractional-count"),
    pytest.param({"gb_counts": {"B1": "many"}}, "gb_counts.B1", id="count-not-a-number"),
    pytest.param({"gb_counts": {"Z9": 3}}, "gb_counts.Z9", id="unknown-scar-type"),
    pytest.param({"gb_counts": {"D2": 3}}, "gb_counts.D2", id="d2-counted-not-measured"),
    pytest.param({"gb_d2_area_cm2": -2}, "gb_d2_area_cm2", id="negative-area"),
    pytest.param({"ecca_inputs": {"V": {"count": -3}}}, "ecca_inputs.V.count", id="ecca-negative"),
    pytest.param({"ecca_inputs": {"V": {"grade": 4}}}, "ecca_inputs.V", id="ecca-grade-4"),
    pytest.param({"ecca_inputs": {"Q": {"count": 3}}}, "ecca_inputs.Q", id="ecca-unknown-item"),
    pytest.param(
        {"ecca_inputs": {"V": {"count": 3, "grade": 1}}}, "ecca_inputs.V", id="ecca-count-and-grade"
    ),
    pytest.param(
        {"ecca_inputs": {"elastolysis": {"count": 3}}}, "ecca_inputs.elastolysis", id="elast-count"
    ),
    pytest.param({"gb_qualitative": 5}, "gb_qualitative", id="gb-grade-5"),
    pytest.param({"gb_qualitative": 0}, "gb_qualitative", id="gb-grade-0"),
    pytest.param(
        {"gb_no_scarring": True, "gb_qualitative": 2}, "gb_qualitative", id="no-scarring-and-grade"
    ),
    pytest.param({"scar_s": {"face": 6}}, "scar_s.face", id="scar-s-6"),
    pytest.param({"scar_s": {"face": -1}}, "scar_s.face", id="scar-s-negative"),
    pytest.param({"scar_s": {"neck": 2}}, "scar_s.neck", id="scar-s-unknown-region"),
    pytest.param({"bother": 11}, "bother", id="bother-11"),
    pytest.param({"bother": -1}, "bother", id="bother-negative"),
    pytest.param({"bother": "a lot"}, "bother", id="bother-not-a-number"),
    pytest.param({"assessed_on": future}, "assessed_on", id="dated-in-the-future"),
    pytest.param({"assessed_on": "1999-12-31"}, "assessed_on", id="dated-before-birth"),
    pytest.param({"assessed_on": "10/01/2026"}, "assessed_on", id="date-not-iso"),
    pytest.param({"timepoint": "week_3"}, "timepoint", id="unknown-timepoint"),
    pytest.param({"classification": "wavy"}, "classification", id="unknown-classification"),
    pytest.param({"morphology": ["wavy"]}, "morphology", id="unknown-morphology"),
    pytest.param({"global_impression": 2}, "global_impression", id="impression-at-baseline"),
    pytest.param({"sites": []}, "sites", id="no-sites"),
    pytest.param({"sites": [{"site": "elbow", "cause": "acne"}]}, "sites.0.site", id="bad-site"),
    pytest.param(
        {"sites": [{"site": "chin", "cause": "sunburn"}]}, "sites.0.cause", id="bad-cause"
    ),
    pytest.param(
        {"sites": [{"site": "chin", "cause": "acne", "scar_age_years": -1}]},
        "sites.0.scar_age_years",
        id="negative-scar-age",
    ),
    pytest.param(
        {"sites": [{"site": "chest", "cause": "surgery", "vss_pigmentation": 2}]},
        "sites.0.vss_vascularity",
        id="vss-partly-filled",
    ),
    pytest.param(
        {"sites": [SURGICAL_SITE | {"vss_pliability": 6}]},
        "sites.0.vss_pliability",
        id="vss-out-of-range",
    ),
    pytest.param({"sites": {"site": "chin"}}, "sites", id="sites-not-a-list"),
]


@pytest.mark.parametrize(("change", "field"), BAD_ASSESSMENTS)
def test_bad_assessment_is_refused_naming_the_field_and_nothing_is_saved(
    as_pharmacist, patient, change, field
):
    before = row_counts()

    response = post(as_pharmacist, create_url(patient), baseline_body(**change))

    assert response.status_code == 422
    assert field in fields_named(response), response.json()
    assert all(e["message"] for e in response.json()["errors"])
    assert row_counts() == before


def test_a_second_baseline_is_refused(as_pharmacist, baseline, patient):
    before = row_counts()

    response = post(as_pharmacist, create_url(patient), baseline_body())

    assert response.status_code == 422
    assert response.json() == {
        "errors": [
            {
                "field": "timepoint",
                "message": "This patient already has a baseline assessment; amend it instead.",
            }
        ]
    }
    assert row_counts() == before


def test_bad_amendment_is_refused_and_the_original_stays_current(as_pharmacist, baseline):
    before = row_counts()

    response = post(as_pharmacist, amend_url(baseline), baseline_body(bother=11, reason="fix"))

    assert response.status_code == 422
    assert fields_named(response) == ["bother"]
    assert row_counts() == before
    baseline.refresh_from_db()
    assert baseline.is_current is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"bother": True}, "bother", id="bother-true"),
        pytest.param({"gb_qualitative": True}, "gb_qualitative", id="grade-true"),
        pytest.param({"gb_counts": {"B1": True}}, "gb_counts.B1", id="count-true"),
    ],
)
def test_yes_no_is_not_taken_for_a_number(as_pharmacist, patient, change, field):
    # The scales refuse True as a number (scales.py); the API must not turn it into 1 first.
    before = row_counts()

    response = post(as_pharmacist, create_url(patient), baseline_body(**change))

    assert response.status_code == 422
    assert field in fields_named(response)
    assert row_counts() == before


def test_implausibly_large_raised_scar_area_is_refused_not_a_500(as_pharmacist, patient):
    # The column holds at most 99999.9 cm²: PostgreSQL raises on overflow, SQLite stores it.
    before = row_counts()

    response = post(as_pharmacist, create_url(patient), baseline_body(gb_d2_area_cm2=1_000_000))

    assert response.status_code == 422
    assert "gb_d2_area_cm2" in fields_named(response)
    assert row_counts() == before


@pytest.mark.parametrize(("area", "points"), [(4.99, 6), ("4.99", 6), (20.01, 18), ("20.01", 18)])
def test_the_raised_scar_area_is_scored_as_entered(as_pharmacist, patient, area, points):
    body = baseline_body(gb_counts={}, gb_d2_area_cm2=area)

    response = post(as_pharmacist, create_url(patient), body)

    assert response.status_code == 201, response.content
    assert response.json()["scores"]["gb_quantitative"] == points
    assert ScarAssessment.objects.get().gb_d2_area_cm2 == Decimal(str(area))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"gb_d2_area_cm2": "4.999"}, "gb_d2_area_cm2"),
        (
            {"sites": [{"site": "cheeks", "cause": "acne", "scar_age_years": 4.25}]},
            "sites.0.scar_age_years",
        ),
    ],
    ids=["area-in-thousandths", "age-in-hundredths"],
)
def test_a_finer_value_than_is_kept_is_refused_not_rounded(as_pharmacist, patient, change, field):
    response = post(as_pharmacist, create_url(patient), baseline_body(**change))

    assert response.status_code == 422
    assert fields_named(response) == [field]
    assert not ScarAssessment.objects.exists()


def test_nul_character_in_notes_is_refused(as_pharmacist, patient):
    # PostgreSQL cannot store NUL in text: unrefused, this is a 500 on the production database.
    before = row_counts()

    response = post(as_pharmacist, create_url(patient), baseline_body(notes="left\x00cheek"))

    assert response.status_code == 422
    assert "notes" in fields_named(response)
    assert row_counts() == before


@pytest.mark.parametrize("body", ["{not json", '{"timepoint": "baseline",'])
def test_malformed_json_gets_the_one_error_shape(as_pharmacist, patient, body):
    before = row_counts()

    response = post(as_pharmacist, create_url(patient), body)

    assert response.status_code in (400, 422)
    assert response.json()["errors"][0]["message"]
    assert row_counts() == before


def test_missing_required_fields_are_each_named(as_pharmacist, patient):
    response = post(as_pharmacist, create_url(patient), {"bother": 3})

    assert response.status_code == 422
    assert set(fields_named(response)) == {"assessed_on", "timepoint", "classification", "sites"}


# --- No input reaches a 500 ----------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.dates(min_value=date(1900, 1, 1)).map(date.isoformat),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
ASSESSMENT_FIELDS = [
    *baseline_body(),
    "gb_no_scarring",
    "gb_d2_area_cm2",
    "global_impression",
    "notes",
]
site_values = st.dictionaries(
    st.sampled_from([*SURGICAL_SITE, "notes"]), json_values, max_size=3
).map(lambda changes: SURGICAL_SITE | changes)
payloads = st.one_of(
    st.dictionaries(st.sampled_from(ASSESSMENT_FIELDS), json_values, max_size=4).map(
        lambda changes: follow_up_body(timepoint="other") | changes
    ),
    st.lists(site_values, min_size=1, max_size=2).map(lambda sites: follow_up_body(sites=sites)),
    json_values,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=payloads)
def test_no_assessment_payload_reaches_a_500(pharmacist, patient, body):
    client = client_for(pharmacist)
    client.raise_request_exception = False

    response = client.post(create_url(patient), json.dumps(body), content_type="application/json")

    assert response.status_code < 500, response.content[:500]
    assert response.status_code == 201 or "errors" in response.json()
