"""Console pages of the course: the worklist (the staff home page), prescriptions, fills,
applications logged on a patient's behalf, side effects and their review."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from scarrx.access import fetch, staff, visible_to
from scarrx.accounts.roles import Perm
from scarrx.forms import add_service_errors, form_status
from scarrx.patients.models import Patient
from scarrx.pharmacy.models import Batch, BatchStatus, Preparation
from scarrx.treatment import queries, services
from scarrx.treatment.forms import (
    ApplicationForm,
    FillForm,
    PrescriptionForm,
    ReviewForm,
    SideEffectForm,
    StatusForm,
)
from scarrx.treatment.models import Fill, Prescription, SideEffect, Via
from scarrx.treatment.worklist import items_of
from scarrx.values import wall_clock


@staff(Perm.VIEW_COURSE)
def worklist(request):
    sections = [(s, items_of(request, s)) for s in queries.worklist(request.user)]
    return render(request, "treatment/worklist.html", {"sections": sections})


@staff(Perm.PRESCRIBE)
def prescription_new(request, patient_id):
    patient = fetch(request, Patient, patient_id)
    preparations = visible_to(request.user, Preparation).filter(patient=patient)
    initial = {"written_on": timezone.localdate(), "start_on": timezone.localdate()}
    form = PrescriptionForm(request.POST or None, preparations=preparations, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            prescription = services.write_prescription(
                actor=request.user, patient=patient, **form.service_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, exc, field_map=lambda n: n.split(".")[-1])
        else:
            messages.success(request, f"Prescription {prescription.rx_number} written.")
            return redirect("prescription-detail", prescription_id=prescription.public_id)
    context = {"form": form, "patient": patient, "has_preparations": bool(preparations)}
    return render(request, "treatment/prescription_form.html", context, status=form_status(form))


def _course_page(request, prescription, *, status_form=None, log_form=None, status=200):
    figures = queries.course(prescription)
    context = {
        "prescription": prescription,
        "patient": prescription.patient,
        "course": figures,
        "history": prescription.status_changes.select_related("by"),
        "side_effects": prescription.side_effects.select_related("batch", "review"),
        "status_form": status_form or StatusForm(),
        "log_form": log_form or ApplicationForm(initial={"key": ApplicationForm.new_key()}),
        "recent": prescription.applications.order_by("-applied_at")[:10],
        "today": timezone.localdate(),
    }
    return render(request, "treatment/prescription_detail.html", context, status=status)


@staff(Perm.VIEW_COURSE)
def prescription_detail(request, prescription_id):
    return _course_page(request, fetch(request, Prescription, prescription_id))


@staff(Perm.CHANGE_COURSE)
@require_POST
def prescription_status(request, prescription_id):
    prescription = fetch(request, Prescription, prescription_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.change_status(prescription, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Course status changed.")
            return redirect("prescription-detail", prescription_id=prescription.public_id)
    return _course_page(request, prescription, status_form=form, status=422)


@staff(Perm.LOG_APPLICATION)
@require_POST
def application_new(request, prescription_id):
    prescription = fetch(request, Prescription, prescription_id)
    form = ApplicationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        applied_at, zone = data["applied_at"], prescription.patient.zone
        if applied_at is not None:  # the patient's clock, read in their zone
            applied_at = wall_clock(applied_at, zone)
        if data["applied_at"] is not None and applied_at is None:
            form.add_error(
                "applied_at",
                f"{data['applied_at']:%-d %b %Y, %H:%M} never happened in {zone}: the clocks"
                " went forward that night.",
            )
            return _course_page(request, prescription, log_form=form, status=422)
        try:
            logged = services.record_application(
                prescription,
                actor=request.user,
                via=Via.CONSOLE,
                **{**data, "applied_at": applied_at},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            counted = (
                ""
                if logged.counted or data["skipped"]
                else " (outside every slot's window: not counted)"
            )
            messages.success(request, f"Logged for the patient{counted}.")
            return redirect("prescription-detail", prescription_id=prescription.public_id)
    return _course_page(request, prescription, log_form=form, status=422)


def usable_batches(prescription: Prescription):
    """Released batches this prescription may be filled from, earliest BUD first, each
    with `remaining` grams."""
    preparation = prescription.preparation
    batches = (
        Batch.objects.filter(status=BatchStatus.RELEASED, bud__gte=timezone.localdate())
        .filter(preparation=preparation)
        .annotate(used=Sum("fills__quantity_g"))
        .order_by("bud", "pk")
    )
    found = []
    for batch in batches:
        batch.remaining = batch.dispensed_g - (batch.used or 0)
        if batch.remaining > 0:
            found.append(batch)
    return found


@staff(Perm.DISPENSE)
def fill_new(request, prescription_id):
    prescription = fetch(request, Prescription, prescription_id)
    form = FillForm(request.POST or None, batches=usable_batches(prescription))
    if request.method == "POST" and form.is_valid():
        try:
            fill = services.dispense_fill(
                prescription,
                actor=request.user,
                batch=form.batches[form.cleaned_data["batch"]],
                quantity_g=form.cleaned_data["quantity_g"],
                filled_on=form.cleaned_data["filled_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Fill {fill.number} dispensed: a pharmacist verifies it.")
            return redirect("fill-detail", fill_id=fill.public_id)
    made = prescription.fills.count()
    context = {
        "form": form,
        "prescription": prescription,
        "patient": prescription.patient,
        "refills_left": services.refills_left(prescription, made=made),
        "fills": made,
    }
    return render(request, "treatment/fill_form.html", context, status=form_status(form))


@staff(Perm.VIEW_COURSE)
def fill_detail(request, fill_id):
    fill = fetch(request, Fill.objects.select_related("prescription", "batch"), fill_id)
    context = {"fill": fill, "prescription": fill.prescription, "patient": fill.patient}
    return render(request, "treatment/fill_detail.html", context)


@staff(Perm.VERIFY_FILL)
@require_POST
def fill_verify(request, fill_id):
    fill = fetch(request, Fill, fill_id)
    try:
        services.verify_fill(fill, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Fill verified: print its label.")
    return redirect("fill-detail", fill_id=fill.public_id)


@staff(Perm.VIEW_COURSE)
def fill_label(request, fill_id):
    fill = fetch(request, Fill, fill_id)
    try:
        pdf = services.fill_label(fill)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("fill-detail", fill_id=fill.public_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{fill.rx_number}-{fill.number}.pdf"'
    return response


@staff(Perm.REPORT_SIDE_EFFECT)
def side_effect_new(request, prescription_id):
    prescription = fetch(request, Prescription, prescription_id)
    form = SideEffectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            effect = services.report_side_effect(
                prescription, actor=request.user, via=Via.CONSOLE, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Side effect recorded: a pharmacist reviews it.")
            return redirect("side-effect-detail", side_effect_id=effect.public_id)
    context = {"form": form, "prescription": prescription, "patient": prescription.patient}
    return render(request, "treatment/side_effect_form.html", context, status=form_status(form))


def medwatch_rows(fields: dict) -> list[tuple[str, list[tuple[str, object]]]]:
    """The MedWatch fields in words: ("B. Adverse event", [("Event date", ...)])."""
    rows = []
    for section, values in fields.items():
        letter, _, name = section.partition("_")
        words = [(k.replace("_", " ").capitalize(), v) for k, v in values.items()]
        rows.append((f"{letter}. {name.replace('_', ' ').capitalize()}", words))
    return rows


def _side_effect_page(request, effect, form=None, status=200):
    context = {
        "effect": effect,
        "patient": effect.patient,
        "review": getattr(effect, "review", None),
        "form": form or ReviewForm(),
        "medwatch": medwatch_rows(queries.medwatch(effect)),
    }
    return render(request, "treatment/side_effect_detail.html", context, status=status)


@staff(Perm.VIEW_COURSE)
def side_effect_detail(request, side_effect_id):
    return _side_effect_page(request, fetch(request, SideEffect, side_effect_id))


@staff(Perm.REVIEW_SIDE_EFFECT)
@require_POST
def side_effect_review(request, side_effect_id):
    effect = fetch(request, SideEffect, side_effect_id)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_side_effect(effect, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Review recorded.")
            return redirect("side-effect-detail", side_effect_id=effect.public_id)
    return _side_effect_page(request, effect, form, status=422)
