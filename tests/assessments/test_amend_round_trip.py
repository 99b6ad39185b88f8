"""Amending in the browser keeps every raw input that was not changed, whichever way it
was first entered (page or API, ECCA by count or by grade, site notes)."""

from __future__ import annotations

from datetime import date

from scarrx.assessments.models import ScarAssessment
from scarrx.assessments.services import assessment_inputs, record_assessment
from tests.conftest import BASELINE


def resubmit(response, **changes) -> dict:
    """What the browser posts back when the user changes only `changes`."""
    form, formset = response.context["form"], response.context["formset"]
    data: dict = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list):
            data[name] = value
        else:
            data[name] = "" if value is None else str(value)
    data |= {
        "sites-TOTAL_FORMS": str(len(formset.forms)),
        "sites-INITIAL_FORMS": "0",
        "sites-MIN_NUM_FORMS": "0",
        "sites-MAX_NUM_FORMS": "11",
    }
    for i, row in enumerate(formset.forms):
        for name in row.fields:
            value = row.initial.get(name)
            data[f"sites-{i}-{name}"] = "" if value is None else str(value)
    return data | changes


def amend_unchanged(client, assessment) -> ScarAssessment:
    url = f"/assessments/{assessment.public_id}/amend/"
    page = client.get(url)
    response = client.post(url, resubmit(page, notes="checked again", reason="Note added."))
    assert response.status_code == 302, response.content.decode()[:2000]
    return ScarAssessment.objects.get(amends=assessment)


def test_ecca_entered_as_grades_survives_an_amend_in_the_browser(
    as_pharmacist, patient, pharmacist
):
    grades = {"V": {"grade": 3}, "M": {"grade": 2}, "elastolysis": {"grade": 1}}
    original = record_assessment(
        patient=patient, actor=pharmacist, **(BASELINE | {"ecca_inputs": grades})
    )

    amended = amend_unchanged(as_pharmacist, original)

    assert amended.ecca_inputs == grades
    assert amended.ecca == original.ecca


def test_every_raw_input_survives_an_amend_that_only_adds_a_note(
    as_pharmacist, patient, pharmacist
):
    sites = [
        {"site": "cheeks", "cause": "acne", "scar_age_years": 4, "notes": "left cheek worst"},
        {"site": "chest", "cause": "surgery", "vss_pigmentation": 2, "vss_vascularity": 2,
         "vss_pliability": 3, "vss_height": 2, "notes": "sternotomy"},
    ]  # fmt: skip
    original = record_assessment(
        patient=patient,
        actor=pharmacist,
        **(BASELINE | {"sites": sites, "gb_d2_area_cm2": 3, "scar_s": {"face": 3, "chest": 2}}),
    )

    amended = amend_unchanged(as_pharmacist, original)

    before, after = assessment_inputs(original), assessment_inputs(amended)
    assert before.pop("notes") == "" and after.pop("notes") == "checked again"
    assert after == before
    assert [s.notes for s in amended.sites.all()] == ["left cheek worst", "sternotomy"]


def test_site_notes_longer_than_300_characters_are_refused_not_cut(as_pharmacist, patient):
    body = {
        **{k: str(v) for k, v in BASELINE.items() if k in ("assessed_on", "timepoint")},
        "classification": "atrophic",
        "sites": [{"site": "cheeks", "cause": "acne", "notes": "x" * 301}],
    }
    response = as_pharmacist.post(
        f"/api/v1/patients/{patient.public_id}/assessments", body, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sites.0.notes"


def test_a_lesion_count_beyond_any_face_is_refused(as_pharmacist, patient):
    body = {"assessed_on": str(date(2026, 1, 10)), "timepoint": "baseline",
            "classification": "atrophic", "sites": [{"site": "cheeks", "cause": "acne"}],
            "gb_counts": {"A1": 10**6}}  # fmt: skip
    response = as_pharmacist.post(
        f"/api/v1/patients/{patient.public_id}/assessments", body, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "gb_counts.A1"
    assert not ScarAssessment.objects.exists()


def test_no_scarring_needs_no_scarred_site(as_pharmacist, patient, pharmacist):
    assessment = record_assessment(
        patient=patient, actor=pharmacist, assessed_on=date(2026, 1, 10), timepoint="baseline",
        classification="macular", sites=[], gb_no_scarring=True,
    )  # fmt: skip
    assert assessment.gb_qualitative_label == "No scarring"
