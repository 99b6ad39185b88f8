"""The assessments app's part of the patient file (scarrx.patientfile)."""

from __future__ import annotations

from datetime import date

from django.template.loader import render_to_string
from django.urls import reverse

from scarrx.access import visible_to
from scarrx.accounts.roles import Perm
from scarrx.assessments.models import ScarAssessment
from scarrx.patientfile import BOTH, Event


def _current(user, patient):
    return visible_to(user, ScarAssessment).filter(patient=patient, is_current=True)


def panel(request, patient) -> str | None:
    if not request.user.has_perm(Perm.VIEW_ASSESSMENT):
        return None
    return render_to_string(
        "assessments/_panel.html",
        {
            "patient": patient,
            "assessments": _current(request.user, patient).select_related("assessor"),
            "can_add": request.user.has_perm(Perm.ADD_ASSESSMENT),
        },
        request=request,
    )


def summary(a: ScarAssessment) -> str:
    """One line in plain words: the timepoint and the scores recorded."""
    parts = []
    if a.gb_no_scarring or a.gb_qualitative is not None:
        parts.append(f"Goodman & Baron {a.gb_qualitative_label}")
    if a.gb_quantitative is not None:
        parts.append(f"quantitative {a.gb_quantitative}")
    if a.ecca is not None:
        parts.append(f"ECCA {a.ecca}")
    if a.bother is not None:
        parts.append(f"bother {a.bother}/10")
    text = f"{a.get_timepoint_display()} assessment"
    if parts:
        text += ": " + ", ".join(parts)
    return text + (" (amended)" if a.amends_id else "")


def events(user, patient):
    for a in _current(user, patient):
        yield Event(
            on=a.assessed_on,
            at=a.signed_at,
            kind="assessment",
            summary=summary(a),
            url=reverse("assessment-detail", args=[a.public_id]),
            audience=BOTH,
        )


def earliest_date(patient) -> date | None:
    current = patient.assessments.filter(is_current=True).order_by("assessed_on")
    return current.values_list("assessed_on", flat=True).first()
