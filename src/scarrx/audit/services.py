"""Writing the audit trail. Called inside the operation's own transaction."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from scarrx.audit.codes import CHANGES
from scarrx.audit.models import AccessRecord, ChangeRecord
from scarrx.text import text_errors


def client_ip(request) -> str | None:
    raw = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def _reader(request):
    return request.user if getattr(request.user, "is_authenticated", False) else None


def record_reads(request, patients) -> None:
    """Record that request.user was shown these patients' data: one row per patient (a
    list or a search too, so each patient's own history says who saw them), under the
    route's name (`request.route`, set by the route's access declaration). A patient
    already recorded by this request is not recorded twice; an empty list is recorded
    once, with no patient, so a search that found nobody still shows in the trail."""
    what = getattr(request, "route", None)
    if what is None:
        raise RuntimeError("record_reads outside a declared route: wrap the view in scarrx.access")
    seen = request.__dict__.setdefault("_scarrx_reads", set())
    user, path, ip = _reader(request), request.get_full_path()[:500], client_ip(request)
    via = "api" if what.startswith("api:") else "web"
    rows = []
    for patient in patients:
        if patient.pk not in seen:
            seen.add(patient.pk)
            rows.append(
                AccessRecord(user=user, patient=patient, what=what, path=path, ip=ip, via=via)
            )
    if not rows and not seen:
        seen.add(None)
        rows = [AccessRecord(user=user, patient=None, what=what, path=path, ip=ip, via=via)]
    AccessRecord.objects.bulk_create(rows)


def record_read(request, patient) -> None:
    record_reads(request, [patient])


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
    if action not in CHANGES:
        raise ValueError(f"Unregistered audit action {action!r}: add it to audit/codes.py")
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


def reason_errors(reason: object) -> dict[str, list[str]]:
    """What is wrong with the reason given for a change (kept in its ChangeRecord)."""
    return text_errors(ChangeRecord, {"reason": reason})


def diff(before: dict, after: dict) -> dict:
    """The fields that changed, as {field: [old, new]}."""
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}
