from datetime import date

from django.shortcuts import render

from scarrx.access import fetch, staff
from scarrx.accounts.roles import Perm
from scarrx.audit.codes import read_label
from scarrx.audit.models import AccessRecord, ChangeRecord
from scarrx.audit.words import change_lines, change_title
from scarrx.pagination import console_page
from scarrx.patients.models import Patient

PER_PAGE = 50


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


@staff(Perm.VIEW_ACCESS_RECORD, Perm.VIEW_CHANGE_RECORD)
def patient_history(request, patient_id):
    """A patient's audit trail: changes (in words, old → new) or reads, filtered by who
    and when (the pharmacy's local dates)."""
    patient = fetch(request, Patient, patient_id)
    show = "reads" if request.GET.get("show") == "reads" else "changes"
    who = request.GET.get("user", "").strip()[:150]
    since, until = _day(request.GET.get("from", "")), _day(request.GET.get("to", ""))
    model, person = (AccessRecord, "user") if show == "reads" else (ChangeRecord, "actor")
    records = model.objects.filter(patient=patient).select_related(person)
    if who:
        records = records.filter(**{f"{person}__username__iexact": who})
    if since:
        records = records.filter(at__date__gte=since)
    if until:
        records = records.filter(at__date__lte=until)
    page = console_page(request, records, per_page=PER_PAGE)
    if show == "reads":
        entries = [
            {"at": r.at, "who": r.user, "title": read_label(r.what), "lines": [], "r": r}
            for r in page.object_list
        ]
    else:
        entries = [
            {"at": c.at, "who": c.actor, "title": change_title(c), "lines": change_lines(c), "r": c}
            for c in page.object_list
        ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/patient_history.html",
        {
            "patient": patient,
            "show": show,
            "page": page,
            "entries": entries,
            "filters": {"user": who, "from": since, "to": until},
            "query": query.urlencode(),
        },
    )
