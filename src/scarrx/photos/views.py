from functools import lru_cache

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from scarrx.accounts.decorators import staff_required
from scarrx.assessments.access import assessments_visible_to
from scarrx.audit.services import record_access
from scarrx.forms import add_service_errors
from scarrx.patients.access import get_patient_for
from scarrx.photos import services
from scarrx.photos.access import get_photo_for, measurements_visible_to
from scarrx.photos.forms import CornersForm, RegionsForm, UploadForm
from scarrx.photos.models import View
from scarrx.photos.previews import comparison_image, preview_image
from scarrx.photos.storage import private_jpeg, read_private


@staff_required
def photo_upload(request, patient_id):
    patient = get_patient_for(request.user, patient_id)
    if not request.user.has_perm("photos.add_photo"):
        raise Http404
    assessments = assessments_visible_to(request.user).filter(patient=patient, is_current=True)
    form = UploadForm(request.POST or None, request.FILES or None, assessments=assessments)
    if request.method == "POST" and form.is_valid():
        try:
            photo = services.upload_photo(
                patient=patient,
                actor=request.user,
                data=form.cleaned_data["file"],
                site=form.cleaned_data["site"],
                view=form.cleaned_data["view"],
                taken_at=form.cleaned_data["taken_at"],
                assessment=form.chosen_assessment(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                "Photo stored."
                if photo.calibrated
                else "Photo stored, but not calibrated: " + photo.uncalibrated_reason,
            )
            return redirect("photo-detail", photo_id=photo.public_id)
    record_access(request, what="photo.upload", patient=patient)
    status = 422 if request.method == "POST" else 200
    consent = services.photo_consent(patient)
    context = {
        "form": form,
        "patient": patient,
        "consent": consent,
        "consent_in_force": consent is not None and consent.granted,
    }
    return render(request, "photos/upload.html", context, status=status)


@staff_required
def photo_detail(request, photo_id):
    photo = get_photo_for(request.user, photo_id)
    return _detail(request, photo)


def _detail(request, photo, *, regions_form=None, corners_form=None, error="", status=200):
    """The photo page; re-rendered with the refused input and its errors (422)."""
    record_access(request, what="photo.detail", patient=photo.patient)
    # A new measurement is always current, so a latest one that is not was superseded
    # by a change of chart corners: its regions are offered again, to be re-measured.
    latest = photo.measurements.select_related("baseline", "measured_by").first()
    current = latest if latest is not None and latest.is_current else None
    if regions_form is None:
        regions_form = RegionsForm(
            initial={
                "roi": _points(latest.roi) if latest else "",
                "reference": _points(latest.reference) if latest else "",
            }
        )
    context = {
        "photo": photo,
        "patient": photo.patient,
        "measurement": current,
        "remeasure": latest if current is None else None,
        "baseline": services.baseline_measurement_for(photo),
        "regions_form": regions_form,
        "corners_form": corners_form or CornersForm(),
        "alignment_error": error,
    }
    return render(request, "photos/detail.html", context, status=status)


def _points(points) -> str:
    return " ".join(f"{round(x)},{round(y)}" for x, y in points)


@staff_required
@require_POST
def photo_regions(request, photo_id):
    photo = get_photo_for(request.user, photo_id)
    form = RegionsForm(request.POST)
    if form.is_valid():
        try:
            services.measure_photo(
                photo,
                actor=request.user,
                roi=form.cleaned_data["roi"],
                reference=form.cleaned_data["reference"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Regions measured.")
            return redirect("photo-detail", photo_id=photo.public_id)
    # The bound form re-renders the points as drawn, so nothing has to be redrawn.
    return _detail(request, photo, regions_form=form, status=422)


@staff_required
@require_POST
def photo_corners(request, photo_id):
    photo = get_photo_for(request.user, photo_id)
    form = CornersForm(request.POST)
    if form.is_valid():
        try:
            services.set_chart_corners(
                photo,
                actor=request.user,
                corners=form.cleaned_data["corners"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Chart corners saved.")
            return redirect("photo-detail", photo_id=photo.public_id)
    return _detail(request, photo, corners_form=form, status=422)


@staff_required
@require_POST
def photo_carry_over(request, photo_id):
    photo = get_photo_for(request.user, photo_id)
    try:
        measurement = services.carry_over(photo, actor=request.user)
    except ValidationError as exc:
        error = " ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
        return _detail(request, photo, error=f"Not aligned — {error}", status=422)
    return redirect("photo-compare", measurement_id=measurement.public_id)


@staff_required
def photo_preview(request, photo_id):
    """A reduced, colour-corrected copy for the page (regions are drawn in full-size px)."""
    photo = get_photo_for(request.user, photo_id)
    record_access(request, what="photo.preview", patient=photo.patient)
    return private_jpeg(preview_image(photo))


@staff_required
def photo_file(request, photo_id):
    photo = get_photo_for(request.user, photo_id)
    record_access(request, what="photo.file", patient=photo.patient)
    return private_jpeg(read_private(photo.file))


@staff_required
def photo_thumb(request, photo_id):
    photo = get_photo_for(request.user, photo_id)
    record_access(request, what="photo.thumbnail", patient=photo.patient)
    return private_jpeg(read_private(photo.thumbnail))


def _day(photo) -> str:
    return f"{timezone.localtime(photo.taken_at):%-d %b %Y}"


def _correction_note(baseline, followup) -> str:
    """Whether the two pictures shown are colour-corrected. The aligned follow-up was
    drawn with the calibration its measurement used."""
    corrected = {
        "baseline": baseline.photo.calibrated,
        "follow-up": bool(followup.result.get("calibrated")),
    }
    if all(corrected.values()):
        return "Both colour-corrected by their charts."
    if not any(corrected.values()):
        return "Both shown uncorrected: neither photo has a usable colour chart."
    plain = next(name for name, ok in corrected.items() if not ok)
    other = next(name for name, ok in corrected.items() if ok)
    return (
        f"The {other} is colour-corrected by its chart; the {plain} is shown uncorrected "
        "(no usable colour chart), so their colours do not compare."
    )


def _followup_measurement(user, measurement_id):
    found = measurements_visible_to(user).filter(public_id=measurement_id).first()
    if found is None or found.baseline_id is None:
        raise Http404
    return found


@staff_required
def compare(request, measurement_id):
    followup = _followup_measurement(request.user, measurement_id)
    baseline = followup.baseline
    record_access(request, what="photo.compare", patient=followup.photo.patient)
    return render(
        request,
        "photos/compare.html",
        {
            "patient": followup.photo.patient,
            "f": followup,
            "b": baseline,
            "rows": services.comparison_rows(baseline.result, followup.result),
            "exploratory": services.comparison_rows(
                baseline.result, followup.result, exploratory=True
            ),
            "panels": [
                ("baseline", f"Baseline, {_day(baseline.photo)}", baseline.photo),
                ("aligned", f"Follow-up, {_day(followup.photo)}, aligned", followup.photo),
            ],
            "days": (
                timezone.localdate(followup.photo.taken_at)
                - timezone.localdate(baseline.photo.taken_at)
            ).days,
            "correction_note": _correction_note(baseline, followup),
        },
    )


@staff_required
def compare_image(request, measurement_id, which):
    followup = _followup_measurement(request.user, measurement_id)
    if which not in ("baseline", "aligned"):
        raise Http404
    record_access(request, what=f"photo.compare.{which}", patient=followup.photo.patient)
    return private_jpeg(comparison_image(followup, which))


def capture_guide(request):
    """The patient-facing capture guide: no patient data, so no sign-in needed."""
    views = [
        ("front", "Front", "look straight at the camera, chart beside your cheek"),
        (
            "left_45",
            "45° left",
            "turn your head to the left until your nose lines up with the far cheek",
        ),
        ("right_45", "45° right", "the same, turning to the right"),
    ]
    return render(request, "photos/guide.html", {"views": views})


@cache_control(max_age=86400, public=True)
def guide_example(request, view):
    if view not in View.values:
        raise Http404
    return HttpResponse(_guide_picture(view), content_type="image/jpeg")


@lru_cache(maxsize=8)
def _guide_picture(view: str) -> bytes:
    from scarrx.imaging.guide import example_picture

    return example_picture(view)
