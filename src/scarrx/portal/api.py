"""The patient's own records through the API (the portal router: patients only, each
sees only themselves, by scarrx.access scoping)."""

import uuid
from datetime import date, datetime

from django.http import Http404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from scarrx.access import fetch, portal, visible_to
from scarrx.assessments.api import AssessmentOut
from scarrx.assessments.models import ScarAssessment
from scarrx.audit.services import record_read
from scarrx.pagination import Pages
from scarrx.patients.api import PatientOut
from scarrx.photos.api import PhotoOut, with_measurements
from scarrx.photos.models import Photo
from scarrx.photos.storage import private_jpeg, read_private
from scarrx.treatment.api import (
    AdherenceOut,
    ApplicationIn,
    ApplicationOut,
    FillOut,
    SideEffectIn,
    SideEffectOut,
    log_application,
    report,
)
from scarrx.treatment.models import Via

router = Router(tags=["portal"])


@router.get("/session", summary="Am I signed in (portal; no patient data)")
@portal
def my_session(request):
    """For a phone app to check its token before it shows anything."""
    return {"signed_in": True, "username": request.user.username}


@router.get("/me", response=PatientOut, summary="My record (portal)")
@portal
def my_record(request):
    from scarrx.portal.views import me

    return me(request)


@router.get("/assessments", response=list[AssessmentOut], summary="My assessments (portal)")
@paginate(Pages)
@portal
def my_assessments(request):
    found = visible_to(request.user, ScarAssessment).filter(is_current=True)
    return found.select_related("patient", "assessor", "amends").prefetch_related("sites")


@router.get("/photos", response=list[PhotoOut], summary="My progress photos (portal)")
@paginate(Pages)
@portal
def my_photos(request):
    return with_measurements(visible_to(request.user, Photo))


@router.get("/photos/{photo_id}/image", summary="One of my photos (portal; JPEG)")
@portal
def my_photo_image(request, photo_id: uuid.UUID):
    return private_jpeg(read_private(fetch(request, Photo, photo_id).file))


# --- my course (issue 10): the same services as the staff API and the portal pages -------


def _my_course(request, prescription_id: uuid.UUID | None = None):
    from scarrx.portal.views import current_course
    from scarrx.treatment.models import Prescription

    if prescription_id is not None:
        return fetch(request, Prescription.objects.select_related("patient"), prescription_id)
    course = current_course(request)
    if course is None:
        raise Http404
    record_read(request, course.patient)
    return course


class SlotOut(Schema):
    slot: str
    on: date
    at: datetime
    logged: bool
    skipped: bool


class MyCourseOut(Schema):
    prescription: uuid.UUID
    rx_number: str
    preparation_name: str
    directions: str
    times: dict[str, str]
    start_on: date
    last_day: date
    status: str
    next_refill_due: date | None
    refills_left: int
    what_next: str
    today: list[SlotOut]
    adherence: AdherenceOut


def _course_shape(rx) -> dict:
    from scarrx.treatment.api import adherence_of
    from scarrx.treatment.queries import today_slots

    figures = adherence_of(rx)
    return {
        "prescription": rx.public_id,
        "rx_number": rx.rx_number,
        "preparation_name": rx.preparation.name,
        "directions": rx.directions,
        "times": dict(rx.times),
        "start_on": rx.start_on,
        "last_day": rx.last_day,
        "status": rx.status,
        "next_refill_due": figures["next_refill_due"],
        "refills_left": figures["refills_left"],
        "what_next": figures["what_next"],
        "today": [
            {
                "slot": row["slot"].name,
                "on": row["slot"].on,
                "at": row["slot"].at,
                "logged": row["log"] is not None,
                "skipped": bool(row["log"] and row["log"].skipped),
            }
            for row in today_slots(rx)
        ],
        "adherence": figures,
    }


@router.get("/course", response=MyCourseOut, summary="My course, today's applications, refills")
@portal
def my_course(request):
    return _course_shape(_my_course(request))


class MyApplicationIn(ApplicationIn):
    prescription: uuid.UUID | None = Field(None, description="default: my current course")


@router.post(
    "/applications", response={201: ApplicationOut}, summary="Log one of my applications (portal)"
)
@portal
def log_my_application(request, payload: MyApplicationIn):
    from django.db import transaction

    with transaction.atomic():  # the read record and the log commit together: one commit
        return log_application(request, _my_course(request, payload.prescription), payload, Via.API)


@router.get("/applications", response=list[ApplicationOut], summary="My logged applications")
@paginate(Pages)
@portal
def my_applications(request):
    from scarrx.treatment.models import Application

    return visible_to(request.user, Application).select_related("prescription")


@router.get("/fills", response=list[FillOut], summary="My fills (portal)")
@paginate(Pages)
@portal
def my_fills(request):
    from scarrx.treatment.models import Fill

    return visible_to(request.user, Fill).select_related("batch", "prescription")


class MySideEffectIn(SideEffectIn):
    prescription: uuid.UUID | None = Field(None, description="default: my current course")


@router.post(
    "/side-effects", response={201: SideEffectOut}, summary="Report a side effect (portal)"
)
@portal
def report_my_side_effect(request, payload: MySideEffectIn):
    rx = _my_course(request, payload.prescription)
    return report(request, rx, SideEffectIn(**payload.dict(exclude={"prescription"})), Via.PORTAL)


@router.get("/side-effects", response=list[SideEffectOut], summary="My side effect reports")
@paginate(Pages)
@portal
def my_side_effects(request):
    from scarrx.treatment.models import SideEffect

    return visible_to(request.user, SideEffect).select_related("prescription", "batch", "review")


class MyStatusIn(Schema):
    status: str = Field(..., description="on_hold (pause), active (resume my pause) or stopped")
    reason: str = ""


@router.post("/course/status", response=MyCourseOut, summary="Pause, resume or stop my course")
@portal
def change_my_course(request, payload: MyStatusIn):
    from scarrx.treatment import services

    rx = _my_course(request)
    rx = services.change_status(
        rx, actor=request.user, status=payload.status, reason=payload.reason
    )
    return _course_shape(rx)


class CalendarOut(Schema):
    url: str = Field(..., description="shown once: only a digest is kept")


@router.post("/calendar", response={201: CalendarOut}, summary="Make my private calendar address")
@portal
def make_my_calendar(request):
    from django.urls import reverse

    from scarrx.portal.views import me
    from scarrx.treatment import services

    token = services.make_calendar_feed(me(request), actor=request.user)
    return Status(201, {"url": request.build_absolute_uri(reverse("calendar-feed", args=[token]))})


@router.delete("/calendar", response={204: None}, summary="Turn off my calendar address")
@portal
def revoke_my_calendar(request):
    from scarrx.portal.views import me
    from scarrx.treatment import services

    services.revoke_calendar_feed(me(request), actor=request.user)
    return Status(204, None)
