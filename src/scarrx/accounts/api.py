"""Staff directory for API clients: who may be named as a patient's prescriber."""

import uuid

from django.core.exceptions import PermissionDenied
from ninja import Field, Router, Schema

from scarrx.accounts.models import User
from scarrx.accounts.roles import PRESCRIBER, is_staff_role

router = Router(tags=["staff"])


class PrescriberOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    name: str
    licence_number: str

    @staticmethod
    def resolve_name(obj: User):
        return str(obj)


@router.get("/prescribers", response=list[PrescriberOut], summary="Prescribers (for intake)")
def list_prescribers(request):
    if not is_staff_role(request.user):
        raise PermissionDenied("Only pharmacy staff may list prescribers.")
    return User.objects.filter(groups__name=PRESCRIBER, is_active=True).order_by("last_name")
