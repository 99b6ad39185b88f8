"""Writing the audit trail. Called inside the operation's own transaction."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from scarrx.audit.models import AccessRecord, ChangeRecord


def client_ip(request) -> str | None:
    raw = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def record_access(request, *, what: str, patient=None, via: str = "web") -> AccessRecord:
    """Record that request.user was shown patient data."""
    user = request.user if getattr(request.user, "is_authenticated", False) else None
    return AccessRecord.objects.create(
        user=user,
        patient=patient,
        what=what,
        path=request.get_full_path()[:500],
        ip=client_ip(request),
        via=via,
    )


def record_list_access(request, *, what: str, patients, via: str = "web") -> None:
    """A list shows several patients' names: one access row for each patient shown, so
    each patient's own history says who saw them in a list or a search."""
    user = request.user if getattr(request.user, "is_authenticated", False) else None
    path, ip = request.get_full_path()[:500], client_ip(request)
    rows = [
        AccessRecord(user=user, patient=p, what=what, path=path, ip=ip, via=via) for p in patients
    ]
    if not rows:
        rows = [AccessRecord(user=user, patient=None, what=what, path=path, ip=ip, via=via)]
    AccessRecord.objects.bulk_create(rows)


def _jsonable(value: Any) -> Any:
    """Dates, Decimals and UUIDs as strings, so the record reads the same on any database."""
    import json

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _patient_of(obj):
    from scarrx.patients.models import Patient

    if isinstance(obj, Patient):
        return obj
    return getattr(obj, "patient", None)


def record_change(
    *,
    actor,
    action: str,
    obj,
    data: dict | None = None,
    summary: str = "",
    reason: str = "",
    patient=None,
) -> ChangeRecord:
    object_id = getattr(obj, "public_id", None) or obj.pk
    return ChangeRecord.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        patient=patient or _patient_of(obj),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(object_id),
        summary=summary[:300],
        data=_jsonable(data or {}),
        reason=reason,
    )


def diff(before: dict, after: dict) -> dict:
    """The fields that changed, as {field: [old, new]}."""
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}
