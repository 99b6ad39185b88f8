"""The photos app's part of the patient file (scarrx.patientfile)."""

from __future__ import annotations

from datetime import date

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from scarrx.access import visible_to
from scarrx.accounts.roles import Perm
from scarrx.patientfile import BOTH, STAFF, Event
from scarrx.photos.figures import signed_text
from scarrx.photos.models import Measurement, Photo
from scarrx.photos.services import photo_consent


def panel(request, patient) -> str | None:
    user = request.user
    if not user.has_perm(Perm.VIEW_PHOTO):
        return None
    comparisons = visible_to(user, Measurement).filter(
        photo__patient=patient, baseline__isnull=False, is_current=True
    )
    return render_to_string(
        "photos/_panel.html",
        {
            "patient": patient,
            "photos": visible_to(user, Photo).filter(patient=patient),
            "comparisons": comparisons.select_related("photo", "baseline__photo"),
            "photo_consent": photo_consent(patient),
            "can_add": user.has_perm(Perm.ADD_PHOTO),
        },
        request=request,
    )


def events(user, patient):
    for photo in visible_to(user, Photo).filter(patient=patient):
        state = "calibrated" if photo.calibrated else "not calibrated"
        yield Event(
            on=timezone.localdate(photo.taken_at),
            at=photo.taken_at,
            kind="photo",
            summary=f"Photo of {photo.get_site_display().lower()} "
            f"({photo.get_view_display()}), {state}",
            url=reverse("photo-detail", args=[photo.public_id]),
            audience=BOTH,
        )
    aligned = visible_to(user, Measurement).filter(
        photo__patient=patient, baseline__isnull=False, is_current=True
    )
    for m in aligned.select_related("photo", "baseline__photo"):
        change = ((m.result or {}).get("difference") or {}).get("a_star")
        base = ((m.baseline.result or {}).get("difference") or {}).get("a_star")
        words = f"{m.photo.get_site_display()} compared with the baseline of " + (
            f"{timezone.localdate(m.baseline.photo.taken_at):%-d %b %Y}"
        )
        if change is not None and base is not None:
            words += f": scar − reference a* {signed_text(change - base)}"
        yield Event(
            on=timezone.localdate(m.photo.taken_at),
            at=m.measured_at,
            kind="measurement",
            summary=words,
            url=reverse("photo-compare", args=[m.public_id]),
            audience=STAFF,
        )


def earliest_date(patient) -> date | None:
    first = patient.photos.order_by("taken_at").values_list("taken_at", flat=True).first()
    return timezone.localdate(first) if first else None
