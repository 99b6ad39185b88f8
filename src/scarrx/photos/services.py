"""Operations on photos: upload (clean, store privately, calibrate), measure regions,
carry regions over to a follow-up by alignment. The only writer of Photo/Measurement.

Image work is done by the pure `scarrx.imaging` package; its ImagingError becomes a
ValidationError naming the field, with nothing stored.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from scarrx import imaging
from scarrx.assessments.models import ScarAssessment, Site
from scarrx.audit.services import record_change
from scarrx.patients.access import patients_visible_to
from scarrx.patients.models import ConsentKind, Patient
from scarrx.patients.services import current_consents
from scarrx.photos.models import Measurement, Photo, View
from scarrx.photos.storage import delete_private, read_private, save_private


def _require(actor, patient: Patient, perm: str) -> None:
    if not actor.has_perm(perm) or not patients_visible_to(actor).filter(pk=patient.pk).exists():
        raise PermissionDenied("You may not do this for this patient.")


@contextmanager
def _imaging(field: str):
    """An ImagingError becomes a ValidationError on `field` (or on the region it names)."""
    try:
        yield
    except imaging.ImagingError as exc:
        message = str(exc)
        named = next((f for f in ("reference", "roi") if message.startswith(f)), None)
        raise ValidationError({named or field: message}) from exc


def _taken_at(exif_time: datetime | None, given: datetime | None) -> tuple[datetime, str]:
    now = timezone.now()
    if exif_time is not None:
        if timezone.is_naive(exif_time):
            exif_time = timezone.make_aware(exif_time)
        if exif_time <= now:
            return exif_time, "exif"
    if given is None:
        raise ValidationError(
            {"taken_at": "The photo does not say when it was taken: enter the date and time."}
        )
    if timezone.is_naive(given):
        given = timezone.make_aware(given)
    if given > now:
        raise ValidationError({"taken_at": "A photo cannot be taken in the future."})
    return given, "given"


def chart_calibration(data: bytes, corners=None) -> dict:
    """Chart, colour correction and scale of a photo, without regions."""
    return imaging.calibration_only(data, corners=corners)


@transaction.atomic
def upload_photo(
    *,
    patient: Patient,
    actor,
    data: bytes,
    site: str,
    view: str,
    taken_at: datetime | None = None,
    assessment: ScarAssessment | None = None,
) -> Photo:
    _require(actor, patient, "photos.add_photo")
    errors = {}
    if site not in Site.values:
        errors["site"] = f"Unknown site {site!r}."
    if view not in View.values:
        errors["view"] = f"Unknown view {view!r}."
    if assessment is not None and assessment.patient_id != patient.pk:
        errors["assessment"] = "This assessment belongs to another patient."
    consent = current_consents(patient)[ConsentKind.PHOTOGRAPHS]
    if consent is None or not consent.granted:
        errors["file"] = "The patient has not consented to photographs."
    if errors:
        raise ValidationError(errors)
    with _imaging("file"):
        prepared = imaging.prepare_upload(data)
    when, source = _taken_at(prepared.taken_at, taken_at)
    with _imaging("file"):
        calibration = chart_calibration(prepared.jpeg)
    photo = Photo(
        patient=patient,
        assessment=assessment,
        consent=consent,
        site=site,
        view=view,
        taken_at=when,
        taken_at_source=source,
        sha256=prepared.sha256,
        original_sha256=prepared.original_sha256,
        width=prepared.width,
        height=prepared.height,
        source_format=prepared.source_format,
        uploaded_by=actor,
    )
    _apply_calibration(photo, calibration)
    written: list[str] = []
    try:
        photo.file = save_private(prepared.jpeg)
        written.append(photo.file)
        photo.thumbnail = save_private(prepared.thumbnail)
        written.append(photo.thumbnail)
        _save_uploaded(photo, actor, site, view, when, prepared.sha256)
    except BaseException:
        # The rows roll back with the transaction; the files must go too.
        delete_private(written)
        raise
    return photo


def _save_uploaded(photo: Photo, actor, site: str, view: str, when, sha256: str) -> None:
    photo.save()
    record_change(
        actor=actor,
        action="photo.uploaded",
        obj=photo,
        summary=f"Photo of {photo.get_site_display().lower()} ({photo.get_view_display()}) "
        f"taken {timezone.localtime(when):%-d %b %Y}, "
        + ("calibrated" if photo.calibrated else "uncalibrated"),
        data={"site": site, "view": view, "taken_at": when, "sha256": sha256},
    )


def _apply_calibration(photo: Photo, result: dict) -> None:
    photo.calibrated = bool(result["calibrated"])
    photo.calibration = result["calibration"]
    photo.uncalibrated_reason = result.get("reason") or ""
    photo.px_per_mm = result.get("px_per_mm")
    photo.algorithm_version = result.get("algorithm_version", imaging.ALGORITHM_VERSION)


@transaction.atomic
def set_chart_corners(photo: Photo, *, actor, corners) -> Photo:
    """The fallback when detection fails: the user clicked the chart's four corners."""
    _require(actor, photo.patient, "photos.change_photo")
    with _imaging("corners"):
        result = chart_calibration(read_private(photo.file), corners=corners)
    photo = Photo.objects.select_for_update().get(pk=photo.pk)
    _apply_calibration(photo, result)
    photo.save()
    record_change(
        actor=actor,
        action="photo.chart_corners_set",
        obj=photo,
        summary="Chart corners given by hand; "
        + ("calibrated" if photo.calibrated else "still uncalibrated"),
        data={"corners": corners, "calibrated": photo.calibrated},
    )
    return photo


def _corners(photo: Photo):
    return photo.chart_corners  # reuse what was found or given: no second detection


@transaction.atomic
def measure_photo(photo: Photo, *, actor, roi, reference) -> Measurement:
    """Measure a scar region against a reference region drawn on this photo."""
    _require(actor, photo.patient, "photos.add_measurement")
    with _imaging("roi"):
        result = imaging.analyze(read_private(photo.file), roi, reference, corners=_corners(photo))
    return _store(photo, actor, roi, reference, result, baseline=None)


@transaction.atomic
def carry_over(followup: Photo, *, actor, baseline: Measurement) -> Measurement:
    """Align `followup` to the baseline photo and measure the baseline's regions in it."""
    _require(actor, followup.patient, "photos.add_measurement")
    base_photo = baseline.photo
    if (base_photo.patient_id, base_photo.site, base_photo.view) != (
        followup.patient_id,
        followup.site,
        followup.view,
    ):
        raise ValidationError({"baseline": "The baseline must be the same site and view."})
    if base_photo.pk == followup.pk:
        raise ValidationError({"baseline": "A photo cannot be aligned to itself."})
    with _imaging("alignment"):
        result = imaging.analyze(
            read_private(followup.file),
            baseline.roi,
            baseline.reference,
            corners=_corners(followup),
            baseline=read_private(base_photo.file),
        )
    from scarrx.imaging.align import Alignment  # OpenCV loads on first use, not at start

    moved = Alignment(np.asarray(result["alignment"]["homography"]), 0.0, 0)
    roi, reference = moved.map_points(baseline.roi), moved.map_points(baseline.reference)
    return _store(followup, actor, roi.tolist(), reference.tolist(), result, baseline=baseline)


def _store(photo, actor, roi, reference, result, baseline) -> Measurement:
    Measurement.objects.filter(photo=photo, is_current=True).update(is_current=False)
    measurement = Measurement.objects.create(
        photo=photo,
        roi=[[float(x), float(y)] for x, y in roi],
        reference=[[float(x), float(y)] for x, y in reference],
        baseline=baseline,
        result=result,
        algorithm_version=result.get("algorithm_version", imaging.ALGORITHM_VERSION),
        measured_by=actor,
    )
    diff = (result.get("difference") or {}).get("a_star")
    taken = timezone.localtime(photo.taken_at)
    summary = f"Photo of {taken:%-d %b %Y} measured" + (
        " (aligned to baseline)" if baseline else ""
    )
    if diff is not None:
        summary += f": scar − reference a* {diff:+.1f}"
    record_change(
        actor=actor,
        action="photo.measured",
        obj=measurement,
        patient=photo.patient,
        summary=summary,
        data={"photo": str(photo.public_id), "calibrated": result.get("calibrated")},
    )
    return measurement


def baseline_measurement_for(photo: Photo) -> Measurement | None:
    """The earliest measured photo of the same patient, site and view, taken before."""
    return (
        Measurement.objects.filter(
            photo__patient_id=photo.patient_id,
            photo__site=photo.site,
            photo__view=photo.view,
            photo__taken_at__lt=photo.taken_at,
            baseline__isnull=True,
            is_current=True,
        )
        .select_related("photo")
        .order_by("photo__taken_at", "pk")
        .first()
    )


METRIC_ROWS = (
    # (label, path into the analysis result, digits)
    ("Scar a* (redness)", ("roi", "lab", 1), 1),
    ("Reference skin a*", ("reference", "lab", 1), 1),
    ("Scar − reference a*", ("difference", "a_star"), 1),
    ("Scar − reference erythema index", ("difference", "erythema_index"), 1),
    ("Scar − reference melanin index", ("difference", "melanin_index"), 1),
    ("Scar L* (lightness)", ("roi", "lab", 0), 1),
    ("Scar ITA°", ("roi", "ita_deg"), 1),
)
EXPLORATORY_ROWS = (
    ("Dark pits in scar region (count)", ("exploratory", "pit_count"), 0),
    ("Dark pit area (mm²)", ("exploratory", "pit_area_mm2"), 1),
)


def _dig(result: dict, path: tuple):
    value = result
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def comparison_rows(baseline: dict, followup: dict, *, exploratory: bool = False) -> list[dict]:
    """Baseline, follow-up and change for each metric (None where uncalibrated)."""
    rows = []
    for label, path, digits in EXPLORATORY_ROWS if exploratory else METRIC_ROWS:
        b, f = _dig(baseline, path), _dig(followup, path)
        change = None if b is None or f is None else round(f - b, digits)
        rows.append(
            {"label": label, "baseline": b, "followup": f, "change": change, "digits": digits}
        )
    return rows


def preview_image(photo: Photo) -> bytes:
    """The photo reduced for a page, colour-corrected when its chart calibrates."""
    from scarrx.imaging.render import preview_jpeg

    return preview_jpeg(read_private(photo.file), _corners(photo) if photo.calibrated else None)


def comparison_image(followup: Measurement, which: str) -> bytes:
    """The baseline photo, or the follow-up resampled into its frame, reduced for display."""
    from scarrx.imaging.render import aligned_preview_jpeg, preview_jpeg

    base_photo = followup.baseline.photo
    if which == "baseline":
        return preview_jpeg(read_private(base_photo.file), _corners(base_photo))
    homography = followup.result["alignment"]["homography"]
    return aligned_preview_jpeg(
        read_private(followup.photo.file),
        homography,
        (base_photo.width, base_photo.height),
        _corners(followup.photo),
    )
