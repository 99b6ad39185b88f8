"""The safety screens run again when the facts they read change: the patient's record
(pregnancy status, allergies) or an ingredient's safety facts. A new warning blocks the
next batch, prescription or fill until a pharmacist overrides it with a reason."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from scarrx.audit.models import ChangeRecord
from scarrx.patients.services import update_patient
from scarrx.pharmacy import services
from scarrx.pharmacy.models import Batch, SafetyWarning


def message(caught, field) -> str:
    return " ".join(caught.value.message_dict[field])


@pytest.fixture
def tretinoin_prep(patient, pharmacist, formulary, mfr):
    update_patient(patient, actor=pharmacist, pregnancy_status="not_pregnant")
    return services.derive_preparation(
        actor=pharmacist,
        patient=patient,
        formulation=mfr,
        added={formulary["ingredients"]["tretinoin"]: D("0.05")},
    )


def test_a_patient_marked_pregnant_after_a_tretinoin_preparation_blocks_the_next_batch(
    tretinoin_prep, patient, pharmacist, technician
):
    assert not tretinoin_prep.warnings.exists()
    update_patient(patient, actor=technician, pregnancy_status="pregnant")

    warning = services.open_warnings(tretinoin_prep).get()
    assert (warning.code, warning.stage) == ("pregnancy", "record")
    assert "recorded as pregnant" in warning.message
    assert ChangeRecord.objects.filter(action="safety.warned", patient=patient).exists()
    with pytest.raises(ValidationError) as caught:
        services.start_batch(actor=technician, preparation=tretinoin_prep, dispensed_g=D(30))
    assert "override" in message(caught, "preparation")
    assert not Batch.objects.exists()

    services.override_warning(warning, actor=pharmacist, reason="Prescriber: stop at delivery")
    assert services.start_batch(actor=technician, preparation=tretinoin_prep, dispensed_g=D(30))


def test_an_allergy_reported_during_a_batch_stops_it_going_to_review(
    batch, patient, technician, pharmacist, formulary
):
    from tests.pharmacy.conftest import weigh_all

    weigh_all(batch, technician, formulary["balance"])
    update_patient(patient, actor=pharmacist, allergies="Pentoxifylline")
    assert any("Safety warnings" in p for p in services.bench_problems(batch))
    with pytest.raises(ValidationError):
        services.submit_batch(batch, actor=technician)


def test_an_override_of_an_unknown_pregnancy_does_not_stand_once_she_is_pregnant(
    patient, pharmacist, formulary, mfr
):
    prep = services.derive_preparation(
        actor=pharmacist,
        patient=patient,
        formulation=mfr,
        added={formulary["ingredients"]["tretinoin"]: D("0.05")},
    )
    asked = services.open_warnings(prep).get()
    assert "not recorded" in asked.message
    services.override_warning(asked, actor=pharmacist, reason="Asked: not pregnant")
    update_patient(patient, actor=pharmacist, pregnancy_status="pregnant")
    assert [w.code for w in services.open_warnings(prep)] == ["pregnancy"]


def test_a_change_the_screens_do_not_read_screens_nothing_again(
    tretinoin_prep, patient, pharmacist
):
    update_patient(patient, actor=pharmacist, phone="+1 212 555 0100")
    assert not SafetyWarning.objects.exists()


def test_compounding_screens_the_record_as_it_is_now_and_keeps_the_warning(
    preparation, patient, technician
):
    # changed without the patients service (as an import would): the start still sees it
    type(patient).objects.filter(pk=patient.pk).update(allergies="Pentoxifylline")
    with pytest.raises(ValidationError) as caught:
        services.start_batch(actor=technician, preparation=preparation, dispensed_g=D(30))
    assert "allergy to pentoxifylline" in message(caught, "preparation")
    warning = SafetyWarning.objects.get()
    assert (warning.code, warning.stage, warning.batch) == ("allergy", "compounding", None)
    assert not Batch.objects.exists()


def test_the_bench_page_shows_the_new_warning_that_refused_the_batch(
    tretinoin_prep, patient, pharmacist, technician
):
    from tests.conftest import client_for

    type(patient).objects.filter(pk=patient.pk).update(pregnancy_status="breastfeeding")
    response = client_for(technician).post(
        "/batches/new/",
        {"preparation": str(tretinoin_prep.public_id), "dispensed_g": "30", "wastage_percent": "0"},
    )
    assert response.status_code == 422
    assert "recorded as breastfeeding" in response.text and "override" in response.text
    assert not Batch.objects.exists()
    page = client_for(pharmacist).get(f"/preparations/{tretinoin_prep.public_id}/").text
    warning = SafetyWarning.objects.get()
    assert f"/warnings/{warning.public_id}/override/" in page


def test_an_assessment_with_a_recent_surgical_scar_screens_at_once(
    preparation, patient, pharmacist, technician
):
    """A scar from surgery under a year old, recorded in a new assessment, is a warning on
    the patient's preparation as soon as the assessment is signed, and blocks the batch."""
    from scarrx.assessments.services import record_assessment
    from tests.conftest import BASELINE

    assert not services.open_warnings(preparation).exists()
    sites = [{"site": "neck", "cause": "surgery", "scar_age_years": 0}]
    record_assessment(patient=patient, actor=pharmacist, **(BASELINE | {"sites": sites}))

    warning = services.open_warnings(preparation).get()
    assert (warning.code, warning.stage) == ("open_wound", "record")
    with pytest.raises(ValidationError) as caught:
        services.start_batch(actor=technician, preparation=preparation, dispensed_g=D(30))
    assert "override" in message(caught, "preparation")
