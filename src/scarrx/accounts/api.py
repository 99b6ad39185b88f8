"""Staff directory for API clients: who may be named as a patient's prescriber."""

import uuid

from ninja import Field, Router, Schema
from ninja.pagination import paginate

from scarrx.access import staff
from scarrx.accounts.models import User
from scarrx.accounts.roles import PRESCRIBER
from scarrx.pagination import Pages

router = Router(tags=["staff"])


class PrescriberOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    name: str
    licence_number: str

    @staticmethod
    def resolve_name(obj: User):
        return str(obj)


@router.get("/prescribers", response=list[PrescriberOut], summary="Prescribers (for intake)")
@paginate(Pages)
@staff()
def list_prescribers(request):
    return User.objects.filter(groups__name=PRESCRIBER, is_active=True).order_by("last_name")
