"""The assessment services: totals computed and stored from the raw inputs (clinical.md §2
worked examples), scale versions kept with each assessment, amendments as new versions,
and the patient's timeline."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from scarrx.assessments import scales
from scarrx.assessments.models import AssessmentSite, ScarAssessment
from scarrx.assessments.services import (
    amend_assessment,
    assessment_inputs,
    compute_scores,
    record_assessment,
)
from scarrx.audit.models import ChangeRecord
from scarrx.patients.services import record_consent, update_patient
from tests.conftest import BASELINE

SURGICAL_SITE = {
    "site": "chest",
    "cause": "surgery",
    "scar_age_years": Decimal("2.5"),
    "vss_pigmentation": 2,
    "vss_vascularity": 2,
    "vss_pliability": 3,
    "vss_height": 2,
}


def follow_up(**overrides) -> dict:
    return BASELINE | {"timepoint": "week_4", "global_impression": 3} | overrides


def rows() -> tuple[int, int, int]:
    return (
        ScarAssessment.objects.count(),
        AssessmentSite.objects.count(),
        ChangeRecord.objects.count(),
    )


def test_recording_computes_and_stores_every_total_from_the_raw_inputs(patient, pharmacist):
    a = record_assessment(
        patient=patient,
        actor=pharmacist,
        **BASELINE | {"sites": [*BASELINE["sites"], SURGICAL_SITE]},
    )

    a = ScarAssessment.objects.get(pk=a.pk)
    assert a.gb_counts == {"A1": 8, "A2": 15, "B2": 5}  # raw inputs, exactly as entered
    assert a.gb_quantitative == 5  # clinical.md §2.2: {A1: 8, A2: 15, B2: 5} → 5
    assert a.ecca_inputs == {"V": {"count": 12}, "U": {"count": 3}}
    assert a.ecca == 50  # clinical.md §2.3: V 12, U 3 → 50
    assert a.scar_s == {"face": 3}
    assert a.scar_s_sum is None  # only named when all three regions are graded
    assert [(s.site, s.vss_total) for s in a.sites.all()] == [("cheeks", None), ("chest", 9)]
    assert a.gb_qualitative_label == "3 (moderate)"
    assert (a.bother, a.assessor, a.is_current) == (7, pharmacist, True)
    assert a.signed_at is not None


@pytest.mark.parametrize(
    ("counts", "area", "expected"),
    [
        ({"C1": 25, "B1": 12, "D1": 3}, Decimal("3"), 21),
        ({"B3": 11, "C3": 10, "C4": 21}, Decimal("5"), 28),
    ],
)
def test_goodman_baron_worked_examples_with_raised_scar_area(
    patient, pharmacist, counts, area, expected
):
    a = record_assessment(
        patient=patient,
        actor=pharmacist,
        **BASELINE | {"gb_counts": counts, "gb_d2_area_cm2": area},
    )

    assert a.gb_quantitative == expected
    assert a.gb_d2_area_cm2 == area


def test_ecca_takes_the_elastolysis_grade_directly(patient, pharmacist):
    a = record_assessment(
        patient=patient,
        actor=pharmacist,
        **BASELINE | {"ecca_inputs": {"V": {"count": 25}, "elastolysis": {"grade": 2}}},
    )

    assert a.ecca == 15 * 3 + 30 * 2


def test_scar_s_sum_is_given_when_every_region_is_graded(patient, pharmacist):
    a = record_assessment(
        patient=patient,
        actor=pharmacist,
        **BASELINE | {"scar_s": {"face": 3, "chest": 1, "back": 2}},
    )

    assert a.scar_s_sum == 6


def test_no_counts_means_no_quantitative_score_rather_than_zero(patient, pharmacist):
    a = record_assessment(
        patient=patient, actor=pharmacist, **BASELINE | {"gb_counts": {}, "ecca_inputs": {}}
    )

    assert (a.gb_quantitative, a.ecca) == (None, None)


def test_scale_versions_are_stored_with_the_assessment(baseline):
    stored = ScarAssessment.objects.get(pk=baseline.pk).scale_versions

    assert stored == {
        "gb_qualitative": scales.GB_QUALITATIVE_VERSION,
        "gb_quantitative": scales.GB_QUANTITATIVE_VERSION,
        "ecca": scales.ECCA_VERSION,
        "scar_s": scales.SCAR_S_VERSION,
        "vancouver": scales.VSS_VERSION,
    }


def test_stored_totals_are_what_the_raw_inputs_recompute_to(baseline, patient):
    recomputed = compute_scores({**assessment_inputs(baseline), "patient": patient})

    assert recomputed["gb_quantitative"] == baseline.gb_quantitative
    assert recomputed["ecca"] == baseline.ecca
    assert recomputed["scale_versions"] == baseline.scale_versions


def test_signing_writes_a_change_record_with_the_actor_and_scores(baseline, pharmacist):
    change = ChangeRecord.objects.get(action="assessment.signed")

    assert change.actor == pharmacist
    assert change.patient == baseline.patient
    assert change.object_id == str(baseline.public_id)
    assert change.data["gb_quantitative"] == 5
    assert change.data["ecca"] == 50


# --- Refusals ------------------------------------------------------------------------------


def test_a_second_baseline_is_refused(baseline, patient, pharmacist):
    before = rows()

    with pytest.raises(ValidationError) as caught:
        record_assessment(patient=patient, actor=pharmacist, **BASELINE)

    assert "timepoint" in caught.value.message_dict
    assert rows() == before


def test_follow_ups_may_repeat_and_carry_the_impression_of_change(baseline, patient, pharmacist):
    week_4 = record_assessment(patient=patient, actor=pharmacist, **follow_up())
    other = record_assessment(patient=patient, actor=pharmacist, **follow_up(timepoint="other"))

    assert (week_4.global_impression, week_4.global_impression_label) == (3, "a little better")
    assert other.is_current and baseline.is_current


def test_impression_of_change_is_refused_at_baseline(patient, pharmacist):
    before = rows()

    with pytest.raises(ValidationError) as caught:
        record_assessment(patient=patient, actor=pharmacist, **BASELINE | {"global_impression": 2})

    assert list(caught.value.message_dict) == ["global_impression"]
    assert rows() == before


def test_bad_inputs_are_all_reported_at_once_and_nothing_is_saved(patient, pharmacist):
    before = rows()
    bad = BASELINE | {
        "assessed_on": timezone.localdate() + timedelta(days=1),
        "gb_qualitative": 5,
        "gb_counts": {"B1": -1},
        "ecca_inputs": {"V": {"count": 2.5}},
        "scar_s": {"face": 6},
        "bother": 11,
        "sites": [{"site": "elbow", "cause": "sunburn", "vss_height": 1}],
    }

    with pytest.raises(ValidationError) as caught:
        record_assessment(patient=patient, actor=pharmacist, **bad)

    assert set(caught.value.message_dict) >= {
        "assessed_on",
        "gb_qualitative",
        "gb_counts.B1",
        "ecca_inputs.V.count",
        "scar_s.face",
        "bother",
        "sites.0.site",
        "sites.0.cause",
        "sites.0.vss_pigmentation",
    }
    assert rows() == before


def test_an_assessment_dated_before_birth_is_refused(patient, pharmacist):
    with pytest.raises(ValidationError) as caught:
        record_assessment(
            patient=patient, actor=pharmacist, **BASELINE | {"assessed_on": date(1999, 1, 1)}
        )

    assert caught.value.message_dict == {
        "assessed_on": ["An assessment cannot be dated before the patient's birth."]
    }


def test_unknown_fields_are_refused(patient, pharmacist):
    with pytest.raises(ValidationError) as caught:
        record_assessment(patient=patient, actor=pharmacist, **BASELINE | {"gb_total": 99})

    assert "gb_total" in caught.value.message_dict


@pytest.mark.parametrize("who", ["technician", "other_prescriber", "outsider"])
def test_only_pharmacists_and_the_patients_prescriber_record_assessments(request, patient, who):
    actor = request.getfixturevalue(who)

    with pytest.raises(PermissionDenied):
        record_assessment(patient=patient, actor=actor, **BASELINE)

    assert not ScarAssessment.objects.exists()


def test_the_patients_prescriber_records_an_assessment(patient, prescriber):
    a = record_assessment(patient=patient, actor=prescriber, **BASELINE)

    assert a.assessor == prescriber


# --- Amending ------------------------------------------------------------------------------


def test_amending_creates_a_new_version_and_keeps_the_original(baseline, prescriber):
    amended = amend_assessment(
        baseline,
        actor=prescriber,
        reason="  Recounted the boxcar scars.  ",
        **BASELINE | {"gb_counts": {"A1": 8, "A2": 15, "B2": 12}},
    )

    baseline.refresh_from_db()
    assert baseline.is_current is False
    assert baseline.gb_quantitative == 5  # the signed original is untouched
    assert amended.is_current is True
    assert amended.amends == baseline
    assert amended.amendment_reason == "Recounted the boxcar scars."
    assert amended.gb_quantitative == 1 + 2 + 2 * 2
    assert amended.timepoint == "baseline"  # the one baseline, amended, not a second one
    assert baseline.amended_by == amended


def test_amending_writes_a_change_record_with_actor_and_reason(baseline, prescriber):
    amended = amend_assessment(baseline, actor=prescriber, reason="Typo in bother", **BASELINE)

    change = ChangeRecord.objects.get(action="assessment.amended")
    assert change.actor == prescriber
    assert change.reason == "Typo in bother"
    assert change.object_id == str(amended.public_id)
    assert change.data["amends"] == str(baseline.public_id)


@pytest.mark.parametrize("reason", ["", "   "])
def test_amending_needs_a_reason(baseline, pharmacist, reason):
    before = rows()

    with pytest.raises(ValidationError) as caught:
        amend_assessment(baseline, actor=pharmacist, reason=reason, **BASELINE)

    assert list(caught.value.message_dict) == ["reason"]
    assert rows() == before
    baseline.refresh_from_db()
    assert baseline.is_current is True


def test_a_superseded_version_cannot_be_amended_again(baseline, pharmacist):
    amend_assessment(baseline, actor=pharmacist, reason="first fix", **BASELINE)
    before = rows()

    with pytest.raises(ValidationError) as caught:
        amend_assessment(baseline, actor=pharmacist, reason="second fix", **BASELINE)

    assert list(caught.value.message_dict) == ["assessment"]
    assert rows() == before


def test_the_amendment_itself_can_be_amended(baseline, pharmacist):
    first = amend_assessment(baseline, actor=pharmacist, reason="first fix", **BASELINE)
    second = amend_assessment(first, actor=pharmacist, reason="second fix", **BASELINE)

    current = ScarAssessment.objects.filter(patient=baseline.patient, is_current=True)
    assert list(current) == [second]
    assert second.amends == first


def test_a_bad_amendment_leaves_the_original_current(baseline, pharmacist):
    before = rows()

    with pytest.raises(ValidationError):
        amend_assessment(baseline, actor=pharmacist, reason="fix", **BASELINE | {"bother": 11})

    baseline.refresh_from_db()
    assert baseline.is_current is True
    assert rows() == before


@pytest.mark.parametrize("who", ["technician", "other_prescriber"])
def test_only_those_who_may_grade_may_amend(request, baseline, who):
    with pytest.raises(PermissionDenied):
        amend_assessment(baseline, actor=request.getfixturevalue(who), reason="x", **BASELINE)

    baseline.refresh_from_db()
    assert baseline.is_current is True


def test_assessment_inputs_round_trip_into_an_amendment(baseline, pharmacist):
    amended = amend_assessment(
        baseline, actor=pharmacist, reason="no change", **assessment_inputs(baseline)
    )

    assert assessment_inputs(amended) == assessment_inputs(baseline)
    assert (amended.gb_quantitative, amended.ecca) == (5, 50)


# --- The patient's timeline ----------------------------------------------------------------


def test_timeline_shows_what_happened_to_the_patient_newest_first(patient, pharmacist, prescriber):
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        record_consent(
            patient=patient,
            actor=pharmacist,
            kind="treatment",
            granted=True,
            given_on=date(2026, 1, 9),
        )
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False):
        a = record_assessment(patient=patient, actor=prescriber, **BASELINE)
    with time_machine.travel(timezone.now() + timedelta(minutes=3), tick=False):
        amend_assessment(a, actor=prescriber, reason="recount", **BASELINE)
    with time_machine.travel(timezone.now() + timedelta(minutes=4), tick=False):
        update_patient(patient, actor=pharmacist, phone="555-0100")

    timeline = [(c.action, c.actor.username) for c in patient.change_records.all()]

    assert timeline == [
        ("patient.updated", "phil"),
        ("assessment.amended", "drew"),
        ("assessment.signed", "drew"),
        ("consent.granted", "phil"),
        ("patient.registered", "phil"),
    ]
