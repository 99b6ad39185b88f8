"""The pharmacy's part of the patient file (scarrx.patientfile): the preparations panel,
timeline events (preparation derived, batch released, safety override), and the earliest
date (the first preparation); and after the patient's record changes, the safety screens
of their preparations again."""

from __future__ import annotations

from datetime import date

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from scarrx.access import visible_to
from scarrx.accounts.roles import Perm
from scarrx.patientfile import ASSESSMENTS, BOTH, STAFF, Event
from scarrx.pharmacy.models import Batch, BatchState, BatchStatus, Preparation, SafetyOverride


def _preparations(user, patient):
    return (
        visible_to(user, Preparation)
        .filter(patient=patient)
        .select_related("formulation")
        .prefetch_related(
            Prefetch("batches", queryset=Batch.objects.order_by("-started_at")),
            "warnings__override__by",
        )
    )


def panel(request, patient) -> str | None:
    user = request.user
    if not user.has_perm(Perm.VIEW_PREPARATION):
        return None
    return render_to_string(
        "pharmacy/_panel.html",
        {
            "patient": patient,
            "preparations": _preparations(user, patient),
            "can_add": user.has_perm(Perm.ADD_PREPARATION),
        },
        request=request,
    )


def events(user, patient):
    for p in visible_to(user, Preparation).filter(patient=patient).select_related("formulation"):
        yield Event(
            on=timezone.localdate(p.created_at),
            at=p.created_at,
            kind="preparation",
            summary=f"Preparation: {p.name}",
            url=reverse("preparation-detail", args=[p.public_id]),
            audience=BOTH,
        )
    released = visible_to(user, BatchState).filter(
        batch__patient=patient, state=BatchStatus.RELEASED
    )
    for s in released.select_related("batch"):
        yield Event(
            on=timezone.localdate(s.at),
            at=s.at,
            kind="batch",
            summary=f"Batch {s.batch.label} released, use by {s.batch.bud:%-d %b %Y}",
            url=reverse("batch-detail", args=[s.batch.public_id]),
            audience=BOTH,
        )
    overrides = visible_to(user, SafetyOverride).filter(warning__preparation__patient=patient)
    for o in overrides.select_related("warning__preparation", "by"):
        yield Event(
            on=timezone.localdate(o.at),
            at=o.at,
            kind="safety",
            summary=f"Safety warning overridden by {o.by}: {o.warning.message} ({o.reason})",
            url=reverse("preparation-detail", args=[o.warning.preparation.public_id]),
            audience=STAFF,
        )


def earliest_date(patient) -> date | None:
    first = patient.preparations.order_by("created_at").values_list("created_at", flat=True)
    at = first.first()
    return timezone.localdate(at) if at else None


# What the safety screens read from the patient's record (services.patient_facts): its
# fields, and the current assessments' scars (a recent surgical or trauma scar).
SCREENED_FIELDS = frozenset({"pregnancy_status", "allergies", "sex", "date_of_birth", ASSESSMENTS})


def record_changed(actor, patient, fields: frozenset[str]) -> None:
    """A new warning blocks the patient's next batch, prescription or fill until a
    pharmacist overrides it (clinical.md §7 screens, on the record as it is now)."""
    if fields & SCREENED_FIELDS:
        from scarrx.pharmacy.services import screen_patient_again

        screen_patient_again(patient, actor=actor)
