from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from scarrx.treatment import queries, services
from scarrx.treatment.models import Review, SideEffect
from tests.conftest import client_for
from tests.treatment.course import report


def test_a_patient_reports_irritation_in_the_portal_tied_to_the_fill_and_lot(
    rx, batch, technician, patient
):
    fill = services.dispense_fill(rx, actor=technician, batch=batch, quantity_g=Decimal(30))
    response = client_for(patient.user).post(
        "/api/v1/portal/side-effects",
        {
            "kind": "irritation",
            "severity": "mild",
            "onset_on": str(timezone.localdate()),
            "action": "reduce_frequency",
            "description": "Stings a little in the evening",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["lot_number"] == batch.lot_number
    effect = SideEffect.objects.get()
    assert effect.fill == fill and effect.batch == batch and effect.reported_by_patient


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "headache"}, "kind"),
        ({"severity": "awful"}, "severity"),
        ({"action": "scream"}, "action"),
        ({"onset_on": timezone.localdate() + timedelta(days=1)}, "onset_on"),
        ({"kind": "other", "description": ""}, "description"),
        ({"description": "Red " * 501}, "description"),  # 2,004 characters: at most 2,000
        ({"description": "Red\u202e patches"}, "description"),  # a bidi control
    ],
)
def test_bad_side_effect_reports_are_refused_naming_the_field(rx, patient, change, field):
    fields = {
        "kind": "redness",
        "severity": "mild",
        "onset_on": timezone.localdate(),
        "action": "continue",
    } | change
    with pytest.raises(ValidationError) as refused:
        services.report_side_effect(rx, actor=patient.user, via="portal", **fields)
    assert field in refused.value.message_dict
    assert not SideEffect.objects.exists()


def test_a_pharmacist_reviews_and_the_medwatch_export_has_its_fields(
    rx, batch, technician, patient, pharmacist
):
    services.dispense_fill(rx, actor=technician, batch=batch, quantity_g=Decimal(30))
    effect = report(
        rx, patient.user, kind="contact_dermatitis", severity="moderate", action="pause"
    )
    with pytest.raises(ValidationError) as refused:
        services.review_side_effect(effect, actor=pharmacist, assessment="x", outcome="resolved")
    assert "resolved_on" in refused.value.message_dict
    services.review_side_effect(
        effect,
        actor=pharmacist,
        assessment="Likely the base; paused, patch test planned",
        outcome="resolved",
        resolved_on=timezone.localdate(),
        serious=False,
    )
    with pytest.raises(ValidationError):
        services.review_side_effect(effect, actor=pharmacist, assessment="again", outcome="ongoing")

    medwatch = client_for(pharmacist).get(f"/api/v1/side-effects/{effect.public_id}/medwatch")
    form = medwatch.json()
    assert form["A_patient"] == {
        "identifier": "AE",
        "age_at_event_years": patient.age,
        "sex": "Female",
        "weight": None,
    }
    assert form["B_adverse_event"]["outcome"] == "Recovered, resolved"
    assert form["C_product"]["lot_number"] == batch.lot_number
    assert form["C_product"]["compounded"] is True
    assert form["C_product"]["dose_and_frequency"] == rx.directions
    assert queries.medwatch(effect)["C_product"]["expiration_date_bud"] == batch.bud


def test_only_a_pharmacist_reviews(rx, patient, technician):
    effect = services.report_side_effect(
        rx,
        actor=patient.user,
        via="portal",
        kind="dryness",
        severity="mild",
        onset_on=timezone.localdate(),
        action="continue",
    )
    response = client_for(technician).post(
        f"/api/v1/side-effects/{effect.public_id}/review",
        {"assessment": "ok", "outcome": "ongoing"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_a_report_with_several_problems_hears_them_all_at_once(rx, patient):
    with pytest.raises(ValidationError) as refused:
        report(
            rx,
            patient.user,
            kind="other",
            severity="awful",
            onset_on=timezone.localdate() + timedelta(days=2),
        )
    assert set(refused.value.message_dict) == {"severity", "onset_on", "description"}
    assert not SideEffect.objects.exists()


def test_a_review_with_several_problems_hears_them_all_at_once(rx, patient, pharmacist):
    effect = report(rx, patient.user)
    with pytest.raises(ValidationError) as refused:
        services.review_side_effect(
            effect, actor=pharmacist, assessment="  ", outcome="resolved", resolved_on=None
        )
    assert set(refused.value.message_dict) == {"assessment", "resolved_on"}
    assert not Review.objects.filter(side_effect=effect).exists()
