"""Batches at the bench: start, weigh from a lot, the checklist, photo, QC, deviations."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from scarrx.access import require
from scarrx.accounts.roles import PHARMACIST, Perm, role_of
from scarrx.audit.services import record_change
from scarrx.patients.models import Patient
from scarrx.pharmacy import calculations as calc
from scarrx.pharmacy import gs1, queries
from scarrx.pharmacy.models import (
    AT_THE_BENCH,
    Balance,
    Batch,
    BatchComponent,
    BatchState,
    BatchStatus,
    Deviation,
    Formulation,
    FormulationStep,
    IngredientLot,
    MfrStatus,
    Preparation,
    Stage,
    StepDone,
    Weighing,
)
from scarrx.pharmacy.services.common import (
    _grams,
    _inputs,
    _positive,
    _text,
    current_settings,
    today,
)
from scarrx.pharmacy.services.formulary import ComponentLine, _engine_components
from scarrx.pharmacy.services.preparations import open_warnings, screen_again
from scarrx.values import grams_text

# --- batches: start, weigh, bench, QC ----------------------------------------------------


def _state(batch: Batch, state: str, actor, reason: str = "", **extra) -> BatchState:
    batch.status = state
    batch.save(update_fields=["status"])
    return BatchState.objects.create(batch=batch, state=state, by=actor, reason=reason, **extra)


def _locked(batch: Batch) -> Batch:
    return Batch.objects.select_for_update().get(pk=batch.pk)


def _patient(batch: Batch) -> Patient | None:
    return batch.patient


def _formula_of(preparation: Preparation | None, formulation: Formulation):
    if preparation is not None:
        rows = preparation.components.select_related("ingredient")
    else:
        rows = formulation.components.select_related("ingredient")
    return [ComponentLine(r.ingredient, r.strength_percent) for r in rows]


def plan(preparation: Preparation | None, formulation: Formulation, dispensed_g, wastage_percent):
    """The calculation engine's targets for a batch (also shown before it is started)."""
    lines = _formula_of(preparation, formulation)
    components, base = _engine_components(lines)
    balance = Balance.objects.filter(retired=False).order_by("minimum_weight_g").first()
    with _inputs():
        return calc.batch_masses(
            components,
            dispensed_g=dispensed_g,
            base=base,
            wastage_percent=wastage_percent,
            minimum_weighable_g=balance.minimum_weight_g if balance else None,
        ), lines


def start_batch(
    *,
    actor,
    preparation: Preparation | None = None,
    formulation: Formulation | None = None,
    dispensed_g,
    wastage_percent=Decimal(0),
) -> Batch:
    """A compounding record for a patient's preparation, or a stock batch of an MFR that
    yields an ingredient. The safety screens run again first, against the patient's
    record and the formulary as they are now (their warnings kept in their own
    transaction); any open warning refuses the start."""
    if preparation is not None:
        require(actor, Perm.COMPOUND, preparation.patient)
        screen_again(preparation, actor=actor, stage=Stage.COMPOUNDING)
    return _start_batch(
        actor=actor,
        preparation=preparation,
        formulation=formulation,
        dispensed_g=dispensed_g,
        wastage_percent=wastage_percent,
    )


@transaction.atomic
def _start_batch(
    *, actor, preparation: Preparation | None, formulation, dispensed_g, wastage_percent
) -> Batch:
    patient = preparation.patient if preparation is not None else None
    require(actor, Perm.COMPOUND, patient)
    if preparation is not None:
        formulation = preparation.formulation
    elif formulation is None or formulation.produces_id is None:
        raise ValidationError({"preparation": "Choose the patient's preparation."})
    if formulation.status != MfrStatus.APPROVED:
        raise ValidationError(
            {
                "formulation": f"MFR {formulation.code} v{formulation.version} is not approved "
                "(or has been superseded): derive the preparation from the current version."
            }
        )
    dispensed = _positive(dispensed_g, "dispensed_g")
    wastage = Decimal(str(wastage_percent or 0))
    masses, lines = plan(preparation, formulation, dispensed, wastage)
    waiting = list(open_warnings(preparation)) if preparation is not None else []
    if waiting:
        words = "; ".join(w.message for w in waiting)
        raise ValidationError(
            {
                "preparation": "Safety warnings await a pharmacist's override before "
                f"compounding: {words}"
            }
        )
    now = timezone.now()
    batch = Batch.objects.create(
        preparation=preparation,
        patient=patient,
        formulation=formulation,
        dispensed_g=dispensed,
        wastage_percent=wastage,
        batch_g=masses.batch_g,
        calculation=masses.calculation,
        weighing_warnings=[w.message for w in masses.warnings],
        compounded_by=actor,
        started_at=now,
        compounded_on=timezone.localdate(now),
    )
    for order, (mass, line) in enumerate(zip(masses.components, _base_last(lines), strict=True)):
        BatchComponent.objects.create(
            batch=batch,
            ingredient=line.ingredient,
            strength_percent=mass.strength_percent,
            target_g=mass.target_g,
            shown_g=mass.shown_g,
            calculation=mass.calculation[:300],
            order=order,
        )
    BatchState.objects.create(batch=batch, state=BatchStatus.IN_PROGRESS, by=actor)
    record_change(
        actor=actor,
        action="batch.started",
        obj=batch,
        patient=patient,
        summary=f"Batch of {preparation or formulation.name}: {grams_text(masses.batch_g)}",
        data={"dispensed_g": dispensed, "wastage_percent": wastage, "batch_g": masses.batch_g},
    )
    return batch


def _base_last(lines: list[ComponentLine]) -> list[ComponentLine]:
    return [ln for ln in lines if ln.strength_percent is not None] + [
        ln for ln in lines if ln.strength_percent is None
    ]


def _at_bench(batch: Batch) -> None:
    if batch.status not in AT_THE_BENCH:
        raise ValidationError(
            {
                "__all__": f"The batch is {batch.get_status_display().lower()}: nothing more is "
                "recorded at the bench."
            }
        )


def resolve_source(component: BatchComponent, *, lot=None, source_batch=None, scan: str = ""):
    """The lot (or stock batch) a weighing comes from: given, or found from what a
    scanner typed. Refused when expired, recalled or for another ingredient."""
    on = today()
    if scan:
        with _inputs():
            scanned = gs1.parse_scan(scan, today=on, field="scan")
        lot, source_batch = queries.find_source(component.ingredient, scanned.lot)
        if lot is None and source_batch is None:
            raise ValidationError(
                {"scan": f"No lot {scanned.lot} of {component.ingredient} is recorded."}
            )
        recorded = lot.expiry_date if lot else source_batch.bud
        if scanned.expiry is not None and scanned.expiry != recorded:
            raise ValidationError(
                {
                    "scan": f"The label says expiry {scanned.expiry}, the record {recorded}: "
                    "check the container before using it."
                }
            )
    field = "scan" if scan else "lot"
    if lot is not None:
        lot = IngredientLot.objects.select_for_update().get(pk=lot.pk)  # its state now
        if lot.ingredient_id != component.ingredient_id:
            raise ValidationError(
                {field: f"That lot is {lot.ingredient}, not {component.ingredient}."}
            )
        if lot.recalled_at is not None:
            raise ValidationError({field: f"Lot {lot.lot_number} is recalled: it cannot be used."})
        if lot.expiry_date < on:
            raise ValidationError(
                {field: f"Lot {lot.lot_number} expired on {lot.expiry_date}: it cannot be used."}
            )
        return lot, None
    if source_batch is not None:
        source_batch = Batch.objects.select_related("formulation").get(pk=source_batch.pk)
        ok = (
            source_batch.status == BatchStatus.RELEASED
            and source_batch.formulation.produces_id == component.ingredient_id
            and source_batch.bud is not None
            and source_batch.bud >= on
        )
        if not ok:
            raise ValidationError({field: f"Batch {source_batch.label} cannot be used here."})
        return None, source_batch
    raise ValidationError({"lot": "Choose the lot weighed from, or scan its label."})


@transaction.atomic
def record_weighing(
    batch: Batch,
    *,
    actor,
    component: BatchComponent,
    balance: Balance | None,
    actual_g,
    lot: IngredientLot | None = None,
    source_batch: Batch | None = None,
    scan: str = "",
) -> Weighing:
    """The actual weight of a component, from a lot, on a balance; flagged when outside
    the MFR's tolerance. A second weighing of a component replaces the first."""
    require(actor, Perm.COMPOUND, _patient(batch))
    batch = _locked(batch)
    _at_bench(batch)
    if component.batch_id != batch.pk:
        raise ValidationError({"component": "That component is not in this batch."})
    actual = _grams(actual_g, "actual_g")
    if balance is None:
        raise ValidationError({"balance": "Choose the balance used."})
    if balance.retired:
        raise ValidationError({"balance": f"{balance} is retired."})
    due = balance.last_calibrated_on + timedelta(days=current_settings().calibration_days)
    if due < today():
        raise ValidationError(
            {
                "balance": f"{balance} was last calibrated on {balance.last_calibrated_on}: "
                "calibrate it before use."
            }
        )
    if actual < balance.minimum_weight_g:
        raise ValidationError(
            {
                "actual_g": f"{grams_text(actual)} is below {balance}'s minimum weight of "
                f"{grams_text(balance.minimum_weight_g)}: weigh by aliquot or on a finer balance."
            }
        )
    lot, source_batch = resolve_source(component, lot=lot, source_batch=source_batch, scan=scan)
    if lot is not None:
        if lot.on_hand_g < actual:
            raise ValidationError(
                {"actual_g": f"Lot {lot.lot_number} has only {grams_text(lot.on_hand_g)} on hand."}
            )
        IngredientLot.objects.filter(pk=lot.pk).update(on_hand_g=F("on_hand_g") - actual)
    with _inputs():
        check = calc.check_weight(
            component.target_g, actual, tolerance_percent=batch.formulation.tolerance_percent
        )
    component.weighings.filter(is_current=True).update(is_current=False)
    weighing = Weighing.objects.create(
        batch=batch,
        component=component,
        lot=lot,
        source_batch=source_batch,
        balance=balance,
        balance_minimum_g=balance.minimum_weight_g,
        balance_calibrated_on=balance.last_calibrated_on,
        actual_g=actual,
        deviation_percent=check.deviation_percent.quantize(Decimal("0.001")),
        within_tolerance=check.within,
        check_text=check.calculation[:200],
        weighed_by=actor,
    )
    source = f"lot {lot.lot_number}" if lot else f"batch {source_batch.label}"
    record_change(
        actor=actor,
        action="batch.weighed",
        obj=batch,
        patient=_patient(batch),
        summary=f"{component.ingredient}: {grams_text(actual)} from {source} on {balance}"
        + ("" if check.within else " — OUTSIDE tolerance"),
        data={"component": component.ingredient.name, "actual_g": actual, "source": source},
    )
    return weighing


def _pharmacist_step(step: FormulationStep, actor) -> None:
    if step.pharmacist_only and role_of(actor) != PHARMACIST:
        raise ValidationError({"step": "A pharmacist does this step."})


@transaction.atomic
def complete_step(batch: Batch, *, actor, step: FormulationStep, note: str = "") -> StepDone:
    require(actor, Perm.COMPOUND, _patient(batch))
    batch = _locked(batch)
    _at_bench(batch)
    if step.formulation_id != batch.formulation_id:
        raise ValidationError({"step": "That step is not in this batch's MFR."})
    if step.photo:
        raise ValidationError({"step": "This step is done by photographing the preparation."})
    _pharmacist_step(step, actor)
    try:
        with transaction.atomic():
            done = StepDone.objects.create(batch=batch, step=step, by=actor, note=note[:300])
    except IntegrityError:
        raise ValidationError({"step": "This step is done already."}) from None
    record_change(
        actor=actor,
        action="batch.step_done",
        obj=batch,
        patient=_patient(batch),
        summary=f"Step {step.order + 1} done: {step.text}",
    )
    return done


def attach_photo(batch: Batch, *, actor, data) -> Batch:
    """A photo of the finished preparation, stored privately like progress photos; it
    completes the MFR's photo step."""
    from scarrx import imaging
    from scarrx.photos.storage import new_private_files

    require(actor, Perm.COMPOUND, _patient(batch))
    _at_bench(batch)
    raw = data.read(20 * 2**20 + 1) if hasattr(data, "read") else data
    if not raw or len(raw) > 20 * 2**20:
        raise ValidationError({"photo": "Choose a photo (JPEG, PNG or HEIC) up to 20 MB."})
    try:
        prepared = imaging.prepare_upload(raw)
    except imaging.ImagingError as exc:
        raise ValidationError({"photo": str(exc)}) from None
    step = batch.formulation.steps.filter(photo=True).first()
    with new_private_files() as save:
        name = save(prepared.jpeg)
        with transaction.atomic():
            batch = _locked(batch)
            _at_bench(batch)
            batch.photo = name
            batch.save(update_fields=["photo"])
            if step is not None:
                StepDone.objects.get_or_create(batch=batch, step=step, defaults={"by": actor})
            record_change(
                actor=actor,
                action="batch.photographed",
                obj=batch,
                patient=_patient(batch),
                summary="Finished preparation photographed",
                data={"sha256": prepared.sha256},
            )
    return batch


@transaction.atomic
def record_qc(
    batch: Batch, *, actor, appearance: str, appearance_ok: bool, final_weight_g, ph=None
) -> Batch:
    require(actor, Perm.COMPOUND, _patient(batch))
    batch = _locked(batch)
    _at_bench(batch)
    appearance = _text(appearance, "appearance", limit=200)
    final = _grams(final_weight_g, "final_weight_g")
    mfr = batch.formulation
    if mfr.ph_min is not None and ph in (None, ""):
        raise ValidationError({"ph": f"The MFR asks for the pH ({mfr.ph_min}–{mfr.ph_max})."})
    if ph not in (None, ""):
        ph = Decimal(str(ph))
        if not 0 <= ph <= 14:
            raise ValidationError({"ph": "A pH is from 0 to 14."})
    else:
        ph = None
    with _inputs():
        result = calc.batch_yield(final, batch.batch_g)
    batch.appearance, batch.appearance_ok, batch.ph = appearance, bool(appearance_ok), ph
    batch.final_weight_g, batch.qc_by = final, actor
    batch.yield_percent = result.percent.quantize(Decimal("0.001"))
    batch.yield_calculation = result.calculation[:200]
    batch.save()
    record_change(
        actor=actor,
        action="batch.qc_recorded",
        obj=batch,
        patient=_patient(batch),
        summary=f"QC: {appearance}; final weight {grams_text(final)}, yield {result.calculation}"
        + (f"; pH {ph}" if ph is not None else ""),
        data={"appearance_ok": bool(appearance_ok), "final_weight_g": final, "ph": ph},
    )
    return batch


@transaction.atomic
def record_deviation(batch: Batch, *, actor, text: str) -> Deviation:
    require(actor, Perm.COMPOUND, _patient(batch))
    text = _text(text, "text", limit=500)
    deviation = Deviation.objects.create(batch=batch, text=text, by=actor)
    record_change(
        actor=actor,
        action="batch.deviation",
        obj=batch,
        patient=_patient(batch),
        summary=f"Deviation: {text}",
    )
    return deviation


def qc_problems(batch: Batch) -> list[str]:
    mfr, problems = batch.formulation, []
    if batch.final_weight_g is None:
        problems.append("Record QC: appearance and final weight.")
        return problems
    if not batch.appearance_ok:
        problems.append("The appearance failed QC: rework or scrap the batch.")
    if mfr.ph_min is not None and batch.ph is not None and not mfr.ph_min <= batch.ph <= mfr.ph_max:
        problems.append(f"pH {batch.ph} is outside {mfr.ph_min}–{mfr.ph_max}: rework or scrap.")
    return problems


def bench_problems(batch: Batch) -> list[str]:
    """What stops a batch from going to review, in plain words (empty when ready)."""
    problems = []
    weighed = {w.component_id: w for w in batch.weighings.filter(is_current=True)}
    for component in batch.components.select_related("ingredient"):
        weighing = weighed.get(component.pk)
        if weighing is None:
            problems.append(f"Weigh {component.ingredient}: actual weight missing.")
        elif not weighing.within_tolerance:
            later = batch.deviations.filter(at__gte=weighing.weighed_at).exists()
            if not later:
                problems.append(
                    f"{component.ingredient} is outside tolerance: re-weigh or record a deviation."
                )
    done = set(batch.steps_done.values_list("step_id", flat=True))
    for step in batch.formulation.steps.filter(required=True):
        if step.pk not in done:
            what = "Photograph the finished preparation" if step.photo else f"Step {step.order + 1}"
            problems.append(f"{what}: not done ({step.text}).")
    problems += qc_problems(batch)
    if batch.preparation_id and open_warnings(batch.preparation).exists():
        problems.append("Safety warnings await a pharmacist's override.")
    return problems


@transaction.atomic
def submit_batch(batch: Batch, *, actor) -> Batch:
    require(actor, Perm.COMPOUND, _patient(batch))
    batch = _locked(batch)
    _at_bench(batch)
    problems = bench_problems(batch)
    if problems:
        raise ValidationError({"__all__": problems})
    _state(batch, BatchStatus.READY_FOR_REVIEW, actor)
    record_change(
        actor=actor,
        action="batch.submitted",
        obj=batch,
        patient=_patient(batch),
        summary="Ready for a pharmacist's verification",
    )
    return batch
