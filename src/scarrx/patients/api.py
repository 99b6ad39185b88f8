"""Patients through the API: register, list (with search), retrieve."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictInt

from scarrx.accounts.models import User
from scarrx.audit.services import record_access, record_list_access
from scarrx.pagination import MAX_LIMIT
from scarrx.patients import services
from scarrx.patients.access import get_patient_for, patients_visible_to, search_patients
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
    note: str = Field("", max_length=300)


class ConsentOut(Schema):
    kind: str
    granted: bool
    given_on: date
    recorded_by: str
    recorded_at: datetime


class PatientIn(Schema):
    given_name: str = Field(..., min_length=1, max_length=100)
    family_name: str = Field(..., min_length=1, max_length=100)
    date_of_birth: date
    sex: SexValue
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    address: str = ""
    guardian_name: str = Field("", max_length=200)
    guardian_relationship: str = Field("", max_length=60)
    fitzpatrick: StrictInt = Field(
        ..., ge=1, le=6, description="Self-reported phototype I–VI as 1–6"
    )
    pregnancy_status: PregnancyValue = "unknown"
    pregnancy_status_on: date | None = None
    allergies: str = ""
    current_medicines: str = ""
    isotretinoin_last_6_months: bool = False
    anticoagulants: bool = False
    acne_severity: AcneValue = "none"
    acne_onset_age: StrictInt | None = Field(None, ge=0, le=120)
    active_acne: bool = False
    cystic_acne: bool = False
    prior_treatments: list[TreatmentValue] = []
    prior_treatment_notes: str = ""
    prescriber: uuid.UUID | None = Field(None, description="public id of a prescriber user")
    consents: list[ConsentIn] = []


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


def _prescriber(public_id: uuid.UUID | None) -> User | None:
    if public_id is None:
        return None
    user = User.objects.filter(public_id=public_id).first()
    if user is None:
        raise ValidationError({"prescriber": "No prescriber with this id."})
    return user


@router.post("", response={201: PatientOut}, summary="Register a patient (intake)")
def register_patient(request, payload: PatientIn):
    if not request.user.has_perm("patients.add_patient"):
        raise PermissionDenied("Only pharmacists and technicians register patients.")
    fields = payload.dict(exclude={"consents", "prescriber"})
    consents = [c.dict() for c in payload.consents]
    patient = services.register_patient(
        actor=request.user, consents=consents, prescriber=_prescriber(payload.prescriber), **fields
    )
    record_access(request, what="api.patient.detail", patient=patient, via="api")
    return Status(201, patient)


class PatientPage(Schema):
    items: list[PatientSummary]
    count: int


@router.get("", response=PatientPage, summary="List patients you may see (search with q)")
def list_patients(
    request,
    q: str = "",
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=2**31 - 1),
):
    patients = patients_visible_to(request.user)
    if q:
        patients = search_patients(patients, q)
    items = list(patients[offset : offset + limit])
    record_list_access(request, what="api.patient.list", patients=items, via="api")
    return {"items": items, "count": patients.count()}


@router.get("/{patient_id}", response=PatientOut, summary="Retrieve a patient")
def get_patient(request, patient_id: uuid.UUID):
    patient = get_patient_for(request.user, patient_id)
    record_access(request, what="api.patient.detail", patient=patient, via="api")
    return patient
