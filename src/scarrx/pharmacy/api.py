"""The pharmacy through the API: formulary, lots, balances, MFRs, preparations, batches
at the bench, verification, labels, recalls, reports, label template and settings. Every
operation calls the same service as the console page."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from scarrx.access import fetch, staff, visible_or_404, visible_to
from scarrx.accounts.roles import Perm
from scarrx.audit.services import record_reads
from scarrx.pagination import Pages
from scarrx.patients.models import Patient
from scarrx.pharmacy import labels, queries, services
from scarrx.pharmacy.models import (
    Balance,
    Batch,
    BatchStatus,
    Formulation,
    Ingredient,
    IngredientLot,
    LabelTemplate,
    Preparation,
    Recall,
    SafetyWarning,
)

router = Router(tags=["pharmacy"])


def one(model, public_id, field: str | None = None):
    """A pharmacy record by public id (no patient in it): 404, or a 422 on `field` when
    the id came in a request body."""
    try:
        return queries.pharmacy_record(model, public_id)
    except Http404:
        if field is None:
            raise
        raise ValidationError({field: f"No such {model._meta.verbose_name}."}) from None


# --- schemas ---------------------------------------------------------------------------


class IngredientIn(Schema):
    name: str
    role: str = Field(..., description="active, base, excipient, preservative")
    contains_water: bool = False
    preserves: bool = False
    hazardous: bool = False
    pregnancy_caution: bool = False
    contact_sensitiser: bool = False
    max_strength_percent: Decimal | None = None
    allergen_group: str = ""
    assay_percent: Decimal = Decimal(100)
    salt_factor: Decimal = Decimal(1)
    density_g_per_ml: Decimal | None = None
    notes: str = ""


class IngredientOut(IngredientIn):
    id: uuid.UUID = Field(..., alias="public_id")


class IngredientEdit(Schema):
    """Only the fields given change; the reason is recorded with the old and new values."""

    reason: str
    name: str | None = None
    role: str | None = Field(None, description="active, base, excipient, preservative")
    contains_water: bool | None = None
    preserves: bool | None = None
    hazardous: bool | None = None
    pregnancy_caution: bool | None = None
    contact_sensitiser: bool | None = None
    max_strength_percent: Decimal | None = Field(None, description="null: no maximum")
    allergen_group: str | None = None
    assay_percent: Decimal | None = None
    salt_factor: Decimal | None = None
    density_g_per_ml: Decimal | None = None
    notes: str | None = None


class LotIn(Schema):
    supplier: str
    lot_number: str
    expiry_date: date
    received_on: date | None = None
    received_g: Decimal
    coa_reference: str = ""


class LotOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    ingredient: str
    supplier: str
    lot_number: str
    expiry_date: date
    received_on: date
    received_g: Decimal
    on_hand_g: Decimal
    coa_reference: str
    recalled: bool

    @staticmethod
    def resolve_ingredient(obj: IngredientLot):
        return obj.ingredient.name

    @staticmethod
    def resolve_recalled(obj: IngredientLot):
        return obj.recalled_at is not None


class BalanceIn(Schema):
    name: str
    readability_g: Decimal
    minimum_weight_g: Decimal
    last_calibrated_on: date


class BalanceOut(BalanceIn):
    id: uuid.UUID = Field(..., alias="public_id")
    retired: bool
    retired_on: date | None
    retired_reason: str


class RetireIn(Schema):
    reason: str


class CalibrationIn(Schema):
    on: date
    note: str = ""


class SettingsIn(Schema):
    mfr_approvals: int = Field(..., description="pharmacist approvals an MFR needs")
    day_counting: str = Field(
        ..., description="compounding_day_is_day_1 or day_after_compounding_is_day_1"
    )
    calibration_days: int = Field(..., description="days a balance calibration lasts")
    reason: str


class SettingsOut(Schema):
    mfr_approvals: int
    day_counting: str
    calibration_days: int


class ComponentIn(Schema):
    ingredient: uuid.UUID
    strength_percent: Decimal | None = Field(None, description="% w/w; omit for the base")
    function: str = ""
    characteristics: str = ""


class StepIn(Schema):
    text: str
    required: bool = True
    pharmacist_only: bool = False
    photo: bool = False


class FormulationFields(Schema):
    name: str
    dosage_form: str = "gel"
    route: str = "topical"
    container_closure: str
    equipment: str
    description: str
    bud_source: str = "USP <795> table"
    stability_limit_days: int | None = None
    calculations: str = ""
    qc_specification: str
    ph_min: Decimal | None = None
    ph_max: Decimal | None = None
    tolerance_percent: Decimal = Decimal(5)
    label_text: str = ""


class FormulationIn(FormulationFields):
    code: str
    components: list[ComponentIn]
    steps: list[StepIn]
    produces: uuid.UUID | None = Field(None, description="ingredient a stock MFR yields")


class FormulationEdit(Schema):
    name: str | None = None
    container_closure: str | None = None
    equipment: str | None = None
    description: str | None = None
    qc_specification: str | None = None
    label_text: str | None = None
    calculations: str | None = None


class NewVersionIn(Schema):
    change_reason: str
    components: list[ComponentIn] | None = None


class ComponentOut(Schema):
    ingredient: str
    strength_percent: Decimal | None
    function: str = ""

    @staticmethod
    def resolve_ingredient(obj):
        return obj.ingredient.name


class FormulationOut(FormulationFields):
    id: uuid.UUID = Field(..., alias="public_id")
    code: str
    version: int
    status: str
    water_activity: str
    preserved: bool
    storage: str
    components: list[ComponentOut]
    steps: list[StepIn]
    approvals: list[str]

    @staticmethod
    def resolve_components(obj: Formulation):
        return list(obj.components.select_related("ingredient"))

    @staticmethod
    def resolve_steps(obj: Formulation):
        return list(obj.steps.all())

    @staticmethod
    def resolve_approvals(obj: Formulation):
        return [a.by.username for a in obj.approvals.select_related("by")]

    @staticmethod
    def resolve_storage(obj: Formulation):
        return obj.storage.value


class StrengthIn(Schema):
    ingredient: uuid.UUID
    strength_percent: Decimal


class PreparationIn(Schema):
    formulation: uuid.UUID
    strengths: list[StrengthIn] = Field([], description="MFR actives at another strength")
    added: list[StrengthIn] = Field([], description="approved actives added")
    name: str = ""


class WarningOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    stage: str
    code: str
    message: str
    overridden_by: str | None
    override_reason: str | None

    @staticmethod
    def resolve_overridden_by(obj: SafetyWarning):
        override = getattr(obj, "override", None)
        return override.by.username if override else None

    @staticmethod
    def resolve_override_reason(obj: SafetyWarning):
        override = getattr(obj, "override", None)
        return override.reason if override else None


class PreparationOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    patient: uuid.UUID
    formulation: uuid.UUID
    name: str
    water_activity: str
    preserved: bool
    differences: str
    components: list[ComponentOut]
    warnings: list[WarningOut]

    @staticmethod
    def resolve_patient(obj: Preparation):
        return obj.patient.public_id

    @staticmethod
    def resolve_formulation(obj: Preparation):
        return obj.formulation.public_id

    @staticmethod
    def resolve_components(obj: Preparation):
        return list(obj.components.select_related("ingredient"))

    @staticmethod
    def resolve_warnings(obj: Preparation):
        return list(obj.warnings.select_related("override__by"))


class OverrideIn(Schema):
    reason: str


class BatchIn(Schema):
    preparation: uuid.UUID | None = Field(None, description="the patient's preparation")
    formulation: uuid.UUID | None = Field(None, description="or a stock MFR")
    dispensed_g: Decimal
    wastage_percent: Decimal = Decimal(0)


class TargetOut(Schema):
    id: int = Field(..., alias="pk")
    ingredient: str
    strength_percent: Decimal | None
    target_g: Decimal
    shown_g: Decimal
    calculation: str

    @staticmethod
    def resolve_ingredient(obj):
        return obj.ingredient.name


class WeighingOut(Schema):
    component: int
    source: str
    balance: str
    balance_minimum_g: Decimal
    balance_calibrated_on: date
    actual_g: Decimal
    deviation_percent: Decimal
    within_tolerance: bool
    weighed_by: str
    weighed_at: datetime

    @staticmethod
    def resolve_component(obj):
        return obj.component_id

    @staticmethod
    def resolve_source(obj):
        return obj.source_label

    @staticmethod
    def resolve_balance(obj):
        return obj.balance.name

    @staticmethod
    def resolve_weighed_by(obj):
        return obj.weighed_by.username


class StateOut(Schema):
    state: str
    by: str
    at: datetime
    reason: str
    expected_release: date | None

    @staticmethod
    def resolve_by(obj):
        return obj.by.username


class BatchOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    lot_number: str | None
    status: str
    patient: uuid.UUID | None
    preparation: uuid.UUID | None
    formulation: str
    dispensed_g: Decimal
    wastage_percent: Decimal
    batch_g: Decimal
    calculation: str
    weighing_warnings: list[str]
    components: list[TargetOut]
    weighings: list[WeighingOut]
    states: list[StateOut]
    deviations: list[str]
    to_do: list[str]
    compounded_by: str
    compounded_on: date
    appearance: str
    ph: Decimal | None
    final_weight_g: Decimal | None
    yield_percent: Decimal | None
    verified_by: str | None
    bud: date | None
    storage: str
    bud_explanation: str
    label_url: str | None

    @staticmethod
    def resolve_patient(obj: Batch):
        return obj.preparation.patient.public_id if obj.preparation_id else None

    @staticmethod
    def resolve_preparation(obj: Batch):
        return obj.preparation.public_id if obj.preparation_id else None

    @staticmethod
    def resolve_formulation(obj: Batch):
        return f"{obj.formulation.code} v{obj.formulation.version}"

    @staticmethod
    def resolve_components(obj: Batch):
        return list(obj.components.select_related("ingredient"))

    @staticmethod
    def resolve_weighings(obj: Batch):
        return queries.lot_genealogy(obj)

    @staticmethod
    def resolve_states(obj: Batch):
        return list(obj.states.select_related("by"))

    @staticmethod
    def resolve_deviations(obj: Batch):
        return [d.text for d in obj.deviations.all()]

    @staticmethod
    def resolve_to_do(obj: Batch):
        return services.bench_problems(obj) if obj.at_the_bench else []

    @staticmethod
    def resolve_compounded_by(obj: Batch):
        return obj.compounded_by.username

    @staticmethod
    def resolve_verified_by(obj: Batch):
        return obj.verified_by.username if obj.verified_by_id else None

    @staticmethod
    def resolve_label_url(obj: Batch):
        return f"/api/v1/batches/{obj.public_id}/label" if obj.lot_number else None


class BatchRow(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    lot_number: str | None
    status: str
    formulation: str
    compounded_on: date
    batch_g: Decimal
    bud: date | None

    @staticmethod
    def resolve_formulation(obj: Batch):
        return f"{obj.formulation.code} v{obj.formulation.version}"


class WeighingIn(Schema):
    component: int = Field(..., description="the component's id in the batch's components")
    balance: uuid.UUID | None = None
    actual_g: Decimal | None = Field(None, description="the balance's reading, grams")
    lot: uuid.UUID | None = Field(None, description="the ingredient lot weighed from")
    source_batch: uuid.UUID | None = Field(None, description="or a released stock batch")
    scan: str = Field("", description="what a scanner read from the container's label")


class StepDoneIn(Schema):
    step: int = Field(..., description="step number in the MFR, from 1")
    note: str = ""


class QcIn(Schema):
    appearance: str
    appearance_ok: bool
    final_weight_g: Decimal | None = None
    ph: Decimal | None = None


class TextIn(Schema):
    text: str


class VerifyIn(Schema):
    shorten_to: date | None = Field(None, description="a shorter BUD, with a reason")
    reason: str = ""


class ReasonIn(Schema):
    reason: str


class QuarantineIn(ReasonIn):
    expected_release: date | None = None


class RecallIn(Schema):
    lot: uuid.UUID | None = None
    batch: uuid.UUID | None = None
    reason: str


class RecallOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    lot: str | None
    batch: str | None
    reason: str
    by: str
    at: datetime
    batches_reached: list[str]
    patients_reached: list[uuid.UUID]

    @staticmethod
    def resolve_lot(obj: Recall):
        return str(obj.lot) if obj.lot_id else None

    @staticmethod
    def resolve_batch(obj: Recall):
        return obj.batch.label if obj.batch_id else None

    @staticmethod
    def resolve_by(obj: Recall):
        return obj.by.username

    @staticmethod
    def resolve_batches_reached(obj: Recall):
        return [b.label for b in obj.batches_reached.all()]

    @staticmethod
    def resolve_patients_reached(obj: Recall):
        return [p.public_id for p in obj.patients_reached.all()]


class ReachOut(Schema):
    batches: list[str]
    patients: list[uuid.UUID]


class UsageOut(Schema):
    ingredient: str
    grams: Decimal
    batches: int
    lots: int


class TemplateIn(Schema):
    body: str
    reason: str


class TemplateOut(Schema):
    version: int
    body: str
    reason: str
    created_at: datetime


# --- formulary, lots, balances, settings ------------------------------------------------


@router.get("/pharmacy/ingredients", response=list[IngredientOut], summary="The formulary")
@paginate(Pages)
@staff(Perm.VIEW_FORMULARY)
def list_ingredients(request):
    return Ingredient.objects.all()


@router.post("/pharmacy/ingredients", response={201: IngredientOut}, summary="Add an ingredient")
@staff(Perm.CHANGE_FORMULARY)
def add_ingredient(request, payload: IngredientIn):
    fields = payload.dict()
    return Status(201, services.add_ingredient(actor=request.user, **fields))


@router.get(
    "/pharmacy/ingredients/{ingredient_id}", response=IngredientOut, summary="An ingredient"
)
@staff(Perm.VIEW_FORMULARY)
def get_ingredient(request, ingredient_id: uuid.UUID):
    return one(Ingredient, ingredient_id)


@router.patch(
    "/pharmacy/ingredients/{ingredient_id}",
    response=IngredientOut,
    summary="Change an ingredient (pharmacist; safety facts screen preparations again)",
)
@staff(Perm.CHANGE_FORMULARY)
def update_ingredient(request, ingredient_id: uuid.UUID, payload: IngredientEdit):
    ingredient = one(Ingredient, ingredient_id)
    changes = payload.dict(exclude_unset=True)
    reason = changes.pop("reason")
    return services.update_ingredient(ingredient, actor=request.user, reason=reason, **changes)


@router.get(
    "/pharmacy/ingredients/{ingredient_id}/lots",
    response=list[LotOut],
    summary="Usable lots of an ingredient, first expiry first out (every=true: all lots)",
)
@paginate(Pages)
@staff(Perm.VIEW_FORMULARY)
def list_lots(request, ingredient_id: uuid.UUID, every: bool = False):
    ingredient = one(Ingredient, ingredient_id)
    lots = ingredient.lots.all() if every else queries.usable_lots(ingredient)
    return lots.select_related("ingredient")


@router.post(
    "/pharmacy/ingredients/{ingredient_id}/lots",
    response={201: LotOut},
    summary="Receive a lot",
)
@staff(Perm.RECEIVE_LOT)
def receive_lot(request, ingredient_id: uuid.UUID, payload: LotIn):
    ingredient = one(Ingredient, ingredient_id)
    return Status(201, services.receive_lot(ingredient, actor=request.user, **payload.dict()))


@router.get(
    "/pharmacy/balances",
    response=list[BalanceOut],
    summary="Balances in service (every=true: those out of service too)",
)
@paginate(Pages)
@staff(Perm.VIEW_BATCH)
def list_balances(request, every: bool = False):
    return Balance.objects.all() if every else Balance.objects.filter(retired=False)


@router.post("/pharmacy/balances", response={201: BalanceOut}, summary="Add a balance")
@staff(Perm.CHANGE_BALANCE)
def add_balance(request, payload: BalanceIn):
    return Status(201, services.add_balance(actor=request.user, **payload.dict()))


@router.post(
    "/pharmacy/balances/{balance_id}/calibrations",
    response={201: BalanceOut},
    summary="Record a balance's calibration",
)
@staff(Perm.CHANGE_BALANCE)
def calibrate_balance(request, balance_id: uuid.UUID, payload: CalibrationIn):
    balance = one(Balance, balance_id)
    services.calibrate_balance(balance, actor=request.user, on=payload.on, note=payload.note)
    balance.refresh_from_db()
    return Status(201, balance)


@router.post(
    "/pharmacy/balances/{balance_id}/retirement",
    response=BalanceOut,
    summary="Take a balance out of service, with the reason",
)
@staff(Perm.CHANGE_BALANCE)
def retire_balance(request, balance_id: uuid.UUID, payload: RetireIn):
    balance = one(Balance, balance_id)
    return services.retire_balance(balance, actor=request.user, reason=payload.reason)


@router.get("/pharmacy/settings", response=SettingsOut, summary="The pharmacy's settings")
@staff(Perm.VIEW_BATCH)
def get_settings(request):
    return services.current_settings()


@router.post("/pharmacy/settings", response=SettingsOut, summary="Change the settings")
@staff(Perm.CHANGE_PHARMACY_SETTINGS)
def change_settings(request, payload: SettingsIn):
    return services.change_settings(actor=request.user, **payload.dict())


# --- master formulation records -------------------------------------------------------


def _lines(components: list[ComponentIn]) -> list[services.ComponentLine]:
    return [
        services.ComponentLine(
            one(Ingredient, c.ingredient, f"components[{i}].ingredient"),
            c.strength_percent,
            c.function,
            c.characteristics,
        )
        for i, c in enumerate(components)
    ]


@router.get("/pharmacy/formulations", response=list[FormulationOut], summary="MFRs")
@paginate(Pages)
@staff(Perm.VIEW_FORMULATION)
def list_formulations(request, status: str = ""):
    found = queries.formulations_for(request.user)
    return found.filter(status=status) if status else found


@router.post("/pharmacy/formulations", response={201: FormulationOut}, summary="Draft an MFR")
@staff(Perm.AUTHOR_FORMULATION)
def draft_formulation(request, payload: FormulationIn):
    fields = payload.dict(exclude={"code", "components", "steps", "produces"})
    produces = one(Ingredient, payload.produces, "produces") if payload.produces else None
    mfr = services.draft_formulation(
        actor=request.user,
        code=payload.code,
        components=_lines(payload.components),
        steps=[services.StepLine(**s.dict()) for s in payload.steps],
        produces=produces,
        **fields,
    )
    return Status(201, mfr)


@router.get("/pharmacy/formulations/{formulation_id}", response=FormulationOut, summary="An MFR")
@staff(Perm.VIEW_FORMULATION)
def get_formulation(request, formulation_id: uuid.UUID):
    return queries.formulation_for(request.user, formulation_id)


@router.patch(
    "/pharmacy/formulations/{formulation_id}",
    response=FormulationOut,
    summary="Edit a draft MFR (an approved one is refused)",
)
@staff(Perm.AUTHOR_FORMULATION)
def edit_formulation(request, formulation_id: uuid.UUID, payload: FormulationEdit):
    mfr = one(Formulation, formulation_id)
    changes = payload.dict(exclude_unset=True)
    return services.edit_formulation(mfr, actor=request.user, **changes)


@router.post(
    "/pharmacy/formulations/{formulation_id}/versions",
    response={201: FormulationOut},
    summary="Draft the next version of an MFR",
)
@staff(Perm.AUTHOR_FORMULATION)
def new_formulation_version(request, formulation_id: uuid.UUID, payload: NewVersionIn):
    mfr = one(Formulation, formulation_id)
    changes = {"components": _lines(payload.components)} if payload.components else {}
    draft = services.new_version(
        mfr, actor=request.user, change_reason=payload.change_reason, **changes
    )
    return Status(201, draft)


@router.post(
    "/pharmacy/formulations/{formulation_id}/approvals",
    response={201: FormulationOut},
    summary="Approve an MFR version (not your own)",
)
@staff(Perm.APPROVE_FORMULATION)
def approve_formulation(request, formulation_id: uuid.UUID):
    mfr = one(Formulation, formulation_id)
    return Status(201, services.approve_formulation(mfr, actor=request.user))


# --- preparations ----------------------------------------------------------------------


def _strengths(items: list[StrengthIn], field: str) -> dict:
    return {
        one(Ingredient, s.ingredient, f"{field}[{i}].ingredient"): s.strength_percent
        for i, s in enumerate(items)
    }


@router.post(
    "/patients/{patient_id}/preparations",
    response={201: PreparationOut},
    summary="Derive a patient's preparation from an approved MFR",
)
@staff(Perm.ADD_PREPARATION)
def derive_preparation(request, patient_id: uuid.UUID, payload: PreparationIn):
    patient = fetch(request, Patient, patient_id)
    preparation = services.derive_preparation(
        actor=request.user,
        patient=patient,
        formulation=one(Formulation, payload.formulation, "formulation"),
        strengths=_strengths(payload.strengths, "strengths"),
        added=_strengths(payload.added, "added"),
        name=payload.name,
    )
    return Status(201, preparation)


@router.get(
    "/patients/{patient_id}/preparations",
    response=list[PreparationOut],
    summary="A patient's preparations",
)
@paginate(Pages)
@staff(Perm.VIEW_PREPARATION)
def list_preparations(request, patient_id: uuid.UUID):
    patient = fetch(request, Patient, patient_id)
    return visible_to(request.user, Preparation).filter(patient=patient)


@router.get("/preparations/{preparation_id}", response=PreparationOut, summary="A preparation")
@staff(Perm.VIEW_PREPARATION)
def get_preparation(request, preparation_id: uuid.UUID):
    return fetch(request, Preparation, preparation_id)


@router.post(
    "/preparations/{preparation_id}/warnings/{warning_id}/override",
    response={201: PreparationOut},
    summary="Override a safety warning, with the reason",
)
@staff(Perm.OVERRIDE_SAFETY)
def override_warning(
    request, preparation_id: uuid.UUID, warning_id: uuid.UUID, payload: OverrideIn
):
    preparation = fetch(request, Preparation, preparation_id)
    warning = visible_or_404(preparation.warnings.all(), warning_id)
    services.override_warning(warning, actor=request.user, reason=payload.reason)
    return Status(201, preparation)


# --- batches ----------------------------------------------------------------------------


@router.post("/batches", response={201: BatchOut}, summary="Start a batch (compounding record)")
@staff(Perm.COMPOUND)
def start_batch(request, payload: BatchIn):
    preparation = None
    if payload.preparation is not None:
        try:
            preparation = fetch(request, Preparation, payload.preparation)
        except Http404:
            raise ValidationError({"preparation": "No such preparation."}) from None
    formulation = (
        one(Formulation, payload.formulation, "formulation") if payload.formulation else None
    )
    batch = services.start_batch(
        actor=request.user,
        preparation=preparation,
        formulation=formulation,
        dispensed_g=payload.dispensed_g,
        wastage_percent=payload.wastage_percent,
    )
    return Status(201, batch)


@router.get("/batches", response=list[BatchRow], summary="Batches, newest first")
@paginate(Pages)
@staff(Perm.VIEW_BATCH)
def list_batches(request, status: str = "", start: date | None = None, end: date | None = None):
    batches = visible_to(request.user, Batch).select_related("formulation", "preparation__patient")
    if status:
        batches = batches.filter(status=status)
    if start:
        batches = batches.filter(compounded_on__gte=start)
    if end:
        batches = batches.filter(compounded_on__lte=end)
    return batches


@router.get("/batches/{batch_id}", response=BatchOut, summary="A compounding record")
@staff(Perm.VIEW_BATCH)
def get_batch(request, batch_id: uuid.UUID):
    return fetch(request, Batch, batch_id)


@router.post(
    "/batches/{batch_id}/weighings",
    response={201: BatchOut},
    summary="Record a component's actual weight (lot chosen or scanned)",
)
@staff(Perm.COMPOUND)
def record_weighing(request, batch_id: uuid.UUID, payload: WeighingIn):
    batch = fetch(request, Batch, batch_id)
    component = batch.components.filter(pk=payload.component).first()
    if component is None:
        raise ValidationError({"component": "That component is not in this batch."})
    services.record_weighing(
        batch,
        actor=request.user,
        component=component,
        balance=one(Balance, payload.balance, "balance") if payload.balance else None,
        actual_g=payload.actual_g,
        lot=one(IngredientLot, payload.lot, "lot") if payload.lot else None,
        source_batch=one(Batch, payload.source_batch, "source_batch")
        if payload.source_batch
        else None,
        scan=payload.scan,
    )
    return Status(201, batch)


@router.post(
    "/batches/{batch_id}/steps", response={201: BatchOut}, summary="Tick a bench step done"
)
@staff(Perm.COMPOUND)
def complete_step(request, batch_id: uuid.UUID, payload: StepDoneIn):
    batch = fetch(request, Batch, batch_id)
    step = batch.formulation.steps.filter(order=payload.step - 1).first()
    if step is None:
        raise ValidationError({"step": "The MFR has no such step."})
    services.complete_step(batch, actor=request.user, step=step, note=payload.note)
    return Status(201, batch)


@router.post(
    "/batches/{batch_id}/photo",
    response={201: BatchOut},
    summary="Photograph the finished preparation",
)
@staff(Perm.COMPOUND)
def batch_photo(request, batch_id: uuid.UUID, file: File[UploadedFile]):
    batch = fetch(request, Batch, batch_id)
    return Status(201, services.attach_photo(batch, actor=request.user, data=file))


@router.post("/batches/{batch_id}/qc", response=BatchOut, summary="Record quality control")
@staff(Perm.COMPOUND)
def record_qc(request, batch_id: uuid.UUID, payload: QcIn):
    batch = fetch(request, Batch, batch_id)
    return services.record_qc(batch, actor=request.user, **payload.dict())


@router.post(
    "/batches/{batch_id}/deviations", response={201: BatchOut}, summary="Record a deviation"
)
@staff(Perm.COMPOUND)
def record_deviation(request, batch_id: uuid.UUID, payload: TextIn):
    batch = fetch(request, Batch, batch_id)
    services.record_deviation(batch, actor=request.user, text=payload.text)
    return Status(201, batch)


@router.post(
    "/batches/{batch_id}/submit", response=BatchOut, summary="Send a batch for verification"
)
@staff(Perm.COMPOUND)
def submit_batch(request, batch_id: uuid.UUID):
    return services.submit_batch(fetch(request, Batch, batch_id), actor=request.user)


@router.post(
    "/batches/{batch_id}/verify",
    response=BatchOut,
    summary="Verify and release a batch (a pharmacist who did not compound it)",
)
@staff(Perm.VERIFY_BATCH)
def verify_batch(request, batch_id: uuid.UUID, payload: VerifyIn):
    batch = fetch(request, Batch, batch_id)
    return services.verify_batch(
        batch, actor=request.user, shorten_to=payload.shorten_to, reason=payload.reason
    )


@router.post("/batches/{batch_id}/quarantine", response=BatchOut, summary="Quarantine a batch")
@staff(Perm.QUARANTINE_BATCH)
def quarantine_batch(request, batch_id: uuid.UUID, payload: QuarantineIn):
    batch = fetch(request, Batch, batch_id)
    return services.quarantine_batch(batch, actor=request.user, **payload.dict())


@router.post(
    "/batches/{batch_id}/quarantine-release",
    response=BatchOut,
    summary="Release a batch from quarantine",
)
@staff(Perm.VERIFY_BATCH)
def release_quarantine(request, batch_id: uuid.UUID, payload: ReasonIn):
    batch = fetch(request, Batch, batch_id)
    return services.release_quarantine(batch, actor=request.user, reason=payload.reason)


@router.post("/batches/{batch_id}/scrap", response=BatchOut, summary="Scrap a batch")
@staff(Perm.VERIFY_BATCH)
def scrap_batch(request, batch_id: uuid.UUID, payload: ReasonIn):
    batch = fetch(request, Batch, batch_id)
    return services.scrap_batch(batch, actor=request.user, reason=payload.reason)


@router.post(
    "/batches/{batch_id}/rework", response=BatchOut, summary="Send a batch back for rework"
)
@staff(Perm.VERIFY_BATCH)
def rework_batch(request, batch_id: uuid.UUID, payload: ReasonIn):
    batch = fetch(request, Batch, batch_id)
    return services.rework_batch(batch, actor=request.user, reason=payload.reason)


def label_response(batch: Batch) -> HttpResponse:
    if batch.lot_number is None:
        raise ValidationError({"batch": "Only a released batch has a label."})
    response = HttpResponse(labels.render_label(batch), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="label-{batch.lot_number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/batches/{batch_id}/label", summary="The batch label (PDF)")
@staff(Perm.VIEW_BATCH)
def batch_label(request, batch_id: uuid.UUID):
    return label_response(fetch(request, Batch, batch_id))


# --- recalls, reports, label template ----------------------------------------------------


def _reach(request, reach: queries.Reach) -> dict:
    patients = list(Patient.objects.filter(pk__in=reach.patient_ids))
    record_reads(request, patients)
    batches = Batch.objects.filter(pk__in=reach.batch_ids)
    return {"batches": [b.label for b in batches], "patients": [p.public_id for p in patients]}


@router.get(
    "/pharmacy/lots/{lot_id}/trace",
    response=ReachOut,
    summary="Every batch and patient a component lot reached",
)
@staff(Perm.VIEW_RECALL)
def trace_lot(request, lot_id: uuid.UUID):
    return _reach(request, queries.trace(lot=one(IngredientLot, lot_id)))


@router.get(
    "/batches/{batch_id}/trace",
    response=ReachOut,
    summary="Every batch and patient a batch reached",
)
@staff(Perm.VIEW_RECALL)
def trace_batch(request, batch_id: uuid.UUID):
    return _reach(request, queries.trace(batch=fetch(request, Batch, batch_id)))


@router.post("/pharmacy/recalls", response={201: RecallOut}, summary="Recall a lot or batch")
@staff(Perm.RECALL)
def make_recall(request, payload: RecallIn):
    recall = services.recall(
        actor=request.user,
        reason=payload.reason,
        lot=one(IngredientLot, payload.lot, "lot") if payload.lot else None,
        batch=one(Batch, payload.batch, "batch") if payload.batch else None,
    )
    record_reads(request, recall.patients_reached.all())
    return Status(201, recall)


@router.get("/pharmacy/recalls", response=list[RecallOut], summary="Recalls and their reach")
@paginate(Pages)
@staff(Perm.VIEW_RECALL)
def list_recalls(request):
    return Recall.objects.select_related("lot__ingredient", "batch", "by")


@router.get("/pharmacy/recalls/{recall_id}", response=RecallOut, summary="A recall")
@staff(Perm.VIEW_RECALL)
def get_recall(request, recall_id: uuid.UUID):
    recall = one(Recall, recall_id)
    record_reads(request, recall.patients_reached.all())
    return recall


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or timezone.localdate()
    return start or end - timedelta(days=30), end


@router.get(
    "/pharmacy/reports/batches",
    response=list[BatchRow],
    summary="Report: batches by date and status",
)
@paginate(Pages)
@staff(Perm.VIEW_BATCH)
def report_batches(request, start: date | None = None, end: date | None = None, status: str = ""):
    if status and status not in BatchStatus.values:
        raise ValidationError({"status": f"One of {', '.join(BatchStatus.values)}."})
    return visible_to(request.user, queries.batches_between(*_period(start, end), status))


@router.get(
    "/pharmacy/reports/lots-expiring",
    response=list[LotOut],
    summary="Report: lots expiring within some days",
)
@paginate(Pages)
@staff(Perm.VIEW_FORMULARY)
def report_lots_expiring(request, within_days: int = 30):
    if not 0 <= within_days <= 3650:
        raise ValidationError({"within_days": "From 0 to 3650 days."})
    return queries.lots_expiring(within_days)


@router.get("/pharmacy/reports/usage", response=list[UsageOut], summary="Report: ingredient usage")
@staff(Perm.VIEW_BATCH)
def report_usage(request, start: date | None = None, end: date | None = None):
    return queries.ingredient_usage(*_period(start, end))


@router.get(
    "/pharmacy/label-templates", response=list[TemplateOut], summary="Label template versions"
)
@paginate(Pages)
@staff(Perm.VIEW_BATCH)
def list_label_templates(request):
    return LabelTemplate.objects.all()


@router.post(
    "/pharmacy/label-templates",
    response={201: TemplateOut},
    summary="Change the label template (a pharmacist, with a reason)",
)
@staff(Perm.CHANGE_LABEL_TEMPLATE)
def change_label_template(request, payload: TemplateIn):
    template = services.change_label_template(
        actor=request.user, body=payload.body, reason=payload.reason
    )
    return Status(201, template)
