"""The bench: targets from the calculation engine, weighings from a lot on a calibrated
balance, the checklist, QC, the two-person rule and the beyond-use date."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from scarrx.audit.models import ChangeRecord
from scarrx.pharmacy import services
from scarrx.pharmacy.models import Batch, BatchStatus, IngredientLot, SafetyWarning, Weighing
from tests.pharmacy.conftest import finish_bench, weigh_all


def message(caught, field="__all__") -> str:
    return " ".join(caught.value.message_dict[field])


def test_targets_are_the_worked_example_of_clinical_md(
    patient, pharmacist, technician, formulary, mfr
):
    i = formulary["ingredients"]
    tranexamic = services.add_ingredient(actor=pharmacist, name="Tranexamic acid", role="active")
    prep = services.derive_preparation(
        actor=pharmacist, patient=patient, formulation=mfr, added={tranexamic: D(3)}
    )
    batch = services.start_batch(actor=technician, preparation=prep, dispensed_g=D(30))
    shown = {c.ingredient.name: c.shown_g for c in batch.components.all()}
    assert shown == {
        "Pentoxifylline": D("0.300"),
        "Tranexamic acid": D("0.900"),
        i["silicone"].name: D("28.800"),
    }
    assert "0.900 g = 3 % × 30.000 g" in batch.calculation
    assert "tranexamic acid 3 % added".lower() in prep.differences.lower()


def test_a_batch_of_zero_or_negative_grams_is_refused(preparation, technician):
    for grams in (D(0), D(-5)):
        with pytest.raises(ValidationError) as caught:
            services.start_batch(actor=technician, preparation=preparation, dispensed_g=grams)
        assert "more than 0" in message(caught, "dispensed_g")
    assert not Batch.objects.exists()


def test_a_weighing_within_tolerance_decrements_the_lot(batch, technician, formulary):
    component = batch.components.get(ingredient=formulary["ingredients"]["ptx"])
    lot = formulary["lots"]["ptx"]
    w = services.record_weighing(
        batch,
        actor=technician,
        component=component,
        balance=formulary["balance"],
        actual_g=D("0.310"),
        lot=lot,
    )
    assert w.within_tolerance and w.balance_minimum_g == D("0.020")
    lot.refresh_from_db()
    assert lot.on_hand_g == D("499.690")


def test_a_weighing_outside_tolerance_is_flagged_and_needs_a_deviation(
    batch, technician, pharmacist, formulary
):
    component = batch.components.get(ingredient=formulary["ingredients"]["ptx"])
    w = services.record_weighing(
        batch,
        actor=technician,
        component=component,
        balance=formulary["balance"],
        actual_g=D("0.400"),
        lot=formulary["lots"]["ptx"],
    )
    assert not w.within_tolerance
    assert any("outside tolerance" in p for p in services.bench_problems(batch))
    services.record_deviation(batch, actor=technician, text="Over-weighed; kept, strength 1.3 %")
    assert not any("outside tolerance" in p for p in services.bench_problems(batch))


def test_an_actual_weight_missing_is_refused(batch, technician, formulary):
    with pytest.raises(ValidationError) as caught:
        services.record_weighing(
            batch,
            actor=technician,
            component=batch.components.first(),
            balance=formulary["balance"],
            actual_g=None,
            lot=formulary["lots"]["ptx"],
        )
    assert "grams" in message(caught, "actual_g")
    assert not Weighing.objects.exists()


def test_an_expired_lot_cannot_be_weighed(batch, technician, formulary, today):
    component = batch.components.get(ingredient=formulary["ingredients"]["ptx"])
    lot = formulary["lots"]["ptx_early"]
    later = today + timedelta(days=62)  # midnight UTC: still the 61st day in New York
    with time_machine.travel(later), pytest.raises(ValidationError) as caught:
        services.record_weighing(
            batch,
            actor=technician,
            component=component,
            balance=formulary["balance"],
            actual_g=D("0.3"),
            lot=lot,
        )
    assert "expired" in message(caught, "lot")
    lot.refresh_from_db()
    assert lot.on_hand_g == D(50)


def test_a_recalled_lot_cannot_be_weighed(batch, technician, pharmacist, formulary):
    lot = formulary["lots"]["ptx"]
    services.recall(actor=pharmacist, lot=lot, reason="Contaminated")
    component = batch.components.get(ingredient=lot.ingredient)
    with pytest.raises(ValidationError) as caught:
        services.record_weighing(
            batch,
            actor=technician,
            component=component,
            balance=formulary["balance"],
            actual_g=D("0.3"),
            lot=lot,
        )
    assert "recalled" in " ".join(caught.value.messages)


def test_a_weight_below_the_balance_minimum_is_refused(batch, technician, formulary):
    with pytest.raises(ValidationError) as caught:
        services.record_weighing(
            batch,
            actor=technician,
            component=batch.components.first(),
            balance=formulary["balance"],
            actual_g=D("0.010"),
            lot=formulary["lots"]["ptx"],
        )
    assert "minimum weight" in message(caught, "actual_g")


def test_a_balance_overdue_for_calibration_is_refused(batch, technician, formulary, today):
    with time_machine.travel(today + timedelta(days=400)), pytest.raises(ValidationError) as caught:
        services.record_weighing(
            batch,
            actor=technician,
            component=batch.components.first(),
            balance=formulary["balance"],
            actual_g=D("0.3"),
            lot=formulary["lots"]["ptx"],
        )
    assert "calibrate it" in message(caught, "balance")


def test_a_scanned_label_picks_the_lot_without_typing(batch, technician, formulary):
    lot = formulary["lots"]["ptx"]
    component = batch.components.get(ingredient=lot.ingredient)
    w = services.record_weighing(
        batch,
        actor=technician,
        component=component,
        balance=formulary["balance"],
        actual_g=D("0.300"),
        scan=f"\x1d17{lot.expiry_date:%y%m%d}10{lot.lot_number}",
    )
    assert w.lot == lot


def test_a_scan_whose_expiry_disagrees_with_the_record_is_refused(batch, technician, formulary):
    lot = formulary["lots"]["ptx"]
    component = batch.components.get(ingredient=lot.ingredient)
    with pytest.raises(ValidationError) as caught:
        services.record_weighing(
            batch,
            actor=technician,
            component=component,
            balance=formulary["balance"],
            actual_g=D("0.300"),
            scan=f"(17)991231(10){lot.lot_number}",
        )
    assert "check the container" in message(caught, "scan")


def test_a_pharmacist_only_step_is_refused_to_a_technician(batch, technician):
    step = batch.formulation.steps.get(pharmacist_only=True)
    with pytest.raises(ValidationError):
        services.complete_step(batch, actor=technician, step=step)


def test_a_batch_goes_to_review_only_when_everything_is_done(batch, technician, formulary):
    weigh_all(batch, technician, formulary["balance"])
    with pytest.raises(ValidationError) as caught:
        services.submit_batch(batch, actor=technician)
    problems = message(caught)
    assert "Step 3" in problems and "Photograph" in problems and "Record QC" in problems


def test_the_compounder_cannot_verify_their_own_batch(batch, pharmacist, technician, formulary):
    # the pharmacist compounds this one, so a second pharmacist must verify it
    own = services.start_batch(actor=pharmacist, preparation=batch.preparation, dispensed_g=D(30))
    finish_bench(own, pharmacist, pharmacist, formulary["balance"])
    with pytest.raises(ValidationError) as caught:
        services.verify_batch(own, actor=pharmacist)
    assert "another pharmacist" in message(caught)
    own.refresh_from_db()
    assert own.status == BatchStatus.READY_FOR_REVIEW and own.lot_number is None


def test_a_technician_never_releases(ready_batch, technician):
    with pytest.raises(PermissionDenied):
        services.verify_batch(ready_batch, actor=technician)


def test_a_technician_quarantines_but_never_releases_from_quarantine(released, technician):
    services.quarantine_batch(released, actor=technician, reason="Label smudged")
    with pytest.raises(PermissionDenied):
        services.release_quarantine(released, actor=technician, reason="ok")


def test_quarantine_release_returns_a_verified_batch_to_released(released, technician, pharmacist):
    services.quarantine_batch(released, actor=technician, reason="Check the seal")
    batch = services.release_quarantine(released, actor=pharmacist, reason="Seal intact")
    assert batch.status == BatchStatus.RELEASED
    assert [s.state for s in batch.states.all()] == [
        "in_progress",
        "ready_for_review",
        "released",
        "quarantined",
        "released",
    ]


def test_release_gives_a_lot_number_and_the_bud(released):
    assert released.lot_number.startswith(f"C{released.compounded_on:%y%m%d}-")
    assert released.bud == released.compounded_on + timedelta(days=60)  # lot PTX-EARLY caps it
    assert "capped by Pentoxifylline lot PTX-EARLY" in released.bud_explanation
    assert released.storage == "room temperature or refrigerator"


def test_a_pharmacist_may_shorten_the_bud_with_a_reason(ready_batch, second_pharmacist):
    shorter = ready_batch.compounded_on + timedelta(days=29)
    batch = services.verify_batch(
        ready_batch, actor=second_pharmacist, shorten_to=shorter, reason="Patient travels"
    )
    assert batch.bud == shorter and batch.bud_reason == "Patient travels"
    assert "shortened by the pharmacist" in batch.bud_explanation


def test_a_bud_lengthened_by_hand_is_refused(ready_batch, second_pharmacist):
    with pytest.raises(ValidationError) as caught:
        services.verify_batch(
            ready_batch,
            actor=second_pharmacist,
            shorten_to=ready_batch.compounded_on + timedelta(days=170),
            reason="Longer",
        )
    assert "never lengthen" in message(caught, "pharmacist_limit")
    ready_batch.refresh_from_db()
    assert ready_batch.lot_number is None and ready_batch.status == BatchStatus.READY_FOR_REVIEW


def test_day_counting_is_a_setting(ready_batch, pharmacist, second_pharmacist):
    services.change_settings(
        actor=pharmacist,
        mfr_approvals=1,
        day_counting="day_after_compounding_is_day_1",
        calibration_days=365,
        reason="State board guidance",
    )
    bud = services.beyond_use(ready_batch)
    assert bud.day_counting == "day_after_compounding_is_day_1"


def test_rework_sends_the_batch_back_to_the_bench(ready_batch, pharmacist, technician):
    batch = services.rework_batch(ready_batch, actor=pharmacist, reason="Grainy: re-mill")
    assert batch.at_the_bench
    services.record_deviation(batch, actor=technician, text="Re-milled")
    assert services.submit_batch(batch, actor=technician).status == BatchStatus.READY_FOR_REVIEW


def test_a_scrapped_batch_takes_nothing_more(ready_batch, pharmacist, technician):
    services.scrap_batch(ready_batch, actor=pharmacist, reason="Dropped")
    with pytest.raises(ValidationError) as caught:
        services.record_weighing(
            ready_batch,
            actor=technician,
            component=ready_batch.components.first(),
            balance=None,
            actual_g=D(1),
        )
    assert "scrapped" in message(caught)


def test_a_pregnant_patient_blocks_compounding_a_retinoid_until_overridden(
    patient, pharmacist, technician, formulary, mfr, second_pharmacist
):
    i = formulary["ingredients"]
    type(patient).objects.filter(pk=patient.pk).update(pregnancy_status="pregnant")
    patient.refresh_from_db()
    prep = services.derive_preparation(
        actor=pharmacist, patient=patient, formulation=mfr, added={i["tretinoin"]: D("0.05")}
    )
    warning = prep.warnings.get()
    assert warning.code == "pregnancy"
    with pytest.raises(ValidationError) as caught:
        services.start_batch(actor=technician, preparation=prep, dispensed_g=D(30))
    assert "override" in message(caught, "preparation")
    with pytest.raises(PermissionDenied):
        services.override_warning(warning, actor=technician, reason="x")
    services.override_warning(
        warning, actor=pharmacist, reason="Prescriber confirmed: not pregnant now"
    )
    record = ChangeRecord.objects.get(action="safety.overridden")
    assert record.reason == "Prescriber confirmed: not pregnant now"
    assert services.start_batch(actor=technician, preparation=prep, dispensed_g=D(30))


def test_screens_run_again_at_compounding(preparation, patient, technician):
    type(patient).objects.filter(pk=patient.pk).update(allergies="Pentoxifylline")
    with pytest.raises(ValidationError) as caught:
        services.start_batch(actor=technician, preparation=preparation, dispensed_g=D(30))
    assert "override" in message(caught, "preparation")
    warning = SafetyWarning.objects.get(stage="compounding")
    assert warning.code == "allergy" and not Batch.objects.exists()


def test_a_strength_above_the_formulary_maximum_blocks_until_overridden(
    mfr, patient, pharmacist, formulary
):
    ptx = formulary["ingredients"]["ptx"]
    prep = services.derive_preparation(
        actor=pharmacist, patient=patient, formulation=mfr, strengths={ptx: D("1.5")}
    )
    assert [w.code for w in prep.warnings.all()] == ["strength"]
    assert prep.differences == "Pentoxifylline 1 % → 1.5 %"


def test_a_prescriber_derives_only_for_their_own_patients(mfr, patient, other_patient, prescriber):
    assert services.derive_preparation(actor=prescriber, patient=patient, formulation=mfr)
    with pytest.raises(PermissionDenied):
        services.derive_preparation(actor=prescriber, patient=other_patient, formulation=mfr)


def test_a_draft_mfr_cannot_be_given_to_a_patient(formulary, pharmacist, patient):
    from tests.pharmacy.conftest import STEPS, mfr_fields

    draft = services.draft_formulation(
        actor=pharmacist,
        code="DRAFT",
        components=[services.ComponentLine(formulary["ingredients"]["silicone"], None)],
        steps=STEPS,
        **mfr_fields(),
    )
    with pytest.raises(ValidationError):
        services.derive_preparation(actor=pharmacist, patient=patient, formulation=draft)


def test_stock_batch_is_weighed_into_a_patient_batch(stock, batch, technician, formulary):
    base = batch.components.get(strength_percent__isnull=True)
    w = services.record_weighing(
        batch,
        actor=technician,
        component=base,
        balance=formulary["balance"],
        actual_g=base.shown_g,
        source_batch=stock,
    )
    assert w.source_batch == stock and w.lot is None
    assert IngredientLot.objects.filter(on_hand_g__lt=0).count() == 0
