"""Operations on patients: the only place that writes Patient and Consent rows.

Each is one transaction that also writes the audit row; bad input raises
ValidationError keyed by field name, with nothing saved.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from scarrx.access import patients_visible_to, require
from scarrx.accounts.roles import PATIENT, PRESCRIBER, Perm, role_of
from scarrx.audit.services import diff, reason_errors, record_change
from scarrx.patients.models import (
    Consent,
    ConsentKind,
    Patient,
    Pregnancy,
    PriorTreatment,
    Sex,
)
from scarrx.text import has_letter, text_errors

# Fields a caller may set at intake or amend later.
EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address",
    "time_zone",
    "guardian_name",
    "guardian_relationship",
    "fitzpatrick",
    "pregnancy_status",
    "pregnancy_status_on",
    "allergies",
    "current_medicines",
    "isotretinoin_last_6_months",
    "anticoagulants",
    "acne_severity",
    "acne_onset_age",
    "active_acne",
    "cystic_acne",
    "prior_treatments",
    "prior_treatment_notes",
    "prescriber",
)


MAX_SEARCH_LENGTH = 100
MAX_SEARCH_WORDS = 5


def today() -> date:
    return timezone.localdate()


# A date of birth as the list shows it ("17 May 2000") or as ISO ("2000-05-17").
SEARCH_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2}|\d{1,2} [A-Za-z]{3,9} \d{4})\b")
PHONE_LIKE = re.compile(r"^[\d\s()+.\-]+$")


def _search_date(text: str) -> date | None:
    for form in ("%Y-%m-%d", "%d %b %Y", "%d %B %Y"):
        try:
            return datetime.strptime(text.title(), form).date()  # noqa: DTZ007 - a calendar day
        except ValueError:
            continue
    return None


def search_patients(patients: QuerySet[Patient], q: str) -> QuerySet[Patient]:
    """Find patients by what staff type: each word matches a name or the record number
    ("Lindqvist, Nora", the list's own format, finds Nora Lindqvist); a date of birth as
    the list shows it ("17 May 2000") or ISO; a phone number, whatever its punctuation."""
    q = q.replace("\x00", "")  # PostgreSQL refuses NUL in a query parameter
    if len(q) > MAX_SEARCH_LENGTH:
        raise ValidationError({"q": f"Search with at most {MAX_SEARCH_LENGTH} characters."})
    if found := SEARCH_DATE.search(q):
        born = _search_date(found[0])
        if born is None:
            raise ValidationError({"q": f"{found[0]} is not a date."})
        patients = patients.filter(date_of_birth=born)
        q = q.replace(found[0], " ")
    digits = re.sub(r"\D", "", q)
    if PHONE_LIKE.match(q.strip() or "x") and len(digits) >= 4:
        return patients.filter(
            Q(phone_digits__contains=digits) | Q(record_number__icontains=q.strip())
        )
    for word in q.replace(",", " ").split()[:MAX_SEARCH_WORDS]:
        patients = patients.filter(
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(record_number__icontains=word)
        )
    return patients


NAMES = ("given_name", "family_name")
CANNOT_BE_MALE = (Pregnancy.PREGNANT, Pregnancy.BREASTFEEDING)


def _check_rules(patient: Patient) -> None:
    """Rules beyond field types: text that cannot be stored, dates that cannot be, a minor
    with no guardian. Every problem is reported at once."""
    for name in NAMES:
        setattr(patient, name, (getattr(patient, name) or "").strip())
    patient.phone_digits = re.sub(r"\D", "", patient.phone or "")
    errors = text_errors(Patient, {f: getattr(patient, f, None) for f in EDITABLE_FIELDS})
    for name in EDITABLE_FIELDS:  # full_clean lets a null through where blank is allowed
        if getattr(patient, name, None) is None and not Patient._meta.get_field(name).null:
            errors.setdefault(name, ["Give a value (it may be empty), not null."])
    for name in NAMES:
        value = getattr(patient, name)
        if value and name not in errors and not has_letter(value):
            errors[name] = ["A name needs at least one letter."]
    try:
        patient.full_clean(exclude=["record_number", *errors])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    dob = patient.date_of_birth
    if isinstance(dob, date):
        if dob > today():
            errors.setdefault("date_of_birth", []).append("Date of birth cannot be in the future.")
        elif dob.year < 1900:
            errors.setdefault("date_of_birth", []).append("Date of birth must be after 1900.")
        elif (
            patient.age_on(today()) < settings.MINIMUM_AGE_WITHOUT_GUARDIAN
            and not patient.guardian_name.strip()
        ):
            errors.setdefault("guardian_name", []).append(
                f"Patients under {settings.MINIMUM_AGE_WITHOUT_GUARDIAN} need a parent or "
                "guardian recorded."
            )
        earliest = _earliest_record_date(patient)
        if earliest is not None and dob > earliest:
            errors.setdefault("date_of_birth", []).append(
                f"The patient has records dated {earliest:%-d %b %Y}, before this date of birth."
            )
        if patient.acne_onset_age is not None and patient.acne_onset_age > patient.age_on(today()):
            errors.setdefault("acne_onset_age", []).append(
                "Acne onset age cannot be greater than the patient's age."
            )
    as_of = patient.pregnancy_status_on
    if isinstance(as_of, date):
        if as_of > today():
            errors.setdefault("pregnancy_status_on", []).append(
                "This date cannot be in the future."
            )
        elif as_of < (dob if isinstance(dob, date) else date(1900, 1, 1)):
            errors.setdefault("pregnancy_status_on", []).append(
                "This date cannot be before the date of birth."
            )
    if patient.sex == Sex.MALE and patient.pregnancy_status in CANNOT_BE_MALE:
        errors.setdefault("pregnancy_status", []).append(
            "Pregnancy or breastfeeding cannot be recorded for a patient whose sex is recorded "
            "as male: check the two answers."
        )
    treatments = patient.prior_treatments
    valid = set(PriorTreatment.values)
    if not isinstance(treatments, list) or any(t not in valid for t in treatments):
        errors.setdefault("prior_treatments", []).append(
            f"Choose from: {', '.join(sorted(valid))}."
        )
    else:
        patient.prior_treatments = sorted(set(treatments))
    if patient.prescriber is not None and role_of(patient.prescriber) != PRESCRIBER:
        errors.setdefault("prescriber", []).append("This person is not a prescriber.")
    if errors:
        raise ValidationError(errors)


def _earliest_record_date(patient: Patient) -> date | None:
    """The earliest clinical date already recorded for the patient (None for a new one),
    from every app's part of the patient file."""
    if patient.pk is None:
        return None
    from scarrx.patientfile import earliest_clinical_date

    return earliest_clinical_date(patient)


def _with_prescriber(fields: dict) -> dict:
    """The prescriber given as a user or a user's public id, looked up here."""
    from scarrx.accounts.models import User

    value = fields.get("prescriber")
    if value is None or isinstance(value, User):
        return fields
    try:
        found = User.objects.filter(public_id=uuid.UUID(str(value))).first()
    except ValueError:
        found = None
    if found is None:
        raise ValidationError({"prescriber": "No prescriber with this id."})
    return {**fields, "prescriber": found}


def _snapshot(patient: Patient) -> dict[str, Any]:
    data = {f: getattr(patient, f) for f in EDITABLE_FIELDS if f != "prescriber"}
    data["prescriber"] = str(patient.prescriber) if patient.prescriber_id else None
    return data


class PossibleDuplicate(ValidationError):
    """The patient may be registered already: `matches` are the records that look like
    them, for a page to link. Registering goes on only with a `duplicate_reason`."""

    def __init__(self, matches: list[Patient], *, going_on: str = "register anyway") -> None:
        self.matches = matches
        found = "; ".join(
            f"{p.record_number} ({p.full_name}, born {p.date_of_birth:%-d %b %Y})" for p in matches
        )
        super().__init__(
            {
                "duplicate_reason": f"This patient may be registered already: {found}. Check "
                f"the record; to {going_on}, say why this is someone else."
            }
        )


MIN_PHONE_DIGITS = 7  # fewer is an extension or a typing slip, not a number to match


def possible_duplicates(patient: Patient, among: QuerySet[Patient]) -> list[Patient]:
    """Patients who may be this one: the same name and date of birth, or the same phone
    number (its digits) or e-mail address."""
    same = Q(
        given_name__iexact=patient.given_name,
        family_name__iexact=patient.family_name,
        date_of_birth=patient.date_of_birth,
    )
    if len(patient.phone_digits) >= MIN_PHONE_DIGITS:
        same |= Q(phone_digits=patient.phone_digits)
    if patient.email:
        same |= Q(email__iexact=patient.email)
    return list(among.filter(same).exclude(pk=patient.pk)[:5])


def _consent_errors(kind, given_on, note, born) -> dict[str, list[str]]:
    """What is wrong with one consent decision (`born`: the date of birth, if known)."""
    errors = text_errors(Consent, {"note": note})
    if kind not in ConsentKind.values:
        choose = ", ".join(ConsentKind.values)
        errors["kind"] = [f"Unknown consent {kind!r}; choose one of {choose}."]
    if not isinstance(given_on, date):
        errors["given_on"] = ["Enter the date the consent was given."]
    elif given_on > today():
        errors["given_on"] = ["A consent cannot be dated in the future."]
    elif isinstance(born, date) and given_on < born:
        errors["given_on"] = ["A consent cannot be dated before the patient's birth."]
    return errors


def _intake_consent_errors(consents: list[dict], born) -> dict[str, list[str]]:
    kinds = [c.get("kind") for c in consents]
    errors = {}
    if len(kinds) != len(set(kinds)):
        errors["consents"] = ["Record each consent once at intake."]
    for i, c in enumerate(consents):
        problems = _consent_errors(c.get("kind"), c.get("given_on"), c.get("note", ""), born)
        errors |= {f"consents.{i}.{field}": found for field, found in problems.items()}
    return errors


def check_intake(*, actor, consents: list[dict] | None = None, duplicate_reason="", **fields):
    """Every problem with an intake, at once (ValidationError), without saving; the
    patient it would register otherwise (unsaved), with any possible duplicates."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    patient = Patient(**_with_prescriber(fields))
    errors: dict[str, list[str]] = {}
    try:
        _check_rules(patient)
    except ValidationError as exc:
        errors |= exc.message_dict
    # Consents are dated against a date of birth only when it is itself right.
    born = None if "date_of_birth" in errors else patient.date_of_birth
    errors |= _intake_consent_errors(list(consents or []), born)
    if problems := reason_errors(duplicate_reason):
        errors["duplicate_reason"] = problems["reason"]
    if errors:
        raise ValidationError(errors)
    return patient, possible_duplicates(patient, patients_visible_to(actor))


@transaction.atomic
def register_patient(
    *, actor, consents: list[dict] | None = None, duplicate_reason: str = "", **fields
) -> Patient:
    """Intake: create the patient record and the consents given at the first visit. A
    possible duplicate (PossibleDuplicate) is registered only with a reason, recorded."""
    require(actor, Perm.ADD_PATIENT)
    duplicate_reason = (duplicate_reason or "").strip()
    patient, matches = check_intake(
        actor=actor, consents=consents, duplicate_reason=duplicate_reason, **fields
    )
    if matches and not duplicate_reason:
        raise PossibleDuplicate(matches)
    patient.record_number = f"tmp-{patient.public_id.hex[:12]}"
    patient.save()
    # Sequential, human-friendly, and unique because it derives from the primary key.
    patient.record_number = f"SRX-{patient.pk:06d}"
    patient.save(update_fields=["record_number"])
    data = _snapshot(patient)
    if matches:
        data["possible_duplicates"] = [p.record_number for p in matches]
    record_change(
        actor=actor,
        action="patient.registered",
        obj=patient,
        summary=f"Registered {patient.full_name} ({patient.record_number})"
        + (" despite a possible duplicate" if matches else ""),
        data=data,
        reason=duplicate_reason if matches else "",
    )
    for consent in consents or []:
        record_consent(patient=patient, actor=actor, **consent)
    return patient


def _newly_alike(before: Patient, after: Patient, among: QuerySet[Patient]) -> list[Patient]:
    """The patients an amended record may now be a duplicate of, and was not before."""
    already = {p.pk for p in possible_duplicates(before, among)}
    return [p for p in possible_duplicates(after, among) if p.pk not in already]


@transaction.atomic
def update_patient(
    patient: Patient, *, actor, reason: str = "", duplicate_reason: str = "", **changes
) -> Patient:
    """Amend the record in place, keeping the old values in the change history. A change
    that makes the record look like another patient's (the intake's duplicate check) is
    made only with a `duplicate_reason` (PossibleDuplicate), recorded with the change."""
    require(actor, Perm.CHANGE_PATIENT, patient)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    reason, duplicate_reason = (reason or "").strip(), (duplicate_reason or "").strip()
    problems = reason_errors(reason)
    if found := reason_errors(duplicate_reason):
        problems["duplicate_reason"] = found["reason"]
    if problems:
        raise ValidationError(problems)
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    old = Patient.objects.get(pk=patient.pk)
    before = _snapshot(patient)
    for name, value in _with_prescriber(changes).items():
        setattr(patient, name, value)
    _check_rules(patient)
    changed = diff(before, _snapshot(patient))
    if not changed:
        return patient
    matches = _newly_alike(old, patient, patients_visible_to(actor))
    if matches and not duplicate_reason:
        raise PossibleDuplicate(matches, going_on="save the change")
    if matches:
        reason = " — ".join(r for r in (reason, duplicate_reason) if r)
        if problems := reason_errors(reason):
            raise ValidationError({"duplicate_reason": problems["reason"]})
    patient.save()
    record_change(
        actor=actor,
        action="patient.updated",
        obj=patient,
        summary="Updated "
        + ", ".join(f.replace("_", " ") for f in changed)
        + (f", despite a possible duplicate ({_numbers(matches)})" if matches else ""),
        data=changed,
        reason=reason,
    )
    from scarrx.patientfile import record_changed

    record_changed(actor, patient, changed)  # e.g. the pharmacy's safety screens again
    return patient


def _numbers(patients: list[Patient]) -> str:
    return ", ".join(p.record_number for p in patients)


@transaction.atomic
def record_consent(
    *, patient: Patient, actor, kind: str, granted: bool, given_on: date, note: str = ""
) -> Consent:
    require(actor, Perm.ADD_CONSENT, patient)
    errors = _consent_errors(kind, given_on, note, patient.date_of_birth)
    if errors:
        raise ValidationError(errors)
    in_force = current_consents(patient)[kind]
    consent = Consent.objects.create(
        patient=patient,
        kind=kind,
        granted=bool(granted),
        given_on=given_on,
        recorded_by=actor,
        note=note,
    )
    verb = consent_verb(consent.granted, in_force)
    record_change(
        actor=actor,
        action=f"consent.{verb}",
        obj=consent,
        summary=f"Consent to {consent.get_kind_display().lower()} {verb}",
        data={"kind": kind, "granted": consent.granted, "given_on": given_on, "note": note},
    )
    return consent


def consent_verb(granted: bool, previous: Consent | None) -> str:
    """A refusal after a grant is a withdrawal; otherwise it was declined."""
    if granted:
        return "granted"
    return "withdrawn" if previous is not None and previous.granted else "declined"


def consent_history(consents) -> list[tuple[Consent, str]]:
    """Each decision of these consents, oldest first, with what it did."""
    latest: dict[str, Consent] = {}
    history = []
    for consent in consents.order_by("given_on", "recorded_at", "pk"):
        history.append((consent, consent_verb(consent.granted, latest.get(consent.kind))))
        latest[consent.kind] = consent
    return history


def latest_decisions(patient: Patient) -> dict[str, tuple[Consent | None, str]]:
    """Each kind's decision in force with what it did ("granted", "declined",
    "withdrawn"), or (None, "not asked")."""
    latest: dict[str, tuple[Consent | None, str]] = dict.fromkeys(
        ConsentKind.values, (None, "not asked")
    )
    for consent, verb in consent_history(patient.consents.all()):
        latest[consent.kind] = (consent, verb)
    return latest


def current_consents(patient: Patient) -> dict[str, Consent | None]:
    """The consent in force for each kind: the latest decision, or None if never asked."""
    latest: dict[str, Consent | None] = dict.fromkeys(ConsentKind.values)
    for consent in patient.consents.order_by("given_on", "recorded_at", "pk"):
        latest[consent.kind] = consent
    return latest


@transaction.atomic
def link_portal_account(patient: Patient, *, username, actor) -> Patient:
    """Give a patient-role login access to this record (and only this one)."""
    from scarrx.accounts.models import User

    require(actor, Perm.CHANGE_PATIENT, patient)
    user = username if isinstance(username, User) else None
    if user is None:
        name = str(username or "").strip()
        user = User.objects.filter(username__iexact=name).first() if name else None
        if user is None:
            raise ValidationError({"username": "No login with this username."})
    if role_of(user) != PATIENT:
        raise ValidationError({"username": "Only a login with the patient role can be linked."})
    other = Patient.objects.filter(user=user).exclude(pk=patient.pk).first()
    if other is not None:
        raise ValidationError({"username": "This login is already linked to another patient."})
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    before = patient.user.username if patient.user_id else None
    if before == user.username:
        return patient
    patient.user = user
    patient.save(update_fields=["user"])
    record_change(
        actor=actor,
        action="patient.portal_linked",
        obj=patient,
        summary=f"Portal login {user.username} linked",
        data={"user": [before, user.username]},
    )
    return patient
