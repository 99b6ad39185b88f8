from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from scarrx import patientfile
from scarrx.access import fetch, patients_visible_to, staff
from scarrx.accounts.roles import Perm
from scarrx.audit.services import record_reads
from scarrx.forms import add_service_errors, also_check, form_status
from scarrx.pagination import console_page
from scarrx.patients import services
from scarrx.patients.forms import ConsentForm, IntakeForm, PatientForm, PortalLoginForm
from scarrx.patients.models import Patient
from scarrx.patients.services import EDITABLE_FIELDS, search_patients

TIMELINE_ON_PAGE = 15
TIMELINE_PER_PAGE = 50


@staff(Perm.VIEW_PATIENT)
def patient_list(request):
    q = request.GET.get("q", "").strip()
    patients = patients_visible_to(request.user)
    form_error = ""
    if q:
        try:
            patients = search_patients(patients, q)
        except ValidationError as exc:
            form_error, patients = " ".join(exc.messages), patients.none()
    page = console_page(request, patients)
    template = "patients/_rows.html" if request.headers.get("HX-Request") else "patients/list.html"
    return render(request, template, {"page": page, "q": q, "q_error": form_error})


@staff(Perm.ADD_PATIENT)
def intake(request):
    form = IntakeForm(request.POST or None)
    duplicates: list[Patient] = []
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.register_patient(actor=request.user, **form.intake())
        except services.PossibleDuplicate as exc:
            duplicates = exc.matches
            record_reads(request, duplicates)  # their names and dates of birth are shown
            add_service_errors(form, exc)
        except ValidationError as exc:
            add_service_errors(form, exc, form.field_for)
        else:
            messages.success(request, f"Registered {patient.full_name} as {patient.record_number}.")
            return redirect("patient-detail", patient_id=patient.public_id)
    elif request.method == "POST":
        check = partial(services.check_intake, actor=request.user, **form.intake())
        also_check(form, check, form.field_for)
    context = {"form": form, "duplicates": duplicates}
    return render(request, "patients/intake.html", context, status=form_status(form))


@staff(Perm.VIEW_PATIENT)
def patient_detail(request, patient_id):
    patient = fetch(request, Patient, patient_id)
    timeline = patientfile.timeline(request.user, patient)
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "is_patient_page": True,
            "panels": patientfile.panels(request, patient),
            "timeline": timeline[:TIMELINE_ON_PAGE],
            "more_events": len(timeline) > TIMELINE_ON_PAGE,
            "portal_form": PortalLoginForm()
            if request.user.has_perm(Perm.CHANGE_PATIENT)
            else None,
        },
    )


@staff(Perm.VIEW_PATIENT)
def patient_timeline(request, patient_id):
    patient = fetch(request, Patient, patient_id)
    kinds = [k for k in request.GET.getlist("kind") if k in patientfile.KINDS]
    events = patientfile.timeline(request.user, patient, kinds=kinds)
    page = Paginator(events, TIMELINE_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "patients/timeline.html",
        {"patient": patient, "page": page, "kinds": patientfile.KINDS, "chosen": kinds},
    )


@staff(Perm.CHANGE_PATIENT)
def patient_edit(request, patient_id):
    patient = fetch(request, Patient, patient_id)
    form = PatientForm(request.POST or None, instance=patient)
    duplicates: list[Patient] = []
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS}
        try:
            services.update_patient(
                patient,
                actor=request.user,
                reason=request.POST.get("reason", ""),
                duplicate_reason=form.cleaned_data["duplicate_reason"],
                **changes,
            )
        except services.PossibleDuplicate as exc:
            duplicates = exc.matches
            record_reads(request, duplicates)  # their names and dates of birth are shown
            add_service_errors(form, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Patient record updated; the old values are in the history.")
            return redirect("patient-detail", patient_id=patient.public_id)
    return render(
        request,
        "patients/edit.html",
        {"form": form, "patient": patient, "duplicates": duplicates},
        status=form_status(form),
    )


def _report(request, form, *, done: str, refused: str) -> None:
    if form.errors:
        for errs in form.errors.values():
            messages.error(request, f"{refused}: {' '.join(errs)}")
    else:
        messages.success(request, done)


@staff(Perm.ADD_CONSENT)
@require_POST
def consent_record(request, patient_id):
    patient = fetch(request, Patient, patient_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.record_consent(patient=patient, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
    _report(request, form, done="Consent recorded.", refused="Consent not recorded")
    return redirect("patient-detail", patient_id=patient.public_id)


@staff(Perm.CHANGE_PATIENT)
@require_POST
def portal_login(request, patient_id):
    patient = fetch(request, Patient, patient_id)
    form = PortalLoginForm(request.POST)
    if form.is_valid():
        try:
            services.link_portal_account(
                patient, username=form.cleaned_data["username"], actor=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    _report(request, form, done="Portal login linked.", refused="Portal login not linked")
    return redirect("patient-detail", patient_id=patient.public_id)
