"""The patients app's part of the patient file (scarrx.patientfile): history and
consents panel, registration and consent events, the earliest consent date."""

from __future__ import annotations

from datetime import date

from django.template.loader import render_to_string
from django.utils import timezone

from scarrx.access import visible_to
from scarrx.accounts.roles import Perm
from scarrx.patientfile import BOTH, STAFF, Event
from scarrx.patients.forms import ConsentForm
from scarrx.patients.models import Consent, ConsentKind
from scarrx.patients.services import consent_history, latest_decisions


def panel(request, patient) -> str:
    decisions = latest_decisions(patient)
    return render_to_string(
        "patients/_panel.html",
        {
            "patient": patient,
            "consents": [(ConsentKind(k).label, *d) for k, d in decisions.items()],
            "consent_form": ConsentForm() if request.user.has_perm(Perm.ADD_CONSENT) else None,
        },
        request=request,
    )


def events(user, patient):
    if visible_to(user, type(patient)).filter(pk=patient.pk).exists():
        yield Event(
            on=timezone.localdate(patient.created_at),
            at=patient.created_at,
            kind="registration",
            summary=f"Registered as {patient.record_number}",
            audience=STAFF,
        )
    consents = visible_to(user, Consent).filter(patient=patient)
    for consent, verb in consent_history(consents):
        yield Event(
            on=consent.given_on,
            at=consent.recorded_at,
            kind="consent",
            summary=f"Consent to {consent.get_kind_display().lower()} {verb}",
            audience=BOTH,
        )


def earliest_date(patient) -> date | None:
    return patient.consents.order_by("given_on").values_list("given_on", flat=True).first()
