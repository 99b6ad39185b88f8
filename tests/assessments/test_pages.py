"""The assessment pages of the staff console: record and sign, see the computed scores,
amend with a reason, and bad input shown beside its field with nothing saved."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.html import escape

from scarrx.assessments.models import AssessmentSite, ScarAssessment
from scarrx.assessments.services import record_assessment
from scarrx.audit.models import ChangeRecord
from tests.conftest import BASELINE, client_for

SITE_MANAGEMENT = {
    "sites-TOTAL_FORMS": "3",
    "sites-INITIAL_FORMS": "0",
    "sites-MIN_NUM_FORMS": "0",
    "sites-MAX_NUM_FORMS": "11",
}


def assessment_form(**overrides) -> dict:
    """The worked examples of clinical.md §2, as an assessor would type them."""
    data = {
        "assessed_on": "2026-01-10",
        "timepoint": "baseline",
        "classification": "mixed",
        "morphology": ["boxcar", "rolling"],
        "gb_qualitative": "3",
        "gb_A1": "8",
        "gb_A2": "15",
        "gb_B2": "5",
        "ecca_V": "12",
        "ecca_U": "3",
        "scar_s_face": "3",
        "bother": "7",
        **SITE_MANAGEMENT,
        "sites-0-site": "cheeks",
        "sites-0-cause": "acne",
        "sites-0-scar_age_years": "4",
        "sites-1-site": "chest",
        "sites-1-cause": "surgery",
        "sites-1-vss_pigmentation": "2",
        "sites-1-vss_vascularity": "2",
        "sites-1-vss_pliability": "3",
        "sites-1-vss_height": "2",
    }
    return data | overrides


def new_url(patient) -> str:
    return f"/patients/{patient.public_id}/assessments/new/"


def row_counts() -> dict[str, int]:
    return {
        "assessments": ScarAssessment.objects.count(),
        "sites": AssessmentSite.objects.count(),
        "changes": ChangeRecord.objects.count(),
    }


def errors_by_field(response) -> dict[str, list[str]]:
    """Every error on the page: form fields, site-row fields, and the sites as a whole."""
    context = response.context
    found = dict(context["form"].errors)
    for i, row in enumerate(context["formset"].forms):
        found |= {f"sites-{i}-{name}": errs for name, errs in row.errors.items()}
    if context["formset"].non_form_errors():
        found["sites"] = context["formset"].non_form_errors()
    return found


# --- Record and sign ----------------------------------------------------------------------


def test_new_assessment_form_starts_at_baseline_dated_today(as_pharmacist, patient):
    response = as_pharmacist.get(new_url(patient))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == {"assessed_on": timezone.localdate(), "timepoint": "baseline"}


def test_new_assessment_form_suggests_week_4_once_there_is_a_baseline(as_pharmacist, baseline):
    response = as_pharmacist.get(new_url(baseline.patient))

    assert response.context["form"].initial["timepoint"] == "week_4"


def test_new_assessment_form_suggests_the_visit_after_the_latest_one_recorded(
    as_pharmacist, pharmacist, baseline
):
    record_assessment(
        patient=baseline.patient,
        actor=pharmacist,
        **BASELINE | {"timepoint": "week_12", "global_impression": 3},
    )

    response = as_pharmacist.get(new_url(baseline.patient))

    assert response.context["form"].initial["timepoint"] == "week_26"


@pytest.mark.parametrize(("area", "points"), [("4.99", 6), ("5", 12), ("20", 12), ("20.01", 18)])
def test_the_raised_scar_area_is_scored_as_entered_on_the_page(
    as_pharmacist, patient, area, points
):
    response = as_pharmacist.post(new_url(patient), assessment_form(gb_d2_area_cm2=area))

    assert response.status_code == 302, errors_by_field(response)
    assessment = ScarAssessment.objects.get()
    assert assessment.gb_d2_area_cm2 == Decimal(area)
    assert assessment.gb_quantitative == 5 + points  # the counts alone score 5 (§2.2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"gb_d2_area_cm2": "4.999"}, "gb_d2_area_cm2"),
        ({"sites-0-scar_age_years": "4.25"}, "sites-0-scar_age_years"),
    ],
    ids=["area-in-thousandths", "age-in-hundredths"],
)
def test_a_finer_value_than_is_kept_is_refused_not_rounded(as_pharmacist, patient, change, field):
    response = as_pharmacist.post(new_url(patient), assessment_form(**change))

    assert response.status_code == 422
    assert "decimal place" in " ".join(errors_by_field(response)[field])
    assert not ScarAssessment.objects.exists()


def test_pharmacist_records_a_baseline_and_sees_the_computed_scores(as_pharmacist, patient):
    response = as_pharmacist.post(new_url(patient), assessment_form(), follow=True)

    a = ScarAssessment.objects.get(patient=patient)
    assert response.redirect_chain == [(f"/assessments/{a.public_id}/", 302)]
    assert (a.gb_quantitative, a.ecca, a.scar_s) == (5, 50, {"face": 3})
    assert [(s.site, s.vss_total) for s in a.sites.all()] == [("cheeks", None), ("chest", 9)]
    page = response.content.decode()
    assert 'data-score="gb_quantitative">5<' in page
    assert 'data-score="ecca">50<' in page
    assert "<strong>9</strong>/13" in page
    assert "Assessment signed." in page


def test_patient_page_shows_the_assessment_scores_and_the_timeline(as_pharmacist, patient):
    as_pharmacist.post(new_url(patient), assessment_form())

    response = as_pharmacist.get(f"/patients/{patient.public_id}/")

    assert [a.gb_quantitative for a in response.context["assessments"]] == [5]
    timeline = response.context["timeline"]
    assert sorted(e.kind for e in timeline) == ["assessment", "registration"]
    assert [e.on for e in timeline] == sorted((e.on for e in timeline), reverse=True)
    [event] = [e for e in timeline if e.kind == "assessment"]
    assert event.on == response.context["assessments"][0].assessed_on
    assert event.summary.startswith("Baseline assessment: Goodman & Baron 3 (moderate)")
    assert "quantitative 5" in event.summary
    assert event.summary in response.content.decode().replace("&amp;", "&")


def test_prescriber_records_an_assessment_for_their_patient(prescriber, patient):
    response = client_for(prescriber).post(new_url(patient), assessment_form())

    assert response.status_code == 302
    assert ScarAssessment.objects.get().assessor == prescriber


def test_blank_site_rows_are_ignored(as_pharmacist, patient):
    as_pharmacist.post(
        new_url(patient),
        assessment_form(**{f"sites-1-{k}": "" for k in ("site", "cause")})
        | {f"sites-1-vss_{k}": "" for k in ("pigmentation", "vascularity", "pliability", "height")},
    )

    assert [s.site for s in ScarAssessment.objects.get().sites.all()] == ["cheeks"]


def test_decision_aid_suggests_a_goodman_baron_grade(as_pharmacist):
    answers = {
        "aid-any_scarring": "on",
        "aid-contour_change": "on",
        "aid-visible_at_50cm": "on",
        "aid-flattens_on_stretch": "on",
    }

    response = as_pharmacist.post("/assessments/gb-suggest/", answers)

    assert response.status_code == 200
    assert "Suggested: grade 3 (moderate). You choose." in response.content.decode()


def test_decision_aid_suggests_nothing_from_contradictory_answers(as_pharmacist):
    answers = {"aid-any_scarring": "on", "aid-contour_change": "on", "aid-severe_raised": "on"}

    response = as_pharmacist.post("/assessments/gb-suggest/", answers)

    page = response.content.decode()
    assert "Suggested" not in page
    assert "they are obvious at 50 cm" in page


# --- Bad input on the page ----------------------------------------------------------------

tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

BAD_FORMS = [
    pytest.param({"gb_B1": "-1"}, "gb_B1", id="negative-count"),
    pytest.param({"gb_B1": "2.5"}, "gb_B1", id="fractional-count"),
    pytest.param({"gb_B1": "many"}, "gb_B1", id="count-not-a-number"),
    pytest.param({"ecca_V": "-3"}, "ecca_V", id="ecca-negative"),
    pytest.param({"ecca_elastolysis": "4"}, "ecca_elastolysis", id="elastolysis-grade-4"),
    pytest.param({"gb_d2_area_cm2": "-1"}, "gb_d2_area_cm2", id="negative-area"),
    # The column holds at most 99999.9 cm²: PostgreSQL raises on overflow, SQLite stores it.
    pytest.param({"gb_d2_area_cm2": "1000000"}, "gb_d2_area_cm2", id="area-beyond-the-column"),
    pytest.param({"gb_qualitative": "5"}, "gb_qualitative", id="gb-grade-5"),
    pytest.param({"scar_s_face": "6"}, "scar_s_face", id="scar-s-6"),
    pytest.param({"bother": "11"}, "bother", id="bother-11"),
    pytest.param({"assessed_on": tomorrow}, "assessed_on", id="dated-in-the-future"),
    pytest.param({"assessed_on": "1999-12-31"}, "assessed_on", id="dated-before-birth"),
    pytest.param({"assessed_on": ""}, "assessed_on", id="no-date"),
    pytest.param({"timepoint": "week_3"}, "timepoint", id="unknown-timepoint"),
    pytest.param({"morphology": ["wavy"]}, "morphology", id="unknown-morphology"),
    pytest.param({"global_impression": "2"}, "global_impression", id="impression-at-baseline"),
    pytest.param(
        {"gb_no_scarring": "on", "gb_qualitative": "2"},
        "gb_qualitative",
        id="no-scarring-and-grade",
    ),
    pytest.param({"sites-0-site": "elbow"}, "sites-0-site", id="unknown-site"),
    pytest.param({"sites-0-cause": "sunburn"}, "sites-0-cause", id="unknown-cause"),
    pytest.param({"sites-0-cause": ""}, "sites-0-cause", id="site-without-cause"),
    pytest.param({"sites-0-scar_age_years": "-2"}, "sites-0-scar_age_years", id="negative-age"),
    pytest.param({"sites-1-vss_height": ""}, "sites-1-vss_height", id="vss-partly-filled"),
    pytest.param({"sites-1-vss_pliability": "6"}, "sites-1-vss_pliability", id="vss-out-of-range"),
    pytest.param(
        {"sites-0-site": "", "sites-0-cause": "", "sites-0-scar_age_years": "", "sites-1-site": ""},
        "sites-1-site",
        id="vss-row-without-site",
    ),
]


@pytest.mark.parametrize(("change", "field"), BAD_FORMS)
def test_bad_assessment_form_shows_the_error_beside_the_field_and_saves_nothing(
    as_pharmacist, patient, change, field
):
    before = row_counts()

    response = as_pharmacist.post(new_url(patient), assessment_form(**change))

    assert response.status_code == 422
    errors = errors_by_field(response)
    assert field in errors
    page = response.content.decode()
    assert all(escape(message) in page for message in errors[field])  # shown, not only kept
    assert row_counts() == before


def test_assessment_with_no_sites_says_so(as_pharmacist, patient):
    blank_rows = {
        f"sites-{i}-{k}": ""
        for i in (0, 1)
        for k in ("site", "cause", "scar_age_years", "vss_pigmentation", "vss_vascularity")
        + ("vss_pliability", "vss_height")
    }
    before = row_counts()

    response = as_pharmacist.post(new_url(patient), assessment_form(**blank_rows))

    assert response.status_code == 422
    assert "Record at least one scarred site." in response.content.decode()
    assert row_counts() == before


def test_a_second_baseline_is_refused_on_the_page(as_pharmacist, baseline):
    before = row_counts()

    response = as_pharmacist.post(new_url(baseline.patient), assessment_form())

    assert response.status_code == 422
    assert response.context["form"].errors["timepoint"] == [
        "This patient already has a baseline assessment; amend it instead."
    ]
    assert row_counts() == before


def test_partly_filled_vancouver_row_names_the_missing_item(as_pharmacist, patient):
    response = as_pharmacist.post(new_url(patient), assessment_form(**{"sites-1-vss_height": ""}))

    assert response.context["formset"].forms[1].errors["vss_height"] == [
        "Score all four Vancouver items, or none."
    ]


def test_a_follow_up_with_impression_of_change_is_accepted(as_pharmacist, baseline):
    response = as_pharmacist.post(
        new_url(baseline.patient),
        assessment_form(timepoint="week_4", assessed_on="2026-02-07", global_impression="2"),
    )

    assert response.status_code == 302
    assert ScarAssessment.objects.get(timepoint="week_4").global_impression == 2


# --- Detail and amend ---------------------------------------------------------------------


def test_amend_page_starts_from_the_signed_inputs(as_pharmacist, baseline):
    response = as_pharmacist.get(f"/assessments/{baseline.public_id}/amend/")

    assert response.status_code == 200
    initial = response.context["form"].initial
    assert (initial["gb_A1"], initial["gb_A2"], initial["gb_B2"]) == (8, 15, 5)
    assert (initial["ecca_V"], initial["ecca_U"], initial["scar_s_face"]) == (12, 3, 3)
    assert response.context["formset"].initial[0]["site"] == "cheeks"


def test_amending_on_the_page_makes_a_new_version(as_pharmacist, pharmacist, baseline):
    response = as_pharmacist.post(
        f"/assessments/{baseline.public_id}/amend/",
        assessment_form(bother="5", reason="Patient re-rated bother."),
        follow=True,
    )

    amended = ScarAssessment.objects.get(is_current=True)
    baseline.refresh_from_db()
    assert response.redirect_chain == [(f"/assessments/{amended.public_id}/", 302)]
    assert (baseline.is_current, amended.amends, amended.bother) == (False, baseline, 5)
    assert amended.amendment_reason == "Patient re-rated bother."
    assert response.context["history"] == [baseline]
    change = ChangeRecord.objects.get(action="assessment.amended")
    assert (change.actor, change.reason) == (pharmacist, "Patient re-rated bother.")


def test_amending_on_the_page_needs_a_reason(as_pharmacist, baseline):
    before = row_counts()

    response = as_pharmacist.post(
        f"/assessments/{baseline.public_id}/amend/", assessment_form(reason="  ")
    )

    assert response.status_code == 422
    assert "Say why the signed assessment is being amended." in response.content.decode()
    assert row_counts() == before
    baseline.refresh_from_db()
    assert baseline.is_current is True


def test_superseded_version_says_so_and_cannot_be_amended_again(as_pharmacist, baseline):
    as_pharmacist.post(
        f"/assessments/{baseline.public_id}/amend/", assessment_form(reason="recount")
    )

    detail = as_pharmacist.get(f"/assessments/{baseline.public_id}/")
    again = as_pharmacist.get(f"/assessments/{baseline.public_id}/amend/")
    again_post = as_pharmacist.post(
        f"/assessments/{baseline.public_id}/amend/", assessment_form(reason="again")
    )

    assert detail.status_code == 200
    assert "This version was superseded" in detail.content.decode()
    assert detail.context["newer"] == ScarAssessment.objects.get(is_current=True)
    assert (again.status_code, again_post.status_code) == (404, 404)
    assert ScarAssessment.objects.count() == 2


def test_patient_page_lists_only_the_current_version(as_pharmacist, baseline):
    as_pharmacist.post(
        f"/assessments/{baseline.public_id}/amend/", assessment_form(bother="2", reason="fix")
    )

    response = as_pharmacist.get(f"/patients/{baseline.patient.public_id}/")

    assert [a.bother for a in response.context["assessments"]] == [2]


# --- Any number of sites ------------------------------------------------------------------

FACE = ["forehead", "temples", "cheeks", "nose", "chin", "jawline"]


def with_sites(sites: list[dict], *, extra: int = 0) -> dict:
    """The form with these site rows (and `extra` blank ones), as the page posts them."""
    data = {k: v for k, v in assessment_form().items() if not k.startswith("sites-")}
    data |= {"sites-TOTAL_FORMS": str(len(sites) + extra), "sites-INITIAL_FORMS": "0"}
    for i, site in enumerate(sites):
        data |= {f"sites-{i}-{name}": value for name, value in site.items()}
    return data


def test_pharmacist_records_six_face_sites_on_the_page(as_pharmacist, patient):
    sites = [{"site": s, "cause": "acne", "scar_age_years": "6"} for s in FACE]

    response = as_pharmacist.post(new_url(patient), with_sites(sites, extra=1))

    assert response.status_code == 302, errors_by_field(response)
    assessment = ScarAssessment.objects.get()
    assert [s.site for s in assessment.sites.all()] == FACE


def test_add_a_site_shows_the_form_again_with_one_more_row_and_saves_nothing(
    as_pharmacist, patient
):
    sites = [{"site": s, "cause": "acne"} for s in FACE[:3]]

    response = as_pharmacist.post(new_url(patient), with_sites(sites) | {"add_site": "1"})

    assert response.status_code == 200
    formset = response.context["formset"]
    assert len(formset.forms) == 4
    assert [f.initial.get("site") for f in formset.forms] == [*FACE[:3], None]
    assert not response.context["form"].is_bound  # shown again, not judged
    assert response.context["form"].initial["gb_A1"] == "8"
    assert not ScarAssessment.objects.exists()


def test_a_site_marked_removed_is_not_recorded(as_pharmacist, patient):
    sites = [{"site": s, "cause": "acne"} for s in FACE[:3]]
    data = with_sites(sites) | {"sites-1-DELETE": "on"}

    response = as_pharmacist.post(new_url(patient), data)

    assert response.status_code == 302, errors_by_field(response)
    assert [s.site for s in ScarAssessment.objects.get().sites.all()] == ["forehead", "cheeks"]


def test_the_page_refuses_more_sites_than_the_api(as_pharmacist, patient):
    sites = [{"site": "cheeks", "cause": "acne"}] * 31

    response = as_pharmacist.post(new_url(patient), with_sites(sites))

    assert response.status_code == 422
    assert "Sites: Record at most 30 sites." in response.content.decode()
    assert not ScarAssessment.objects.exists()


def test_amending_a_six_site_assessment_keeps_its_sites_or_removes_one(
    as_pharmacist, pharmacist, patient
):
    original = record_assessment(
        patient=patient,
        actor=pharmacist,
        **BASELINE | {"sites": [{"site": s, "cause": "acne", "scar_age_years": 6} for s in FACE]},
    )
    url = f"/assessments/{original.public_id}/amend/"
    shown = as_pharmacist.get(url).context["formset"]
    assert [f.initial.get("site") for f in shown.forms] == [*FACE, None]

    sites = [{"site": s, "cause": "acne", "scar_age_years": "6.0"} for s in FACE]
    data = with_sites(sites, extra=1) | {"sites-INITIAL_FORMS": "6", "sites-5-DELETE": "on"}
    response = as_pharmacist.post(url, data | {"reason": "jawline was the neck"})

    assert response.status_code == 302, errors_by_field(response)
    amended = ScarAssessment.objects.get(is_current=True)
    assert [s.site for s in amended.sites.all()] == FACE[:5]


def test_the_score_breakdown_says_points_in_words_and_dates_in_one_style(as_pharmacist, baseline):
    page = as_pharmacist.get(f"/assessments/{baseline.public_id}/").content.decode()

    assert "<td>1 point</td>" in page and "<td>2 points</td>" in page  # A1 8 scars, B2 5
    assert " pts" not in page
    assert str(baseline) == "Baseline assessment of 10 Jan 2026"
