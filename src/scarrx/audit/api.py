"""A patient's audit trail through the API: who read it and what changed, in words."""

import uuid
from datetime import datetime

from ninja import Router, Schema
from ninja.pagination import paginate

from scarrx.access import fetch, staff
from scarrx.accounts.roles import Perm
from scarrx.audit.codes import read_label
from scarrx.audit.models import AccessRecord, ChangeRecord
from scarrx.audit.words import change_lines, change_title
from scarrx.pagination import Pages
from scarrx.patients.models import Patient

router = Router(tags=["audit"])


class AccessOut(Schema):
    at: datetime
    user: str | None
    what: str
    label: str
    path: str
    ip: str | None
    via: str

    @staticmethod
    def resolve_user(obj):
        return obj.user.username if obj.user_id else None

    @staticmethod
    def resolve_label(obj):
        return read_label(obj.what)


class ChangeOut(Schema):
    at: datetime
    actor: str | None
    action: str
    label: str
    object_type: str
    object_id: str
    summary: str
    changes: list[str]
    data: dict
    reason: str

    @staticmethod
    def resolve_actor(obj):
        return obj.actor.username if obj.actor_id else None

    @staticmethod
    def resolve_label(obj):
        return change_title(obj)

    @staticmethod
    def resolve_changes(obj):
        return change_lines(obj)


@router.get("/patients/{patient_id}/access", response=list[AccessOut], summary="Who saw a patient")
@paginate(Pages)
@staff(Perm.VIEW_ACCESS_RECORD)
def patient_access(request, patient_id: uuid.UUID):
    patient = fetch(request, Patient, patient_id)
    return AccessRecord.objects.filter(patient=patient).select_related("user", "patient")


@router.get("/patients/{patient_id}/changes", response=list[ChangeOut], summary="Change history")
@paginate(Pages)
@staff(Perm.VIEW_CHANGE_RECORD)
def patient_changes(request, patient_id: uuid.UUID):
    patient = fetch(request, Patient, patient_id)
    return ChangeRecord.objects.filter(patient=patient).select_related("actor", "patient")
