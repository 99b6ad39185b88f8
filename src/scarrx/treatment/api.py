"""The treatment course through the API (staff): prescriptions, fills, applications logged
on a patient's behalf, side effects and their review, the worklist. The patient's own
operations are on the portal router (scarrx.portal.api), calling the same services."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from scarrx.access import fetch, staff, visible_to
from scarrx.accounts.roles import Perm
from scarrx.pagination import Pages
from scarrx.patients.models import Patient
from scarrx.pharmacy.models import Batch, Preparation
from scarrx.treatment import queries, services
from scarrx.treatment.models import (
    DEFAULT_FOLLOW_UP_WEEKS,
    Application,
    Fill,
    Prescription,
    SideEffect,
    StatusChange,
    Via,
)

router = Router(tags=["treatment"])


def pick(request, model, public_id, field: str):
    """An object named in a request body: one this user may see, else a refusal on that
    field (never a hint that a hidden one exists)."""
    try:
        return fetch(request, model, public_id)
    except Http404:
        raise ValidationError({field: "Not found."}) from None


# --- shapes -------------------------------------------------------------------------------


class StatusOut(Schema):
    status: str
    at: datetime
    by: str
    by_patient: bool
    reason: str

    @staticmethod
    def resolve_by(obj):
        return str(obj.by)


class PrescriptionOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    rx_number: str
    patient: uuid.UUID
    preparation: uuid.UUID
    preparation_name: str
    prescriber_name: str
    prescriber_npi: str
    prescriber_licence: str
    written_on: date
    start_on: date
    last_day: date
    times: dict[str, str]
    sites: list[str]
    area: str
    grams_per_application: Decimal | None
    duration_days: int
    refills_authorised: int
    refills_left: int
    directions: str
    follow_up_weeks: list[int]
    reassessment_before_refill: bool
    status: str
    next_refill_due: date | None
    history: list[StatusOut]

    @staticmethod
    def resolve_patient(obj):
        return obj.patient.public_id

    @staticmethod
    def resolve_preparation(obj):
        return obj.preparation.public_id

    @staticmethod
    def resolve_preparation_name(obj):
        return obj.preparation.name

    @staticmethod
    def resolve_times(obj):
        return dict(obj.times)

    @staticmethod
    def resolve_refills_left(obj):
        return services.refills_left(obj, made=getattr(obj, "fills_made", None))

    @staticmethod
    def resolve_history(obj):
        return list(obj.status_changes.all())  # prefetched with who, by _prescriptions


class PrescriptionIn(Schema):
    patient: uuid.UUID
    preparation: uuid.UUID
    written_on: date
    start_on: date
    times: dict[str, str] = Field(
        ..., description='wall-clock times in the patient\'s zone: {"morning": "08:00"}'
    )
    sites: list[str] = []
    area: str = Field("", description="face_and_neck, one_arm, back_of_trunk, ... (or grams)")
    grams_per_application: Decimal | None = Field(None, description="for a spot treatment")
    duration_days: int
    refills_authorised: int
    directions: str = Field(..., description="the sig printed on the label")
    prescriber: uuid.UUID | None = Field(None, description="public id of a prescriber user")
    prescriber_name: str = ""
    prescriber_npi: str = ""
    prescriber_licence: str = ""
    follow_up_weeks: list[int] = DEFAULT_FOLLOW_UP_WEEKS
    reassessment_before_refill: bool = False


class StatusIn(Schema):
    status: str = Field(..., description="active, on_hold, completed or stopped")
    reason: str = ""


class FillOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    rx_number: str
    number: int
    batch: uuid.UUID
    lot_number: str | None
    bud: date | None
    quantity_g: Decimal
    filled_on: date
    days_supply: int
    supply_starts_on: date
    runs_out_on: date
    refill_due_on: date | None
    verified: bool
    verified_at: datetime | None

    @staticmethod
    def resolve_batch(obj):
        return obj.batch.public_id

    @staticmethod
    def resolve_lot_number(obj):
        return obj.batch.lot_number

    @staticmethod
    def resolve_bud(obj):
        return obj.batch.bud


class FillIn(Schema):
    batch: uuid.UUID
    quantity_g: Decimal
    filled_on: date | None = None


class ApplicationOut(Schema):
    key: uuid.UUID
    prescription: uuid.UUID
    slot_on: date | None
    slot: str
    counted: bool
    applied_at: datetime
    skipped: bool
    skip_reason: str
    sites: list[str]
    note: str
    via: str
    recorded_at: datetime

    @staticmethod
    def resolve_prescription(obj):
        return obj.prescription.public_id

    @staticmethod
    def resolve_counted(obj):
        return bool(obj.slot) and not obj.skipped


class ApplicationIn(Schema):
    key: uuid.UUID = Field(..., description="a new random UUID per application: retries reuse it")
    applied_at: datetime | None = Field(None, description="when applied (default: now)")
    slot: str = Field("", description="the slot it satisfies, e.g. evening (default: nearest)")
    on: date | None = Field(None, description="a skip's day")
    skipped: bool = False
    skip_reason: str = Field("", description="irritation, forgot, away or other")
    sites: list[str] = []
    note: str = ""


class SideEffectOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    prescription: uuid.UUID
    kind: str
    severity: str
    onset_on: date
    action: str
    description: str
    lot_number: str | None
    reported_at: datetime
    reported_by_patient: bool
    reviewed: bool
    outcome: str | None

    @staticmethod
    def resolve_prescription(obj):
        return obj.prescription.public_id

    @staticmethod
    def resolve_lot_number(obj):
        return obj.batch.lot_number if obj.batch_id else None

    @staticmethod
    def resolve_reviewed(obj):
        return hasattr(obj, "review")

    @staticmethod
    def resolve_outcome(obj):
        return obj.review.outcome if hasattr(obj, "review") else None


class SideEffectIn(Schema):
    kind: str = Field(..., description="irritation, redness, burning, itching, dryness, ...")
    severity: str = Field(..., description="mild, moderate or severe")
    onset_on: date
    action: str = Field(..., description="continue, reduce_frequency, pause or stop")
    description: str = ""


class ReviewIn(Schema):
    assessment: str
    outcome: str = Field(..., description="ongoing, recovering, resolved, ...")
    resolved_on: date | None = None
    serious: bool = False


def log_application(request, prescription, payload: ApplicationIn, via: str):
    """Both routers' logging: the same service, the same answer to a retried key."""
    logged = services.record_application(
        prescription,
        actor=request.user,
        via=via,
        key=payload.key,
        applied_at=payload.applied_at,
        slot=payload.slot,
        on=payload.on,
        skipped=payload.skipped,
        skip_reason=payload.skip_reason,
        sites=payload.sites,
        note=payload.note,
    )
    return Status(201, logged.application)


def report(request, prescription, payload: SideEffectIn, via: str):
    effect = services.report_side_effect(
        prescription, actor=request.user, via=via, **payload.dict()
    )
    return Status(201, effect)


# --- prescriptions ------------------------------------------------------------------------


def _prescriptions(user):
    """Each with its fills counted and its history (and who) fetched: a list page of them
    reads a fixed number of queries."""
    return (
        visible_to(user, Prescription)
        .select_related("patient", "preparation")
        .annotate(fills_made=Count("fills"))
        .prefetch_related(Prefetch("status_changes", StatusChange.objects.select_related("by")))
    )


@router.get("/prescriptions", response=list[PrescriptionOut], summary="Prescriptions")
@paginate(Pages)
@staff(Perm.VIEW_COURSE)
def list_prescriptions(request, patient: uuid.UUID | None = None, status: str = ""):
    found = _prescriptions(request.user)
    if patient is not None:
        found = found.filter(patient__public_id=patient)
    if status:
        found = found.filter(status=status)
    return found


@router.post("/prescriptions", response={201: PrescriptionOut}, summary="Write a prescription")
@staff(Perm.PRESCRIBE)
def write_prescription(request, payload: PrescriptionIn):
    patient = pick(request, Patient, payload.patient, "patient")
    fields = payload.dict(exclude={"patient", "preparation", "prescriber"})
    prescriber = None
    if payload.prescriber is not None:
        from scarrx.accounts.models import User

        prescriber = User.objects.filter(public_id=payload.prescriber).first()
        if prescriber is None:
            raise ValidationError({"prescriber": "No prescriber with this id."})
    prescription = services.write_prescription(
        actor=request.user,
        patient=patient,
        preparation=pick(request, Preparation, payload.preparation, "preparation"),
        prescriber=prescriber,
        **fields,
    )
    return Status(201, prescription)


@router.get("/prescriptions/{prescription_id}", response=PrescriptionOut, summary="A prescription")
@staff(Perm.VIEW_COURSE)
def get_prescription(request, prescription_id: uuid.UUID):
    return fetch(request, _prescriptions(request.user), prescription_id)


@router.post(
    "/prescriptions/{prescription_id}/status",
    response=PrescriptionOut,
    summary="Hold, resume, complete or stop a course",
)
@staff(Perm.CHANGE_COURSE)
def change_status(request, prescription_id: uuid.UUID, payload: StatusIn):
    prescription = fetch(request, Prescription, prescription_id)
    return services.change_status(
        prescription, actor=request.user, status=payload.status, reason=payload.reason
    )


class TallyOut(Schema):
    scheduled: int
    applied: int
    skipped: int
    missed: int
    percent: Decimal | None
    adherent: bool | None


class WeekOut(TallyOut):
    week: int
    first_day: date
    last_day: date


class PdcOut(Schema):
    start: date
    end: date
    covered_days: int
    period_days: int
    percent: Decimal
    adherent: bool


class AdherenceOut(Schema):
    overall: TallyOut
    weeks: list[WeekOut]
    pdc: PdcOut | None
    not_counted: int
    next_refill_due: date | None
    refills_left: int
    what_next: str


def adherence_of(prescription) -> dict:
    figures = queries.course(prescription)
    return {
        "overall": figures.dose.overall,
        "weeks": list(figures.dose.weeks),
        "pdc": figures.pdc,
        "not_counted": figures.not_counted,
        "next_refill_due": figures.next_refill,
        "refills_left": figures.refills_left,
        "what_next": figures.what_next,
    }


@router.get(
    "/prescriptions/{prescription_id}/adherence",
    response=AdherenceOut,
    summary="A course's adherence: dose-level per week and overall, PDC from fills",
)
@staff(Perm.VIEW_COURSE)
def course_adherence(request, prescription_id: uuid.UUID):
    return adherence_of(fetch(request, Prescription, prescription_id))


# --- fills --------------------------------------------------------------------------------


@router.post(
    "/prescriptions/{prescription_id}/fills",
    response={201: FillOut},
    summary="Dispense a fill from a released batch",
)
@staff(Perm.DISPENSE)
def dispense_fill(request, prescription_id: uuid.UUID, payload: FillIn):
    prescription = fetch(request, Prescription, prescription_id)
    fill = services.dispense_fill(
        prescription,
        actor=request.user,
        batch=pick(request, Batch, payload.batch, "batch"),
        quantity_g=payload.quantity_g,
        filled_on=payload.filled_on,
    )
    return Status(201, fill)


@router.get(
    "/prescriptions/{prescription_id}/fills", response=list[FillOut], summary="A course's fills"
)
@paginate(Pages)
@staff(Perm.VIEW_COURSE)
def list_fills(request, prescription_id: uuid.UUID):
    prescription = fetch(request, Prescription, prescription_id)
    return prescription.fills.select_related("batch", "prescription", "patient")


@router.get("/fills/{fill_id}", response=FillOut, summary="A fill")
@staff(Perm.VIEW_COURSE)
def get_fill(request, fill_id: uuid.UUID):
    return fetch(request, Fill.objects.select_related("batch", "prescription"), fill_id)


@router.post("/fills/{fill_id}/verify", response=FillOut, summary="Verify a fill (pharmacist)")
@staff(Perm.VERIFY_FILL)
def verify_fill(request, fill_id: uuid.UUID):
    return services.verify_fill(fetch(request, Fill, fill_id), actor=request.user)


@router.get("/fills/{fill_id}/label", summary="The prescription label (PDF)")
@staff(Perm.VIEW_COURSE)
def fill_label(request, fill_id: uuid.UUID):
    fill = fetch(request, Fill, fill_id)
    response = HttpResponse(services.fill_label(fill), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{fill.rx_number}-{fill.number}.pdf"'
    return response


# --- applications -------------------------------------------------------------------------


@router.post(
    "/prescriptions/{prescription_id}/applications",
    response={201: ApplicationOut},
    summary="Log an application on the patient's behalf",
)
@staff(Perm.LOG_APPLICATION)
def log_for_patient(request, prescription_id: uuid.UUID, payload: ApplicationIn):
    course = fetch(request, Prescription.objects.select_related("patient"), prescription_id)
    return log_application(request, course, payload, Via.API)


@router.get(
    "/prescriptions/{prescription_id}/applications",
    response=list[ApplicationOut],
    summary="A course's logged applications",
)
@paginate(Pages)
@staff(Perm.VIEW_COURSE)
def list_applications(request, prescription_id: uuid.UUID):
    prescription = fetch(request, Prescription, prescription_id)
    return Application.objects.filter(prescription=prescription).select_related("prescription")


# --- side effects -------------------------------------------------------------------------


@router.post(
    "/prescriptions/{prescription_id}/side-effects",
    response={201: SideEffectOut},
    summary="Report a side effect",
)
@staff(Perm.REPORT_SIDE_EFFECT)
def report_side_effect(request, prescription_id: uuid.UUID, payload: SideEffectIn):
    return report(request, fetch(request, Prescription, prescription_id), payload, Via.API)


@router.get("/side-effects/{side_effect_id}", response=SideEffectOut, summary="A side effect")
@staff(Perm.VIEW_COURSE)
def get_side_effect(request, side_effect_id: uuid.UUID):
    return fetch(request, SideEffect, side_effect_id)


@router.post(
    "/side-effects/{side_effect_id}/review",
    response=SideEffectOut,
    summary="Review a side effect (pharmacist)",
)
@staff(Perm.REVIEW_SIDE_EFFECT)
def review_side_effect(request, side_effect_id: uuid.UUID, payload: ReviewIn):
    effect = fetch(request, SideEffect, side_effect_id)
    services.review_side_effect(effect, actor=request.user, **payload.dict())
    return SideEffect.objects.get(pk=effect.pk)


@router.get(
    "/side-effects/{side_effect_id}/medwatch",
    summary="A side effect's fields for an FDA MedWatch (3500) report",
)
@staff(Perm.VIEW_COURSE)
def side_effect_medwatch(request, side_effect_id: uuid.UUID):
    return queries.medwatch(fetch(request, SideEffect, side_effect_id))


# --- the worklist -------------------------------------------------------------------------


class WorkItemOut(Schema):
    what: str
    patient: uuid.UUID | None
    patient_name: str
    due: date | None
    detail: str
    url: str
    late: bool

    @staticmethod
    def resolve_patient(obj):
        return obj.patient.public_id if obj.patient else None


class SectionOut(Schema):
    key: str
    title: str
    count: int
    capped: bool = Field(description="more than `count` (the count stops at 1,000)")
    items: list[WorkItemOut]


@router.get("/worklist", response=list[SectionOut], summary="The pharmacy worklist")
@staff(Perm.VIEW_COURSE)
def worklist(request):
    from scarrx.treatment.worklist import items_of

    sections = queries.worklist(request.user)
    return [
        {
            "key": s.key,
            "title": s.title,
            "count": s.count,
            "capped": s.capped,
            "items": items_of(request, s),
        }
        for s in sections
    ]
