from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from scarrx.accounts.decorators import staff_required
from scarrx.audit.access import patient_history_for
from scarrx.audit.services import record_access


@staff_required
def patient_history(request, patient_id):
    try:
        patient, accesses, changes = patient_history_for(request.user, patient_id)
    except PermissionDenied:
        raise Http404 from None  # technicians and prescribers: the page does not exist for them
    record_access(request, what="audit.patient_history", patient=patient)
    return render(
        request,
        "audit/patient_history.html",
        {
            "patient": patient,
            "accesses": Paginator(accesses, 100).get_page(request.GET.get("a")),
            "changes": Paginator(changes, 100).get_page(request.GET.get("c")),
        },
    )
