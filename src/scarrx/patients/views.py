from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from scarrx.accounts.decorators import staff_required
from scarrx.audit.services import record_access, record_list_access
from scarrx.forms import add_service_errors
from scarrx.patients import services
from scarrx.patients.access import get_patient_for, patients_visible_to, search_patients
from scarrx.patients.forms import ConsentForm, IntakeForm, PatientForm
from scarrx.patients.models import ConsentKind
from scarrx.patients.services import EDITABLE_FIELDS


@staff_required
def patient_list(request):
    q = request.GET.get("q", "").strip()
    patients = patients_visible_to(request.user)
    if q:
        patients = search_patients(patients, q)
    page = Paginator(patients, 50).get_page(request.GET.get("page"))
    record_list_access(request, what="patient.list", patients=page.object_list)
    template = "patients/_rows.html" if request.headers.get("HX-Request") else "patients/list.html"
    return render(request, template, {"page": page, "q": q})


@staff_required
def intake(request):
    if not request.user.has_perm("patients.add_patient"):
        raise Http404
    form = IntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.register_patient(
                actor=request.user, consents=form.consents(), **form.patient_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Registered {patient.full_name} as {patient.record_number}.")
            return redirect("patient-detail", patient_id=patient.public_id)
    return render(request, "patients/intake.html", {"form": form}, status=_status(request, form))


def _status(request, form) -> int:
    return 422 if request.method == "POST" and form.errors else 200


@staff_required
def patient_detail(request, patient_id):
    patient = get_patient_for(request.user, patient_id)
    record_access(request, what="patient.detail", patient=patient)
    from scarrx.assessments.access import assessments_visible_to

    assessments = (
        assessments_visible_to(request.user)
        .filter(patient=patient, is_current=True)
        .prefetch_related("sites")
    )
    from scarrx.photos.access import measurements_visible_to, photos_visible_to

    photos = photos_visible_to(request.user).filter(patient=patient)
    consents = services.current_consents(patient)
    comparisons = measurements_visible_to(request.user).filter(
        photo__patient=patient, baseline__isnull=False, is_current=True
    )
    timeline = patient.change_records.select_related("actor")[:200]
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "consents": [(ConsentKind(k).label, c) for k, c in consents.items()],
            "photo_consent": consents[ConsentKind.PHOTOGRAPHS],
            "comparisons": comparisons,
            "assessments": assessments,
            "photos": photos,
            "timeline": timeline,
            "consent_form": ConsentForm(),
        },
    )


@staff_required
def patient_edit(request, patient_id):
    patient = get_patient_for(request.user, patient_id)
    if not request.user.has_perm("patients.change_patient"):
        raise Http404
    record_access(request, what="patient.edit", patient=patient)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS}
        try:
            services.update_patient(
                patient, actor=request.user, reason=request.POST.get("reason", ""), **changes
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Patient record updated; the old values are in the history.")
            return redirect("patient-detail", patient_id=patient.public_id)
    return render(
        request,
        "patients/edit.html",
        {"form": form, "patient": patient},
        status=_status(request, form),
    )


@staff_required
def consent_record(request, patient_id):
    patient = get_patient_for(request.user, patient_id)
    if request.method != "POST" or not request.user.has_perm("patients.add_consent"):
        raise Http404
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.record_consent(patient=patient, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        for field, errs in form.errors.items():
            messages.error(request, f"Consent not recorded — {field}: {' '.join(errs)}")
    else:
        messages.success(request, "Consent recorded.")
    return redirect("patient-detail", patient_id=patient.public_id)
