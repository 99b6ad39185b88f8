"""Which patients a user may see. Every read of patient data starts here.

Deny by default: pharmacists and technicians see the pharmacy's patients, a prescriber
only the patients they prescribe for, a patient only themselves, anyone else nobody.
An object you may not see is a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from scarrx.accounts.roles import PATIENT, PHARMACIST, PRESCRIBER, TECHNICIAN, role_of
from scarrx.patients.models import Patient

M = TypeVar("M")


def patients_visible_to(user) -> QuerySet[Patient]:
    role = role_of(user)
    if role in (PHARMACIST, TECHNICIAN):
        return Patient.objects.all()
    if role == PRESCRIBER:
        return Patient.objects.filter(prescriber=user)
    if role == PATIENT:
        return Patient.objects.filter(user=user)
    return Patient.objects.none()


def visible_or_404(visible: QuerySet[M], public_id) -> M:
    """The object with this public id among those visible, or a 404 for anything else
    (a malformed id included): never a hint that a hidden object exists."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    found = visible.filter(public_id=key).first()
    if found is None:
        raise Http404
    return found


def get_patient_for(user, public_id) -> Patient:
    return visible_or_404(patients_visible_to(user), public_id)


def search_patients(patients: QuerySet[Patient], q: str) -> QuerySet[Patient]:
    """Each word of q must match a name or the record number."""
    q = q.replace("\x00", "")  # PostgreSQL refuses NUL in a query parameter
    for word in q.split()[:5]:
        patients = patients.filter(
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(record_number__icontains=word)
        )
    return patients


def require(actor, perm: str, patient: Patient | None = None) -> None:
    """The services' own check before a write: the role's permission, and (for a
    patient's records) that the actor may see that patient at all."""
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied("You do not have permission to do this.")
    if patient is not None and not patients_visible_to(actor).filter(pk=patient.pk).exists():
        raise PermissionDenied("You may not do this for this patient.")
