import uuid
from datetime import datetime

from ninja import Router, Schema
from ninja.pagination import paginate

from scarrx.audit.access import patient_history_for
from scarrx.audit.services import record_access

router = Router(tags=["audit"])


class AccessOut(Schema):
    at: datetime
    user: str | None
    what: str
    path: str
    ip: str | None
    via: str

    @staticmethod
    def resolve_user(obj):
        return obj.user.username if obj.user_id else None


class ChangeOut(Schema):
    at: datetime
    actor: str | None
    action: str
    object_type: str
    object_id: str
    summary: str
    data: dict
    reason: str

    @staticmethod
    def resolve_actor(obj):
        return obj.actor.username if obj.actor_id else None


@router.get("/patients/{patient_id}/access", response=list[AccessOut], summary="Who saw a patient")
@paginate
def patient_access(request, patient_id: uuid.UUID):
    patient, accesses, _ = patient_history_for(request.user, patient_id)
    record_access(request, what="api.audit.access", patient=patient, via="api")
    return accesses


@router.get("/patients/{patient_id}/changes", response=list[ChangeOut], summary="Change history")
@paginate
def patient_changes(request, patient_id: uuid.UUID):
    patient, _, changes = patient_history_for(request.user, patient_id)
    record_access(request, what="api.audit.changes", patient=patient, via="api")
    return changes
