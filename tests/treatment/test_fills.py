import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone
from pypdf import PdfReader

from scarrx.assessments.services import record_assessment
from scarrx.pharmacy import queries as pharmacy_queries
from scarrx.pharmacy import services as pharmacy
from scarrx.treatment import services
from scarrx.treatment.models import Fill
from scarrx.treatment.queries import fill_path
from tests.conftest import BASELINE
from tests.treatment.course import prescribe

D = Decimal


def dispense(rx, batch, actor, grams, on=None):
    return services.dispense_fill(rx, actor=actor, batch=batch, quantity_g=D(grams), filled_on=on)


@override_settings(REFILL_LEAD_DAYS=3)
def test_thirty_grams_to_face_and_neck_twice_daily_lasts_twelve_days(rx, batch, technician):
    fill = dispense(rx, batch, technician, 30)

    assert fill.number == 0 and fill.days_supply == 12
    assert fill.supply_starts_on == fill.filled_on
    assert fill.runs_out_on == fill.filled_on + timedelta(days=12)
    assert fill.refill_due_on == fill.filled_on + timedelta(days=9)  # 3 days' lead
    rx.refresh_from_db()
    assert rx.next_refill_due == fill.refill_due_on


def test_an_early_refill_carries_its_overlap_forward(rx, batch, technician, clock):
    first = dispense(rx, batch, technician, 30)
    clock.shift(timedelta(days=8))
    refill = dispense(rx, batch, technician, 30)

    assert refill.number == 1
    assert refill.supply_starts_on == first.filled_on + timedelta(days=12)
    assert refill.runs_out_on == first.filled_on + timedelta(days=24)
    assert services.refills_left(rx) == 4


def test_refills_beyond_those_authorised_are_refused(
    patient, preparation, prescriber, batch, technician
):
    rx = prescribe(patient, preparation, prescriber, refills_authorised=1)
    dispense(rx, batch, technician, 10)
    dispense(rx, batch, technician, 10)
    with pytest.raises(ValidationError) as refused:
        dispense(rx, batch, technician, 10)
    assert "All 1 refills authorised are used" in refused.value.messages[0]
    assert Fill.objects.count() == 2


def test_a_quantity_that_outlasts_the_bud_is_refused_with_the_quantity_that_fits(
    rx, preparation, technician, pharmacist, approver, gel, clock
):
    from tests.pharmacy.conftest import finish_bench

    short = pharmacy.start_batch(actor=technician, preparation=preparation, dispensed_g=D(60))
    finish_bench(short, technician, pharmacist, gel["balance"])
    today = timezone.localdate()
    short = pharmacy.verify_batch(
        short, actor=approver, shorten_to=today + timedelta(days=5), reason="Short stability"
    )

    with pytest.raises(ValidationError) as refused:
        dispense(rx, short, technician, 30)
    message = refused.value.message_dict["quantity_g"][0]
    assert "past the BUD" in message and "at most 15.000 g" in message
    assert not Fill.objects.exists()
    assert dispense(rx, short, technician, 15).days_supply == 6


@pytest.mark.parametrize("state", ["quarantined", "recalled", "unreleased"])
def test_a_fill_from_a_batch_not_released_is_refused(
    rx, batch, preparation, technician, pharmacist, state
):
    if state == "quarantined":
        pharmacy.quarantine_batch(batch, actor=technician, reason="Odd smell")
    elif state == "recalled":
        pharmacy.recall(actor=pharmacist, reason="Supplier notice", batch=batch)
    else:
        batch = pharmacy.start_batch(actor=technician, preparation=preparation, dispensed_g=D(30))
    with pytest.raises(ValidationError) as refused:
        dispense(rx, batch, technician, 30)
    assert refused.value.message_dict["batch"][0].startswith("Batch")
    assert not Fill.objects.exists()


def test_a_fill_with_several_problems_hears_them_all_at_once(rx, batch, technician, pharmacist):
    services.change_status(rx, actor=pharmacist, status="on_hold", reason="Irritation")
    pharmacy.quarantine_batch(batch, actor=technician, reason="Odd smell")
    with pytest.raises(ValidationError) as refused:
        services.dispense_fill(
            rx,
            actor=technician,
            batch=batch,
            quantity_g="-5",
            filled_on=timezone.localdate() + timedelta(days=3),
        )
    found = refused.value.message_dict
    assert set(found) == {"__all__", "batch", "quantity_g", "filled_on"}
    assert "on hold" in found["__all__"][0]
    assert not Fill.objects.exists()


def test_a_fill_cannot_take_more_than_the_batch_has_left(rx, make_batch, technician):
    small = make_batch(grams=D(30))
    dispense(rx, small, technician, 20)
    with pytest.raises(ValidationError) as refused:
        dispense(rx, small, technician, 20)
    assert "10.000 g left" in refused.value.message_dict["quantity_g"][0]


def test_a_fill_on_hold_is_refused(rx, batch, technician, pharmacist):
    services.change_status(rx, actor=pharmacist, status="on_hold", reason="Irritation")
    with pytest.raises(ValidationError) as refused:
        dispense(rx, batch, technician, 30)
    assert "on hold" in refused.value.messages[0]


@pytest.mark.parametrize("grams", ["0", "-5", "abc", None])
def test_a_bad_quantity_is_refused_naming_it(rx, batch, technician, grams):
    with pytest.raises(ValidationError) as refused:
        services.dispense_fill(rx, actor=technician, batch=batch, quantity_g=grams)
    assert "quantity_g" in refused.value.message_dict


def test_a_reassessment_is_required_before_a_refill_when_the_prescription_says_so(
    patient, preparation, prescriber, batch, technician, pharmacist, clock
):
    rx = prescribe(patient, preparation, prescriber, reassessment_before_refill=True)
    dispense(rx, batch, technician, 60)
    clock.shift(timedelta(weeks=4, days=1))
    with pytest.raises(ValidationError) as refused:
        dispense(rx, batch, technician, 30)
    assert "week 4 follow-up" in refused.value.messages[0]

    today = timezone.localdate()
    record_assessment(
        patient=patient, actor=pharmacist, **{**BASELINE, "assessed_on": today - timedelta(days=60)}
    )
    record_assessment(
        patient=patient,
        actor=pharmacist,
        **{**BASELINE, "assessed_on": today, "timepoint": "week_4"},
    )
    assert dispense(rx, batch, technician, 30).number == 1


def test_a_pharmacist_other_than_the_dispenser_verifies_then_the_label_prints(
    rx, batch, technician, pharmacist, patient
):
    fill = dispense(rx, batch, technician, 30)
    with pytest.raises(ValidationError):
        services.fill_label(fill)
    with pytest.raises(ValidationError):
        services.verify_fill(dispense(rx, batch, pharmacist, 10), actor=pharmacist)

    fill = services.verify_fill(fill, actor=pharmacist)
    pdf = PdfReader(io.BytesIO(services.fill_label(fill)))
    text = " ".join(p.extract_text() for p in pdf.pages).lower()
    for expected in (
        "Compounded preparation",
        rx.rx_number,
        patient.full_name,
        "Drew Doctor",
        "Apply a thin layer",
        "quantity: 30",
        batch.lot_number,
    ):
        assert expected.lower() in text, expected


def test_a_recall_reaches_the_patient_through_their_fill(rx, batch, technician, patient):
    dispense(rx, batch, technician, 30)
    assert fill_path in pharmacy_queries.PATIENT_PATHS
    with override_settings():
        original = list(pharmacy_queries.PATIENT_PATHS)
        pharmacy_queries.PATIENT_PATHS[:] = [fill_path]  # the fills alone
        try:
            reach = pharmacy_queries.trace(batch=batch)
        finally:
            pharmacy_queries.PATIENT_PATHS[:] = original
    assert reach.patient_ids == [patient.pk]


def test_an_allergy_recorded_after_the_batch_was_released_blocks_the_fill_until_overridden(
    rx, batch, technician, pharmacist, approver, patient
):
    from scarrx.patients.services import update_patient

    update_patient(patient, actor=pharmacist, allergies="Pentoxifylline")
    with pytest.raises(ValidationError) as refused:
        dispense(rx, batch, technician, 30)
    assert "allergy to pentoxifylline" in refused.value.message_dict["__all__"][0]
    assert not Fill.objects.exists()
    for warning in pharmacy.open_warnings(rx.preparation):
        pharmacy.override_warning(warning, actor=approver, reason="Patch test was negative")
    assert dispense(rx, batch, technician, 30).number == 0


def test_a_fill_screens_the_record_as_it_is_now(rx, batch, technician, patient):
    type(patient).objects.filter(pk=patient.pk).update(allergies="pentoxifylline")
    with pytest.raises(ValidationError):
        dispense(rx, batch, technician, 30)
    warning = rx.preparation.warnings.get()
    assert (warning.code, warning.stage) == ("allergy", "dispensing")
