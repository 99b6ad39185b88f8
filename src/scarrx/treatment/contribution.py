"""The course's part of the patient file (scarrx.patientfile): its panel, and timeline
events — prescriptions and their status changes, fills, side effects and their reviews,
follow-ups done, and applications summarised in one row a week."""

from __future__ import annotations

from datetime import date

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from scarrx.access import visible_to
from scarrx.accounts.roles import Perm
from scarrx.patientfile import BOTH, STAFF, Event
from scarrx.treatment.models import Fill, Prescription, SideEffect, StatusChange
from scarrx.treatment.queries import course, weekly_applications
from scarrx.treatment.services.prescriptions import VERBS
from scarrx.values import number_text


def panel(request, patient) -> str | None:
    user = request.user
    if not user.has_perm(Perm.VIEW_COURSE):
        return None
    prescriptions = (
        visible_to(user, Prescription)
        .filter(patient=patient)
        .select_related("preparation", "patient")
    )
    return render_to_string(
        "treatment/_panel.html",
        {
            "patient": patient,
            "courses": [course(rx) for rx in prescriptions],
            "can_prescribe": user.has_perm(Perm.PRESCRIBE),
        },
        request=request,
    )


def events(user, patient):
    prescriptions = list(visible_to(user, Prescription).filter(patient=patient))
    for rx in prescriptions:
        url = reverse("prescription-detail", args=[rx.public_id])
        yield Event(
            on=rx.written_on,
            kind="prescription",
            summary=f"Prescription {rx.rx_number}: {rx.directions}",
            url=url,
            audience=BOTH,
        )
        for week, first, last, applied, skipped in weekly_applications(rx):
            due = rx.slots_between(first, last)
            yield Event(
                on=last,
                kind="applications",
                summary=f"Week {week}: {applied} of {due} applications logged"
                + (f", {skipped} skipped" if skipped else ""),
                url=url,
                audience=BOTH,
            )
    changes = visible_to(user, StatusChange).filter(prescription__patient=patient)
    for change in changes.exclude(reason="Written").select_related("prescription"):
        words = VERBS[change.status]
        yield Event(
            on=timezone.localdate(change.at),
            at=change.at,
            kind="prescription",
            summary=f"Course {change.prescription.rx_number} {words}"
            + (" at the patient's request" if change.by_patient else ""),
            url=reverse("prescription-detail", args=[change.prescription.public_id]),
            audience=BOTH,
        )
    for fill in (
        visible_to(user, Fill).filter(patient=patient).select_related("batch", "prescription")
    ):
        yield Event(
            on=fill.filled_on,
            at=fill.dispensed_at,
            kind="fill",
            summary=f"{'Refill' if fill.is_refill else 'First fill'} of {fill.rx_number}: "
            f"{number_text(fill.quantity_g)} g, {fill.days_supply} days (lot "
            f"{fill.batch.lot_number})",
            url=reverse("fill-detail", args=[fill.public_id]),
            audience=BOTH,
        )
    effects = visible_to(user, SideEffect).filter(patient=patient).select_related("review")
    for effect in effects:
        url = reverse("side-effect-detail", args=[effect.public_id])
        yield Event(
            on=effect.onset_on,
            at=effect.reported_at,
            kind="side_effect",
            summary=f"Side effect: {effect.get_kind_display().lower()} ({effect.severity})",
            url=url,
            audience=BOTH,
        )
        review = getattr(effect, "review", None)
        if review is not None:
            yield Event(
                on=timezone.localdate(review.at),
                at=review.at,
                kind="side_effect",
                summary=f"Side effect reviewed: {review.get_outcome_display().lower()}",
                url=url,
                audience=STAFF,
            )


def earliest_date(patient) -> date | None:
    first = patient.prescriptions.order_by("written_on").values_list("written_on", flat=True)
    return first.first()
