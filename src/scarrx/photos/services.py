"""Operations on photos: upload (clean, store privately, calibrate), set the chart's
corners, measure regions, carry regions over to a follow-up by alignment. The only
writer of Photo/Measurement.

Each operation checks permission and input first, then does its image work (decoding,
chart, analysis, alignment, previews) and writes its files with no transaction open:
on SQLite (`transaction_mode=IMMEDIATE`) a transaction holds the database's write lock,
and every page writes an AccessRecord. Only the row writes and the audit row are then
made, in one short transaction; if it fails, the files just written are deleted.

Image work is done by the pure `scarrx.imaging` package; its ImagingError becomes a
ValidationError naming the field, with nothing stored. No record is deleted; a preview
replaced by a new one (chart corners changed) is removed once the change is committed.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from datetime import date, datetime

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from scarrx import imaging
from scarrx.access import require
from scarrx.accounts.roles import Perm
from scarrx.assessments.models import ScarAssessment
from scarrx.audit.services import reason_errors, record_change
from scarrx.body import Site
from scarrx.patients.models import Consent, ConsentKind, Patient
from scarrx.patients.services import current_consents
from scarrx.photos.figures import metric_text
from scarrx.photos.models import Measurement, Photo, View
from scarrx.photos.previews import render_aligned, render_preview
from scarrx.photos.storage import delete_private, new_private_files, read_private
from scarrx.values import wall_clock

MAX_UPLOAD_BYTES = 40 * 1024 * 1024
# No digital progress photo is older than this; a camera clock never set reads earlier.
EARLIEST_PHOTO = date(2000, 1, 1)
# A region is clicked round by hand on the page: tens of points, never thousands.
MAX_REGION_POINTS = 500
_REGION_NAMED = re.compile(r"^(roi|reference)( region)?\b")


@contextmanager
def _imaging(field: str):
    """An ImagingError becomes a ValidationError on `field`, or on the region its message
    starts with ("roi ...", "reference ..."), which the message then calls "The region"."""
    try:
        yield
    except imaging.ImagingError as exc:
        message = str(exc)
        named = _REGION_NAMED.match(message)
        if named is None:
            raise ValidationError({field: message}) from exc
        raise ValidationError({named[1]: _REGION_NAMED.sub("The region", message)}) from exc


def region_errors(regions: dict[str, object]) -> dict[str, str]:
    """Cheap checks made before any image work: at most MAX_REGION_POINTS points, and an
    area enclosed. Shape, bounds, size in pixels and crossing are scarrx.imaging's."""
    errors = {}
    for name, points in regions.items():
        if isinstance(points, list | tuple) and len(points) > MAX_REGION_POINTS:
            errors[name] = f"Draw at most {MAX_REGION_POINTS} points."
        elif _encloses_nothing(points):
            errors[name] = "The region encloses no area: its points lie on one line."
    return errors


def _encloses_nothing(points: object) -> bool:
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if pts.ndim != 2 or pts.shape[1:] != (2,) or len(pts) < 3 or not np.isfinite(pts).all():
        return False
    x, y = pts[:, 0], pts[:, 1]
    with np.errstate(over="ignore", invalid="ignore"):  # points far outside: imaging's to refuse
        area = abs(float(x @ np.roll(y, 1) - y @ np.roll(x, 1))) / 2
    return bool(area < 1.0)  # under a pixel (False for an area too large to compute)


def photo_consent(patient: Patient) -> Consent | None:
    """The patient's latest decision about photographs (None if never recorded)."""
    return current_consents(patient)[ConsentKind.PHOTOGRAPHS]


def _time_error(patient: Patient, when: datetime) -> str | None:
    """Why this patient's photo cannot have been taken at `when`; None if it can."""
    # The calendar date as given, before any zone conversion: year 1 at +14:00 is
    # refused here, not overflowed into year 0.
    born = patient.date_of_birth
    if when.date() < born:
        return f"A photo cannot be taken before the patient was born ({born:%-d %b %Y})."
    if when.date() < EARLIEST_PHOTO:
        return f"A digital photo cannot be dated before {EARLIEST_PHOTO:%-d %b %Y}."
    try:
        if not _happened(when):
            return (
                f"{when:%-d %b %Y, %H:%M} never happened in {timezone.get_current_timezone()}: "
                "the clocks went forward that night. Enter the time a clock showed."
            )
        future = _aware(when) > timezone.now()
    except (OverflowError, ValueError):  # e.g. 9999-12-31 23:00 at −12:00 is past year 9999 in UTC
        return "Enter a real date and time."
    return "A photo cannot be taken in the future." if future else None


def _happened(when: datetime) -> bool:
    """False for a wall-clock time skipped when the clocks went forward (2:30 on the
    night daylight saving time starts): it comes back from UTC as another time."""
    return wall_clock(when, timezone.get_current_timezone()) is not None


def _aware(when: datetime) -> datetime:
    """A naive time (camera wall-clock, or typed in) is read in the pharmacy's zone; of a
    time that happened twice (clocks going back), the first."""
    return timezone.make_aware(when) if timezone.is_naive(when) else when


def _taken_at(patient: Patient, exif_time: datetime | None, given: datetime | None):
    """(when, source): EXIF DateTimeOriginal when plausible for this patient, else given
    (already checked by the caller)."""
    if exif_time is not None and _time_error(patient, exif_time) is None:
        return _aware(exif_time), "exif"
    if given is None:
        raise ValidationError(
            {"taken_at": "The photo does not say when it was taken: enter the date and time."}
        )
    return _aware(given), "given"


def _upload_bytes(data) -> bytes:
    """The upload's bytes (from bytes or an open file), reading no more than the limit
    allows, so a huge upload is refused without being held in memory."""
    if hasattr(data, "read"):
        data = data.read(MAX_UPLOAD_BYTES + 1)
    return data


def _assessment_of(patient: Patient, given) -> tuple[ScarAssessment | None, str]:
    """The patient's current assessment given (an object or its public id), or why not."""
    if given is None or given == "":
        return None, ""
    if isinstance(given, ScarAssessment):
        key = given.public_id
    else:
        try:
            key = uuid.UUID(str(given))
        except ValueError:
            return None, "Not an assessment id."
    found = patient.assessments.filter(public_id=key, is_current=True).first()
    return found, "" if found else "No current assessment of this patient has this id."


def chart_spec(given: object = None) -> dict:
    """A chart model as stored with a photo's calibration: the pharmacy's (setting
    SCARRX_CHART) when none is given, else a preset name ("classic"), "PITCH,PATCH" in
    millimetres, or a {"pitch_mm", "patch_mm"} mapping. ValidationError on "chart"."""
    if given is None or given == "":
        return dict(settings.PHOTO_CHART)
    if isinstance(given, str) and "," in given:
        pitch, _, patch = given.partition(",")
        given = {"name": "custom", "pitch_mm": pitch.strip(), "patch_mm": patch.strip()}
    try:
        return imaging.chart_model(given).as_dict()
    except imaging.ImagingError as exc:
        raise ValidationError({"chart": str(exc).removeprefix("chart: ")}) from None


def chart_calibration(data: bytes, corners=None, *, chart: dict) -> dict:
    """Chart, colour correction and scale of a photo, without regions."""
    return imaging.calibration_only(data, corners=corners, chart=chart)


def upload_photo(
    *,
    patient: Patient,
    actor,
    data,
    site: str,
    view: str,
    taken_at: datetime | None = None,
    assessment: ScarAssessment | uuid.UUID | str | None = None,
    chart: object = None,
) -> Photo:
    """Store a photo of `patient`: `data` is the uploaded file (bytes or an open file);
    `assessment` (optional) is one of the patient's current assessments, or its id;
    `chart` the card in the photo when it is not the pharmacy's (`chart_spec`)."""
    require(actor, Perm.ADD_PHOTO, patient)
    data = _upload_bytes(data)
    consent = photo_consent(patient)
    errors = {}
    try:
        chart = chart_spec(chart)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    assessment, problem = _assessment_of(patient, assessment)
    if problem:
        errors["assessment"] = problem
    if len(data) > MAX_UPLOAD_BYTES:
        errors["file"] = f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB."
    if site not in Site.values:
        errors["site"] = f"Unknown site {site!r}."
    if view not in View.values:
        errors["view"] = f"Unknown view {view!r}."
    if taken_at is not None and (problem := _time_error(patient, taken_at)):
        errors["taken_at"] = problem
    if consent is None or not consent.granted:
        errors["file"] = "The patient has not consented to photographs."
    if errors:
        raise ValidationError(errors)

    with _imaging("file"), imaging.heavy_work():
        prepared = imaging.prepare_upload(data)
        when, source = _taken_at(patient, prepared.taken_at, taken_at)
        calibration = chart_calibration(prepared.jpeg, chart=chart)
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
        preview = render_preview(prepared.jpeg, photo)

    with new_private_files() as save:
        photo.file = save(prepared.jpeg)
        photo.thumbnail = save(prepared.thumbnail)
        photo.preview = save(preview)
        with transaction.atomic():
            photo.save()
            record_change(
                actor=actor,
                action="photo.uploaded",
                obj=photo,
                summary=f"Photo of {photo.get_site_display().lower()} "
                f"({photo.get_view_display()}) taken {timezone.localtime(when):%-d %b %Y}, "
                + ("calibrated" if photo.calibrated else "uncalibrated"),
                data={"site": site, "view": view, "taken_at": when, "sha256": prepared.sha256},
            )
    return photo


def _apply_calibration(photo: Photo, result: dict) -> None:
    photo.calibrated = bool(result["calibrated"])
    photo.calibration = result["calibration"]
    photo.uncalibrated_reason = result.get("reason") or ""
    photo.px_per_mm = result.get("px_per_mm")
    photo.algorithm_version = result.get("algorithm_version", imaging.ALGORITHM_VERSION)


def _calibration_facts(photo: Photo) -> dict:
    """What a change of chart corners changes, for its ChangeRecord."""
    return {
        "calibrated": photo.calibrated,
        "method": photo.calibration.get("method"),
        "heldout_delta_e2000": photo.calibration.get("heldout_delta_e2000"),
        "px_per_mm": photo.px_per_mm,
        "chart_corners": photo.chart_corners,
        "chart_source": photo.calibration.get("chart_source"),
        "chart": (photo.calibration or {}).get("chart"),
    }


REASON_NEEDED = "The photo is already calibrated: say why its chart corners are being changed."


def set_chart_corners(photo: Photo, *, actor, corners, reason: str = "") -> Photo:
    """The chart's four corners, clicked by hand: when detection missed the chart, or
    (with a reason) when it found it in the wrong place. The photo's current
    measurements used the old calibration, so they stop being current."""
    require(actor, Perm.CHANGE_PHOTO, photo.patient)
    if not isinstance(corners, list | tuple) or len(corners) != 4:
        raise ValidationError({"corners": "Give exactly the chart's four corners."})
    reason = (reason or "").strip()
    if photo.calibrated and not reason:
        raise ValidationError({"reason": REASON_NEEDED})
    if not isinstance(corners, list | tuple) or len(corners) != 4:
        raise ValidationError({"corners": "Give exactly the chart's four corners."})
    if problems := reason_errors(reason):
        raise ValidationError(problems)

    def still_allowed(locked: Photo) -> None:
        if locked.calibrated and not reason:  # calibrated meanwhile, by someone else
            raise ValidationError({"reason": REASON_NEEDED})

    def summary(after: Photo, redo: int) -> str:
        return "Chart corners given by hand; " + (
            "calibrated" if after.calibrated else "still uncalibrated"
        )

    return _recalibrate(
        photo,
        actor=actor,
        corners=corners,
        chart=photo.chart_model,
        field="corners",
        action="photo.chart_corners_set",
        summary=summary,
        reason=reason,
        check=still_allowed,
        data={"corners": corners},
    )


def set_chart_model(photo: Photo, *, actor, chart, reason: str) -> Photo:
    """Read the photo again under a corrected chart model (the card in the photo was not
    the one assumed): its scale and colour fit change, so its measurements are redone."""
    require(actor, Perm.CHANGE_PHOTO, photo.patient)
    reason = (reason or "").strip()
    errors = {}
    try:
        chart = chart_spec(chart)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        if chart == photo.chart_model:
            errors["chart"] = ["The photo is already read with this chart."]
    if not reason:
        errors["reason"] = ["Say why the chart model is being corrected."]
    if errors:
        raise ValidationError(errors)

    def summary(after: Photo, redo: int) -> str:
        scale = f"{after.px_per_mm:.2f} px/mm" if after.px_per_mm else "no scale"
        return f"Chart model set to {chart['name']}; {scale}"

    return _recalibrate(
        photo,
        actor=actor,
        corners=photo.chart_corners,
        chart=chart,
        field="chart",
        action="photo.chart_model_set",
        summary=summary,
        reason=reason,
        data={"chart": chart},
    )


def _recalibrate(
    photo: Photo, *, actor, corners, chart, field, action, summary, reason, data, check=None
) -> Photo:
    """Calibrate the stored photo again (new corners or chart model), replace its
    preview, and mark its current measurements superseded: one recorded change."""
    stored = read_private(photo.file)
    with _imaging(field), imaging.heavy_work():
        result = chart_calibration(stored, corners=corners, chart=chart)
        after = Photo()  # what the photo will be, for its preview
        _apply_calibration(after, result)
        preview = render_preview(stored, after)

    with new_private_files() as save:
        preview_name = save(preview)
        with transaction.atomic():
            photo = Photo.objects.select_for_update().get(pk=photo.pk)
            if check is not None:
                check(photo)
            before = _calibration_facts(photo)
            old_preview = photo.preview
            _apply_calibration(photo, result)
            photo.preview = preview_name
            photo.save()
            superseded = photo.measurements.filter(is_current=True)
            superseded_ids = [str(m) for m in superseded.values_list("public_id", flat=True)]
            superseded.update(is_current=False)
            redo = len(superseded_ids)
            record_change(
                actor=actor,
                action=action,
                obj=photo,
                summary=summary(photo, redo)
                + (f"; {redo} measurement{'s' if redo != 1 else ''} to redo" if redo else ""),
                data={
                    **data,
                    "calibrated": photo.calibrated,
                    "before": before,
                    "after": _calibration_facts(photo),
                    "measurements_superseded": superseded_ids,
                },
                reason=reason,
            )
            if old_preview:
                transaction.on_commit(lambda: delete_private([old_preview]))
    return photo


def measure_photo(photo: Photo, *, actor, roi, reference) -> Measurement:
    """Measure a scar region against a reference region drawn on this photo."""
    require(actor, Perm.ADD_MEASUREMENT, photo.patient)
    if errors := region_errors({"roi": roi, "reference": reference}):
        raise ValidationError(errors)
    with _imaging("roi"), imaging.heavy_work():
        result = imaging.analyze(
            read_private(photo.file),
            roi,
            reference,
            corners=photo.chart_corners,
            chart=photo.chart_model,
        )
    with transaction.atomic():
        return _store(photo, actor, roi, reference, result, baseline=None)


NO_BASELINE = "No measured baseline photo of this site and view."


def carry_over(followup: Photo, *, actor) -> Measurement:
    """Align `followup` to the measured baseline photo of its site and view (the
    earliest before it) and measure the baseline's regions in it."""
    require(actor, Perm.ADD_MEASUREMENT, followup.patient)
    baseline = baseline_measurement_for(followup)
    if baseline is None:
        raise ValidationError({"baseline": NO_BASELINE})
    base_photo = baseline.photo
    data = read_private(followup.file)
    with _imaging("alignment"), imaging.heavy_work():
        result = imaging.analyze(
            data,
            baseline.roi,
            baseline.reference,
            corners=followup.chart_corners,
            baseline=read_private(base_photo.file),
            chart=followup.chart_model,
        )
    from scarrx.imaging.align import Alignment  # OpenCV loads on first use, not at start

    homography = result["alignment"]["homography"]
    moved = Alignment(np.asarray(homography), 0.0, 0)
    roi, reference = moved.map_points(baseline.roi), moved.map_points(baseline.reference)
    aligned = render_aligned(data, homography, base_photo, followup)

    with new_private_files() as save:
        preview = save(aligned)
        with transaction.atomic():
            return _store(
                followup,
                actor,
                roi.tolist(),
                reference.tolist(),
                result,
                baseline=baseline,
                preview=preview,
            )


CALIBRATION_CHANGED = "The chart corners were changed while this was measured: measure again."


def _store(photo, actor, roi, reference, result, *, baseline, preview="") -> Measurement:
    """The measurement becomes the photo's one current measurement. Inside the caller's
    transaction, with the photo's row locked, so two at once cannot both stay current."""
    locked = Photo.objects.select_for_update().get(pk=photo.pk)
    if locked.chart_corners != photo.chart_corners:  # the corners the analysis used
        raise ValidationError({"calibration": CALIBRATION_CHANGED})
    Measurement.objects.filter(photo=locked, is_current=True).update(is_current=False)
    measurement = Measurement.objects.create(
        photo=locked,
        roi=[[float(x), float(y)] for x, y in roi],
        reference=[[float(x), float(y)] for x, y in reference],
        baseline=baseline,
        result=result,
        algorithm_version=result.get("algorithm_version", imaging.ALGORITHM_VERSION),
        measured_by=actor,
        preview=preview,
    )
    diff = (result.get("difference") or {}).get("a_star")
    taken = timezone.localtime(photo.taken_at)
    summary = f"Photo of {taken:%-d %b %Y} measured" + (
        " (aligned to baseline)" if baseline else ""
    )
    if diff is not None:
        summary += f": scar − reference a* {metric_text(diff)}"
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
        change = None if b is None or f is None else f - b  # rounded once, when shown
        rows.append(
            {"label": label, "baseline": b, "followup": f, "change": change, "digits": digits}
        )
    return rows
