"""The patient's portal pages, made for a phone: Today (one tap an application), the
course and its refills (what happens next, pause, stop), a side effect report, and the
private calendar address. Each shows only the signed-in patient's own records."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from scarrx.access import patients_visible_to, portal, public, visible_to
from scarrx.audit.services import record_read
from scarrx.forms import add_service_errors, form_status
from scarrx.treatment import queries, services
from scarrx.treatment.forms import ApplicationForm, SideEffectForm
from scarrx.treatment.models import OPEN_STATUSES, CourseStatus, Prescription, SkipReason, Via
from scarrx.treatment.services.applications import window as logging_window


def me(request):
    """The signed-in patient's record (recorded as read), or a 404."""
    patient = patients_visible_to(request.user).first()
    if patient is None:
        raise Http404
    record_read(request, patient)
    return patient


def current_course(request) -> Prescription | None:
    """The patient's course: the open one starting latest, else the latest of all."""
    courses = visible_to(request.user, Prescription).select_related("patient", "preparation")
    return courses.filter(status__in=OPEN_STATUSES).first() or courses.first()


def _page(request, template, context, status=200):
    return render(request, template, context, status=status)


@portal
def today(request):
    patient = me(request)
    course = current_course(request)
    context = {
        "patient_me": patient,
        "course": course,
        "skip_reasons": SkipReason.choices,
        "zone": patient.zone,
    }
    if course is not None:
        now = timezone.now()
        slots = queries.today_slots(course, now)
        window = logging_window()
        for row in slots:
            row["opens_at"] = row["slot"].local - window
            row["open"] = row["slot"].at - window <= now <= row["slot"].at + window
            row["key"] = ApplicationForm.new_key()
        figures = queries.course(course, now)
        week = figures.dose.weeks[-1] if figures.dose.weeks else None
        context.update(
            slots=slots,
            week=week,
            figures=figures,
            local_today=now.astimezone(patient.zone),
            loggable=course.status not in (CourseStatus.STOPPED, CourseStatus.COMPLETED),
        )
    return _page(request, "portal/today.html", context)


@portal
@require_POST
def log(request):
    me(request)
    course = current_course(request)
    if course is None:
        raise Http404
    form = ApplicationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That did not go through: please try again.")
        return redirect("portal-today")
    data = form.cleaned_data
    skipped = data["skipped"]
    zone = course.patient.zone
    try:
        logged = services.record_application(
            course,
            actor=request.user,
            via=Via.PORTAL,
            key=data["key"],
            slot=data["slot"],
            skipped=skipped,
            skip_reason=data["skip_reason"] if skipped else "",
            on=timezone.now().astimezone(zone).date() if skipped else None,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("portal-today")
    a = logged.application
    name = (a.slot or data["slot"]).capitalize()
    if a.skipped:
        messages.success(
            request, f"{name} application marked as skipped. Thank you for telling us."
        )
    else:
        at = a.applied_at.astimezone(zone)
        messages.success(request, f"{name} application logged at {at:%H:%M}.")
    return redirect("portal-today")


@portal
def course(request):
    patient = me(request)
    rx = current_course(request)
    context = {"patient_me": patient, "course": rx}
    if rx is not None:
        context.update(
            figures=queries.course(rx),
            fills=rx.fills.select_related("batch").order_by("-number"),
            can_resume=rx.held_by_patient,
        )
    return _page(request, "portal/course.html", context)


@portal
@require_POST
def course_status(request):
    me(request)
    rx = current_course(request)
    if rx is None:
        raise Http404
    wanted = request.POST.get("status", "")
    try:
        services.change_status(
            rx, actor=request.user, status=wanted, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            {
                CourseStatus.ON_HOLD: "Your course is paused. No refill will be made until you "
                "resume it.",
                CourseStatus.ACTIVE: "Your course is resumed.",
                CourseStatus.STOPPED: "Your course is stopped. No more refills will be made. "
                "The pharmacy may call to check you are all right.",
            }.get(wanted, "Done."),
        )
    return redirect("portal-course")


@portal
def side_effect(request):
    patient = me(request)
    rx = current_course(request)
    form = SideEffectForm(request.POST or None)
    if request.method == "POST" and rx is not None and form.is_valid():
        try:
            services.report_side_effect(rx, actor=request.user, via=Via.PORTAL, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                "Thank you. A pharmacist will read this and contact you if needed. If it is "
                "severe — swelling of the face or lips, or trouble breathing — call 911 now.",
            )
            return redirect("portal-today")
    context = {"patient_me": patient, "course": rx, "form": form}
    return _page(request, "portal/side_effect.html", context, status=form_status(form))


@portal
def calendar_page(request):
    patient = me(request)
    link = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.revoke_calendar_feed(patient, actor=request.user)
            messages.success(request, "Your calendar address is turned off.")
            return redirect("portal-calendar")
        token = services.make_calendar_feed(patient, actor=request.user)
        link = request.build_absolute_uri(reverse("calendar-feed", args=[token]))
    context = {
        "patient_me": patient,
        "link": link,
        "webcal": link.replace("https://", "webcal://").replace("http://", "webcal://"),
    }
    return _page(request, "portal/calendar.html", context)


@public
def calendar_feed(request, token):
    """The patient's calendar, fetched by their calendar app: the unguessable address is
    the key. Recorded as a read with no user."""
    feed = services.feed_for(token)
    if feed is None:
        raise Http404
    record_read(request, feed.patient)
    response = HttpResponse(queries.calendar(feed.patient), content_type="text/calendar")
    response["Cache-Control"] = "private, max-age=900"
    return response
