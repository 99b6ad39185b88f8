"""Side effects: reported by the patient or staff, reviewed by a pharmacist."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from scarrx.access import require
from scarrx.accounts.roles import Perm
from scarrx.audit.services import record_change
from scarrx.pharmacy.services.common import today
from scarrx.problems import Problems
from scarrx.treatment.models import (
    Action,
    Fill,
    Kind,
    Outcome,
    Prescription,
    Review,
    Severity,
    SideEffect,
    Via,
)
from scarrx.treatment.services.checks import choice, typed


def _onset(onset_on, prescription: Prescription) -> None:
    if not isinstance(onset_on, date):
        raise ValidationError({"onset_on": "Enter the date it began."})
    if onset_on > today():
        raise ValidationError({"onset_on": "The date it began cannot be in the future."})
    if onset_on < prescription.written_on:
        raise ValidationError({"onset_on": "This is before the course was prescribed."})


def _resolution(outcome: str, resolved_on, effect: SideEffect) -> None:
    resolved = outcome in (Outcome.RESOLVED, Outcome.RESOLVED_WITH_SEQUELAE)
    if resolved and resolved_on is None:
        raise ValidationError({"resolved_on": "Give the day it resolved."})
    if resolved_on is not None:
        if not resolved:
            raise ValidationError({"resolved_on": "Only a resolved side effect has this date."})
        if resolved_on > today() or resolved_on < effect.onset_on:
            raise ValidationError(
                {"resolved_on": "Give a day from when it began to today, not later."}
            )


def fill_in_use(prescription: Prescription, on: date) -> Fill | None:
    """The fill whose supply was in use on a day: the latest filled by then."""
    return prescription.fills.filter(filled_on__lte=on).order_by("-number").first()


@transaction.atomic
def report_side_effect(
    prescription: Prescription,
    *,
    actor,
    via: str,
    kind: str,
    severity: str,
    onset_on: date,
    action: str,
    description: str = "",
) -> SideEffect:
    """A side effect of the course, tied to the fill (and so the batch lot) in use when
    it began. A pharmacist reviews it from the worklist."""
    patient = prescription.patient
    require(actor, Perm.REPORT_SIDE_EFFECT, patient)
    problems = Problems()
    kind = problems.check(choice, kind, "kind", Kind)
    severity = problems.check(choice, severity, "severity", Severity)
    action = problems.check(choice, action, "action", Action)
    problems.check(_onset, onset_on, prescription)
    description = problems.check(typed, SideEffect, "description", description)
    if kind == Kind.OTHER and description == "":
        problems.add({"description": ["Say what happened."]})
    problems.refuse()  # every field at fault, at once
    fill = fill_in_use(prescription, onset_on)
    effect = SideEffect.objects.create(
        patient=patient,
        prescription=prescription,
        fill=fill,
        batch=fill.batch if fill else None,
        kind=kind,
        description=description,
        severity=severity,
        onset_on=onset_on,
        action=action,
        reported_by=actor,
        via=via if via in Via.values else Via.API,
    )
    lot = f", lot {fill.batch.lot_number}" if fill else ""
    record_change(
        actor=actor,
        action="side_effect.reported",
        obj=effect,
        summary=f"{effect.get_kind_display()} ({severity}) from {onset_on}{lot}: "
        f"{effect.get_action_display().lower()}",
        data={"kind": kind, "severity": severity, "action": action, "via": effect.via},
    )
    return effect


@transaction.atomic
def review_side_effect(
    effect: SideEffect,
    *,
    actor,
    assessment: str,
    outcome: str,
    resolved_on: date | None = None,
    serious: bool = False,
) -> Review:
    """A pharmacist's review: their assessment, the outcome so far, whether it is serious
    (to report to FDA MedWatch)."""
    require(actor, Perm.REVIEW_SIDE_EFFECT, effect.patient)
    effect = SideEffect.objects.select_for_update().get(pk=effect.pk)
    if Review.objects.filter(side_effect=effect).exists():
        raise ValidationError({"__all__": "This side effect is reviewed already."})
    problems = Problems()
    assessment = problems.check(typed, Review, "assessment", assessment)
    if assessment == "":
        problems.add({"assessment": ["Write your assessment."]})
    outcome = problems.check(choice, outcome, "outcome", Outcome)
    if outcome is not None:
        problems.check(_resolution, outcome, resolved_on, effect)
    problems.refuse()  # every field at fault, at once
    review = Review.objects.create(
        side_effect=effect,
        by=actor,
        assessment=assessment,
        outcome=outcome,
        resolved_on=resolved_on,
        serious=bool(serious),
    )
    record_change(
        actor=actor,
        action="side_effect.reviewed",
        obj=effect,
        summary=f"{effect.get_kind_display()} reviewed: {review.get_outcome_display().lower()}"
        + (" (serious)" if serious else ""),
        data={"outcome": outcome, "resolved_on": resolved_on, "serious": bool(serious)},
    )
    return review
