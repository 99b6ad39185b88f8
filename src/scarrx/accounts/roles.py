"""Roles are Django groups whose permissions are declared here, in code.

Deny by default: a permission not listed for a role is not granted. Row-level access
(which patients a user may see) lives in `scarrx.patients.access`.
"""

from __future__ import annotations

from enum import StrEnum

PHARMACIST = "pharmacist"
TECHNICIAN = "technician"
PRESCRIBER = "prescriber"
PATIENT = "patient"
ROLES = (PHARMACIST, TECHNICIAN, PRESCRIBER, PATIENT)
STAFF_ROLES = (PHARMACIST, TECHNICIAN, PRESCRIBER)


class Perm(StrEnum):
    """Every staff permission, named once. Views, the API and services name these members,
    never a string, so a typo fails at import rather than silently denying (or allowing)."""

    VIEW_PATIENT = "patients.view_patient"
    ADD_PATIENT = "patients.add_patient"
    CHANGE_PATIENT = "patients.change_patient"
    ADD_CONSENT = "patients.add_consent"
    VIEW_ASSESSMENT = "assessments.view_scarassessment"
    ADD_ASSESSMENT = "assessments.add_scarassessment"
    AMEND_ASSESSMENT = "assessments.amend_scarassessment"
    VIEW_ACCESS_RECORD = "audit.view_accessrecord"
    VIEW_CHANGE_RECORD = "audit.view_changerecord"
    VIEW_PHOTO = "photos.view_photo"
    ADD_PHOTO = "photos.add_photo"
    CHANGE_PHOTO = "photos.change_photo"
    ADD_MEASUREMENT = "photos.add_measurement"
    # pharmacy: the formulary, MFRs, preparations, batches, recalls, labels, settings
    VIEW_FORMULARY = "pharmacy.view_ingredient"
    CHANGE_FORMULARY = "pharmacy.change_ingredient"
    RECEIVE_LOT = "pharmacy.add_ingredientlot"
    CHANGE_BALANCE = "pharmacy.change_balance"
    VIEW_FORMULATION = "pharmacy.view_formulation"
    AUTHOR_FORMULATION = "pharmacy.add_formulation"
    APPROVE_FORMULATION = "pharmacy.approve_formulation"
    VIEW_PREPARATION = "pharmacy.view_preparation"
    ADD_PREPARATION = "pharmacy.add_preparation"
    OVERRIDE_SAFETY = "pharmacy.add_safetyoverride"
    VIEW_BATCH = "pharmacy.view_batch"
    COMPOUND = "pharmacy.add_batch"
    QUARANTINE_BATCH = "pharmacy.quarantine_batch"
    VERIFY_BATCH = "pharmacy.verify_batch"
    VIEW_RECALL = "pharmacy.view_recall"
    RECALL = "pharmacy.add_recall"
    CHANGE_LABEL_TEMPLATE = "pharmacy.add_labeltemplate"
    CHANGE_PHARMACY_SETTINGS = "pharmacy.add_pharmacysettings"


ROLE_PERMISSIONS: dict[str, set[Perm]] = {
    PHARMACIST: set(Perm),
    TECHNICIAN: {
        Perm.VIEW_PATIENT,
        Perm.ADD_PATIENT,
        Perm.CHANGE_PATIENT,
        Perm.ADD_CONSENT,
        Perm.VIEW_ASSESSMENT,
        Perm.VIEW_PHOTO,
        Perm.ADD_PHOTO,
        Perm.CHANGE_PHOTO,
        # compounds, but never releases, quarantine-releases or changes settings
        Perm.VIEW_FORMULARY,
        Perm.RECEIVE_LOT,
        Perm.VIEW_FORMULATION,
        Perm.VIEW_PREPARATION,
        Perm.VIEW_BATCH,
        Perm.COMPOUND,
        Perm.QUARANTINE_BATCH,
        Perm.VIEW_RECALL,
    },
    PRESCRIBER: {
        Perm.VIEW_PATIENT,
        Perm.VIEW_ASSESSMENT,
        Perm.ADD_ASSESSMENT,
        Perm.AMEND_ASSESSMENT,
        Perm.VIEW_PHOTO,
        Perm.ADD_MEASUREMENT,
        # derives preparations for their own patients (scoped by scarrx.access)
        Perm.VIEW_FORMULARY,
        Perm.VIEW_FORMULATION,
        Perm.VIEW_PREPARATION,
        Perm.ADD_PREPARATION,
        Perm.VIEW_BATCH,
    },
    PATIENT: set(),
}


def sync_roles(**kwargs) -> None:
    """Create the role groups and set exactly the declared permissions."""
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in sorted(perms):
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:  # absent only mid-migration, before the model exists
                wanted.append(perm)
        group.permissions.set(wanted)


def role_of(user) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_scarrx_role", "unset")
    if cached != "unset":
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = next((r for r in ROLES if r in names), None)
    user._scarrx_role = role
    return role


def is_staff_role(user) -> bool:
    return role_of(user) in STAFF_ROLES
