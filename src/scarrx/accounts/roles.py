"""Roles are Django groups whose permissions are declared here, in code.

Deny by default: a permission not listed for a role is not granted. Row-level access
(which patients a user may see) lives in `scarrx.patients.access`.
"""

from __future__ import annotations

PHARMACIST = "pharmacist"
TECHNICIAN = "technician"
PRESCRIBER = "prescriber"
PATIENT = "patient"
ROLES = (PHARMACIST, TECHNICIAN, PRESCRIBER, PATIENT)
STAFF_ROLES = (PHARMACIST, TECHNICIAN, PRESCRIBER)

ROLE_PERMISSIONS: dict[str, set[str]] = {
    PHARMACIST: {
        "patients.view_patient",
        "patients.add_patient",
        "patients.change_patient",
        "patients.add_consent",
        "assessments.view_scarassessment",
        "assessments.add_scarassessment",
        "assessments.amend_scarassessment",
        "audit.view_accessrecord",
        "audit.view_changerecord",
        "photos.view_photo",
        "photos.add_photo",
        "photos.change_photo",
        "photos.add_measurement",
    },
    TECHNICIAN: {
        "patients.view_patient",
        "patients.add_patient",
        "patients.change_patient",
        "patients.add_consent",
        "assessments.view_scarassessment",
        "photos.view_photo",
        "photos.add_photo",
        "photos.change_photo",
    },
    PRESCRIBER: {
        "patients.view_patient",
        "assessments.view_scarassessment",
        "assessments.add_scarassessment",
        "assessments.amend_scarassessment",
        "photos.view_photo",
        "photos.add_measurement",
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
