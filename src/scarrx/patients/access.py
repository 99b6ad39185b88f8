"""Which patients a user may see. Every read of patient data starts here.

Deny by default: pharmacists and technicians see the pharmacy's patients, a prescriber
only the patients they prescribe for, a patient only themselves, anyone else nobody.
An object you may not see is a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet
from django.http import Http404

from scarrx.accounts.roles import PATIENT, PHARMACIST, PRESCRIBER, TECHNICIAN, role_of
from scarrx.patients.models import Patient


def patients_visible_to(user) -> QuerySet[Patient]:
    role = role_of(user)
    if role in (PHARMACIST, TECHNICIAN):
        return Patient.objects.all()
    if role == PRESCRIBER:
        return Patient.objects.filter(prescriber=user)
    if role == PATIENT:
        return Patient.objects.filter(user=user)
    return Patient.objects.none()


def get_patient_for(user, public_id) -> Patient:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404("No such patient") from None
    patient = patients_visible_to(user).filter(public_id=key).first()
    if patient is None:
        raise Http404("No such patient")
    return patient


def search_patients(patients: QuerySet[Patient], q: str) -> QuerySet[Patient]:
    """Each word of q must match a name or the record number."""
    for word in q.split()[:5]:
        patients = patients.filter(
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(record_number__icontains=word)
        )
    return patients
