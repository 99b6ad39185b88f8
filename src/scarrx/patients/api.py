"""Patients through the API: register, list (with search), retrieve, amend, consents,
portal login."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StrictInt, create_model

from scarrx.access import fetch, patients_visible_to, staff
from scarrx.accounts.roles import Perm
from scarrx.audit.services import record_read
from scarrx.pagination import Pages
from scarrx.patients import services
from scarrx.patients.models import (
    AcneSeverity,
    ConsentKind,
    Patient,
    Pregnancy,
    PriorTreatment,
    Sex,
)

router = Router(tags=["patients"])

SexValue = Literal[tuple(Sex.values)]  # type: ignore[valid-type]
PregnancyValue = Literal[tuple(Pregnancy.values)]  # type: ignore[valid-type]
AcneValue = Literal[tuple(AcneSeverity.values)]  # type: ignore[valid-type]
TreatmentValue = Literal[tuple(PriorTreatment.values)]  # type: ignore[valid-type]
ConsentValue = Literal[tuple(ConsentKind.values)]  # type: ignore[valid-type]


class ConsentIn(Schema):
    kind: ConsentValue
    granted: bool
    given_on: date
    note: str = ""


class ConsentOut(Schema):
    kind: str
    granted: bool
    given_on: date
    recorded_by: str
    recorded_at: datetime


class PatientIn(Schema):
    """Limits (lengths, ranges) are the model's and the service's, reported by field."""

    given_name: str
    family_name: str
    date_of_birth: date
    sex: SexValue
    phone: str = ""
    email: str = ""
    address: str = ""
    time_zone: str = Field(
        "", description="IANA zone, e.g. America/Chicago; blank for the pharmacy's"
    )
    guardian_name: str = ""
    guardian_relationship: str = ""
    fitzpatrick: StrictInt = Field(..., description="Self-reported phototype I–VI as 1–6")
    pregnancy_status: PregnancyValue = "unknown"
    pregnancy_status_on: date | None = None
    allergies: str = ""
    current_medicines: str = ""
    isotretinoin_last_6_months: bool = False
    anticoagulants: bool = False
    acne_severity: AcneValue = "none"
    acne_onset_age: StrictInt | None = None
    active_acne: bool = False
    cystic_acne: bool = False
    prior_treatments: list[TreatmentValue] = []
    prior_treatment_notes: str = ""
    prescriber: uuid.UUID | None = Field(None, description="public id of a prescriber user")
    consents: list[ConsentIn] = Field([], description="decisions made at intake, each kind once")
    duplicate_reason: str = Field(
        "", description="why this is a new patient, when a possible duplicate is found (422)"
    )


# The same fields, each optional: only those sent are changed; `reason` says why, and
# `duplicate_reason` why it is someone else when the change makes the record look like
# another patient's (422 without it, as at intake).
PatientChange = create_model(
    "PatientChange",
    __base__=Schema,
    reason=(str, ""),
    duplicate_reason=(
        str,
        Field("", description=PatientIn.model_fields["duplicate_reason"].description),
    ),
    **{
        name: (field.annotation | None, None)
        for name, field in PatientIn.model_fields.items()
        if name not in ("consents", "duplicate_reason")
    },
)


class PatientSummary(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    record_number: str
    given_name: str
    family_name: str
    date_of_birth: date
    fitzpatrick: int


class PatientOut(PatientSummary):
    sex: str
    phone: str
    email: str
    address: str
    time_zone: str
    guardian_name: str
    guardian_relationship: str
    pregnancy_status: str
    pregnancy_status_on: date | None
    allergies: str
    current_medicines: str
    isotretinoin_last_6_months: bool
    anticoagulants: bool
    acne_severity: str
    acne_onset_age: int | None
    active_acne: bool
    cystic_acne: bool
    prior_treatments: list[str]
    prior_treatment_notes: str
    prescriber: uuid.UUID | None
    consents: list[ConsentOut]
    created_at: datetime

    @staticmethod
    def resolve_prescriber(obj: Patient):
        return obj.prescriber.public_id if obj.prescriber_id else None

    @staticmethod
    def resolve_consents(obj: Patient):
        return [
            {
                "kind": c.kind,
                "granted": c.granted,
                "given_on": c.given_on,
                "recorded_by": str(c.recorded_by),
                "recorded_at": c.recorded_at,
            }
            for c in services.current_consents(obj).values()
            if c is not None
        ]


@router.post("", response={201: PatientOut}, summary="Register a patient (intake)")
@staff(Perm.ADD_PATIENT)
def register_patient(request, payload: PatientIn):
    fields = payload.dict(exclude={"consents"})
    consents = [c.dict() for c in payload.consents]
    patient = services.register_patient(actor=request.user, consents=consents, **fields)
    record_read(request, patient)
    return Status(201, patient)


@router.get("", response=list[PatientSummary], summary="List patients you may see (search with q)")
@paginate(Pages)
@staff(Perm.VIEW_PATIENT)
def list_patients(request, q: str = ""):
    patients = patients_visible_to(request.user)
    return services.search_patients(patients, q) if q else patients


@router.get("/{patient_id}", response=PatientOut, summary="Retrieve a patient")
@staff(Perm.VIEW_PATIENT)
def get_patient(request, patient_id: uuid.UUID):
    return fetch(request, Patient, patient_id)


@router.patch("/{patient_id}", response=PatientOut, summary="Amend a patient's record")
@staff(Perm.CHANGE_PATIENT)
def update_patient(request, patient_id: uuid.UUID, payload: PatientChange):
    patient = fetch(request, Patient, patient_id)
    changes = payload.dict(exclude_unset=True)
    reason = changes.pop("reason", "")
    return services.update_patient(patient, actor=request.user, reason=reason, **changes)


@router.post(
    "/{patient_id}/consents", response={201: PatientOut}, summary="Record a consent decision"
)
@staff(Perm.ADD_CONSENT)
def record_consent(request, patient_id: uuid.UUID, payload: ConsentIn):
    patient = fetch(request, Patient, patient_id)
    services.record_consent(patient=patient, actor=request.user, **payload.dict())
    return Status(201, patient)


class PortalLoginIn(Schema):
    username: str


@router.post(
    "/{patient_id}/portal-login",
    response=PatientOut,
    summary="Link a patient-role login to this record (their portal access)",
)
@staff(Perm.CHANGE_PATIENT)
def link_portal_login(request, patient_id: uuid.UUID, payload: PortalLoginIn):
    patient = fetch(request, Patient, patient_id)
    return services.link_portal_account(patient, username=payload.username, actor=request.user)
