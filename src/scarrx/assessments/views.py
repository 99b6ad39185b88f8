from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from scarrx.access import fetch, staff
from scarrx.accounts.roles import Perm
from scarrx.assessments import scales, services
from scarrx.assessments.forms import (
    AssessmentForm,
    GbDecisionAidForm,
    field_for,
    site_formset,
    sites_from,
    with_another_row,
)
from scarrx.assessments.models import ScarAssessment
from scarrx.forms import add_service_errors
from scarrx.patients.models import Patient


def _show_errors(form, formset, exc: ValidationError) -> None:
    """Route each service error to its field, including a site row's field."""
    rows = formset.filled()
    site_errors, other = {}, {}
    for name, msgs in exc.message_dict.items():
        parts = name.split(".")
        if parts[0] == "sites" and len(parts) == 3 and int(parts[1]) < len(rows):
            row = rows[int(parts[1])]
            target = parts[2] if parts[2] in row.fields else None
            for m in msgs:
                row.add_error(target, m if target else f"{parts[2]}: {m}")
        elif name == "sites":
            site_errors[name] = msgs
        else:
            other[name] = msgs
    for m in site_errors.get("sites", []):
        form.add_error(None, f"Sites: {m}")
    if other:
        add_service_errors(form, ValidationError(other), field_map=field_for)


def _edit(request, *, patient, template, save, initial=None, site_rows=None, extra=None):
    form = AssessmentForm(request.POST or None, initial=initial)
    # Initial rows only for display: on a post, a row left as it was must still count
    # (a formset skips validating rows that equal their initial values).
    posted = request.method == "POST"
    formset = site_formset(request.POST if posted else None, initial=None if posted else site_rows)
    status = 200
    if posted and "add_site" in request.POST:
        form, formset = with_another_row(request.POST)
    elif posted:
        if form.is_valid() and formset.is_valid():
            try:
                assessment = save(form.service_fields() | {"sites": sites_from(formset)})
            except ValidationError as exc:
                _show_errors(form, formset, exc)
            else:
                messages.success(request, "Assessment signed. Scores computed below.")
                return redirect("assessment-detail", assessment_id=assessment.public_id)
        status = 422
    context = {
        "form": form,
        "formset": formset,
        "max_sites": services.MAX_SITES,
        "patient": patient,
        "aid": GbDecisionAidForm(prefix="aid"),
        **(extra or {}),
    }
    return render(request, template, context, status=status)


@staff(Perm.ADD_ASSESSMENT)
def assessment_new(request, patient_id):
    patient = fetch(request, Patient, patient_id)
    initial = {"assessed_on": timezone.localdate(), "timepoint": services.next_timepoint(patient)}

    def save(fields):
        return services.record_assessment(patient=patient, actor=request.user, **fields)

    return _edit(
        request, patient=patient, template="assessments/form.html", save=save, initial=initial
    )


@staff(Perm.VIEW_ASSESSMENT)
def assessment_detail(request, assessment_id):
    assessment = fetch(request, ScarAssessment, assessment_id)
    history = []
    node = assessment
    while node.amends_id:
        node = node.amends
        history.append(node)
    breakdown = (
        scales.gb_quantitative_breakdown(assessment.gb_counts, assessment.gb_d2_area_cm2)
        if assessment.gb_quantitative is not None
        else {}
    )
    return render(
        request,
        "assessments/detail.html",
        {
            "a": assessment,
            "patient": assessment.patient,
            "sites": assessment.sites.all(),
            "history": history,
            "newer": getattr(assessment, "amended_by", None) if not assessment.is_current else None,
            "gb_breakdown": [(k, v) for k, v in breakdown.items() if v],
        },
    )


@staff(Perm.AMEND_ASSESSMENT)
def assessment_amend(request, assessment_id):
    original = fetch(request, ScarAssessment, assessment_id)
    if not original.is_current:
        raise Http404
    inputs = services.assessment_inputs(original)
    reason = request.POST.get("reason", "")

    def save(fields):
        return services.amend_assessment(original, actor=request.user, reason=reason, **fields)

    return _edit(
        request,
        patient=original.patient,
        template="assessments/form.html",
        save=save,
        initial=AssessmentForm.initial_from(inputs),
        site_rows=inputs["sites"],
        extra={"amending": original, "reason": reason},
    )


@staff(Perm.ADD_ASSESSMENT)
@require_POST
def gb_suggest(request):
    """HTMX: the decision-aid answers → a suggested Goodman & Baron grade (a fragment)."""
    aid = GbDecisionAidForm(request.POST, prefix="aid")
    aid.is_valid()
    try:
        grade = scales.gb_qualitative_suggest(**aid.cleaned_data)
    except scales.ScaleError as exc:
        text = f"No grade suggested: {exc.message}."
        return HttpResponse(format_html("<p class='suggest error' role='alert'>{}</p>", text))
    if grade is None:
        text = "Suggested: no scarring."
    else:
        text = f"Suggested: grade {grade} ({scales.GB_QUALITATIVE_GRADES[grade]}). You choose."
    return HttpResponse(format_html("<p class='suggest'>{}</p>", text))
