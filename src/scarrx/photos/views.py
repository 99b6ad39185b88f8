from functools import lru_cache

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from scarrx.access import fetch, public, staff, visible_to
from scarrx.accounts.roles import Perm
from scarrx.assessments.models import ScarAssessment
from scarrx.forms import add_service_errors
from scarrx.patients.models import ConsentKind, Patient
from scarrx.patients.services import latest_decisions
from scarrx.photos import services
from scarrx.photos.forms import ChartForm, CornersForm, RegionsForm, UploadForm
from scarrx.photos.models import Measurement, Photo, View
from scarrx.photos.previews import comparison_image, preview_image
from scarrx.photos.storage import private_jpeg, read_private


@staff(Perm.ADD_PHOTO)
def photo_upload(request, patient_id):
    patient = fetch(request, Patient, patient_id)
    assessments = visible_to(request.user, ScarAssessment).filter(patient=patient, is_current=True)
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
                chart=form.chart_spec(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if photo.calibrated:
                messages.success(request, "Photo stored and calibrated by its colour chart.")
            else:
                messages.warning(
                    request,
                    f"Photo stored, but not calibrated ({photo.uncalibrated_reason}), so it "
                    "gives no colour figures. If the chart is in the photo, click its corners.",
                )
            return redirect("photo-detail", photo_id=photo.public_id)
    status = 422 if request.method == "POST" else 200
    consent, verb = latest_decisions(patient)[ConsentKind.PHOTOGRAPHS]
    context = {
        "form": form,
        "patient": patient,
        "consent": consent,
        "consent_verb": verb,
        "consent_in_force": consent is not None and consent.granted,
    }
    return render(request, "photos/upload.html", context, status=status)


@staff(Perm.VIEW_PHOTO)
def photo_detail(request, photo_id):
    return _detail(request, fetch(request, Photo, photo_id))


def _detail(
    request, photo, *, regions_form=None, corners_form=None, chart_form=None, error="", status=200
):
    """The photo page; re-rendered with the refused input and its errors (422)."""
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
        "chart_form": chart_form or ChartForm(prefix="chart"),
        "alignment_error": error,
    }
    return render(request, "photos/detail.html", context, status=status)


def _points(points) -> str:
    return " ".join(f"{round(x)},{round(y)}" for x, y in points)


@staff(Perm.ADD_MEASUREMENT)
@require_POST
def photo_regions(request, photo_id):
    photo = fetch(request, Photo, photo_id)
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


@staff(Perm.CHANGE_PHOTO)
@require_POST
def photo_corners(request, photo_id):
    photo = fetch(request, Photo, photo_id)
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


@staff(Perm.CHANGE_PHOTO)
@require_POST
def photo_chart(request, photo_id):
    photo = fetch(request, Photo, photo_id)
    form = ChartForm(request.POST, prefix="chart")
    if form.is_valid():
        try:
            services.set_chart_model(
                photo,
                actor=request.user,
                chart=form.chart_spec(),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Photo read again with the corrected chart model.")
            return redirect("photo-detail", photo_id=photo.public_id)
    return _detail(request, photo, chart_form=form, status=422)


@staff(Perm.ADD_MEASUREMENT)
@require_POST
def photo_carry_over(request, photo_id):
    photo = fetch(request, Photo, photo_id)
    try:
        measurement = services.carry_over(photo, actor=request.user)
    except ValidationError as exc:
        error = " ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
        return _detail(request, photo, error=f"Not aligned — {error}", status=422)
    return redirect("photo-compare", measurement_id=measurement.public_id)


@staff(Perm.VIEW_PHOTO)
def photo_preview(request, photo_id):
    """A reduced, colour-corrected copy for the page (regions are drawn in full-size px)."""
    return private_jpeg(preview_image(fetch(request, Photo, photo_id)))


@staff(Perm.VIEW_PHOTO)
def photo_file(request, photo_id):
    return private_jpeg(read_private(fetch(request, Photo, photo_id).file))


@staff(Perm.VIEW_PHOTO)
def photo_thumb(request, photo_id):
    return private_jpeg(read_private(fetch(request, Photo, photo_id).thumbnail))


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


def _followup_measurement(request, measurement_id):
    aligned = Measurement.objects.filter(baseline__isnull=False).select_related(
        "photo__patient", "baseline__photo"
    )
    return fetch(request, aligned, measurement_id)


@staff(Perm.VIEW_PHOTO)
def compare(request, measurement_id):
    followup = _followup_measurement(request, measurement_id)
    baseline = followup.baseline
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


@staff(Perm.VIEW_PHOTO)
def compare_image(request, measurement_id, which):
    if which not in ("baseline", "aligned"):
        raise Http404
    followup = _followup_measurement(request, measurement_id)
    return private_jpeg(comparison_image(followup, which))


@public
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


@public
@cache_control(max_age=86400, public=True)
def guide_example(request, view):
    if view not in View.values:
        raise Http404
    return HttpResponse(_guide_picture(view), content_type="image/jpeg")


@lru_cache(maxsize=8)
def _guide_picture(view: str) -> bytes:
    from scarrx.imaging.guide import example_picture

    return example_picture(view)
