"""Patient preparations derived from approved MFRs, and their safety screens."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from scarrx.access import require
from scarrx.accounts.roles import Perm
from scarrx.audit.services import record_change
from scarrx.patients.models import Patient
from scarrx.pharmacy.models import (
    Batch,
    Formulation,
    Ingredient,
    MfrStatus,
    Preparation,
    PreparationComponent,
    Role,
    SafetyOverride,
    SafetyWarning,
    Stage,
)
from scarrx.pharmacy.screens import ComponentFacts, PatientFacts, screen
from scarrx.pharmacy.services.common import (
    _text,
)
from scarrx.pharmacy.services.formulary import ComponentLine, _water, check_formula, formula_words
from scarrx.values import number_text

# --- preparations and safety screens -------------------------------------------------


def patient_facts(patient: Patient) -> PatientFacts:
    """What the screens need from the patient's record: pregnancy, allergies, and any
    surgical or trauma scar under a year old in their current assessments."""
    from scarrx.assessments.models import AssessmentSite

    recent = AssessmentSite.objects.filter(
        assessment__patient=patient,
        assessment__is_current=True,
        cause__in=("surgery", "trauma"),
        scar_age_years__lt=1,
    )
    sites = tuple(dict.fromkeys(s.get_site_display() for s in recent))
    unknown = "Pregnancy status not known" in patient.safety_flags()  # the patient's own rule
    return PatientFacts(patient.pregnancy_status, patient.allergies, sites, unknown)


def component_facts(ingredient: Ingredient, strength: Decimal | None) -> ComponentFacts:
    return ComponentFacts(
        name=ingredient.name,
        strength_percent=strength,
        pregnancy_caution=ingredient.pregnancy_caution,
        hazardous=ingredient.hazardous,
        contact_sensitiser=ingredient.contact_sensitiser,
        max_strength_percent=ingredient.max_strength_percent,
        allergen_group=ingredient.allergen_group,
    )


def _screen(preparation: Preparation, stage: str, batch: Batch | None, actor) -> list:
    """Run the screens; record each finding not already on the preparation (an
    override at assignment stands at compounding for the same finding)."""
    facts = patient_facts(Patient.objects.get(pk=preparation.patient_id))  # as it is now
    components = [
        component_facts(c.ingredient, c.strength_percent)
        for c in preparation.components.select_related("ingredient")
    ]
    known = set(preparation.warnings.values_list("code", "subject"))
    new = []
    for finding in screen(facts, components):
        if (finding.code, finding.subject) in known:
            continue
        known.add((finding.code, finding.subject))
        warning = SafetyWarning.objects.create(
            preparation=preparation,
            batch=batch,
            stage=stage,
            code=finding.code,
            subject=finding.subject[:120],
            message=finding.message[:400],
        )
        record_change(
            actor=actor,
            action="safety.warned",
            obj=warning,
            patient=preparation.patient,
            summary=f"{warning.get_stage_display()}: {finding.message}",
            data={"code": finding.code, "subject": finding.subject},
        )
        new.append(warning)
    return new


def open_warnings(preparation: Preparation):
    return preparation.warnings.filter(override__isnull=True)


@transaction.atomic
def derive_preparation(
    *,
    actor,
    patient: Patient,
    formulation: Formulation,
    strengths: dict[Ingredient, Decimal] | None = None,
    added: dict[Ingredient, Decimal] | None = None,
    name: str = "",
) -> Preparation:
    """A patient's preparation from an approved MFR: its strengths changed where
    `strengths` says, and approved actives `added`; then the safety screens run."""
    require(actor, Perm.ADD_PREPARATION, patient)
    if formulation.status != MfrStatus.APPROVED:
        raise ValidationError({"formulation": "Choose an approved master formulation record."})
    strengths, added = dict(strengths or {}), dict(added or {})
    lines = []
    mfr_lines = list(formulation.components.select_related("ingredient"))
    in_mfr = {c.ingredient for c in mfr_lines}
    for ingredient in strengths:
        if ingredient not in in_mfr:
            raise ValidationError({"strengths": f"{ingredient} is not in this MFR: add it."})
    for c in mfr_lines:
        strength = c.strength_percent
        if c.ingredient in strengths:
            if strength is None:
                raise ValidationError({"strengths": "The base is quantum sufficit."})
            strength = strengths[c.ingredient]
        lines.append((c.ingredient, strength, c.strength_percent, False))
    for ingredient, strength in added.items():
        if ingredient in in_mfr:
            raise ValidationError({"added": f"{ingredient} is in the MFR: change its strength."})
        if ingredient.role != Role.ACTIVE:
            raise ValidationError({"added": f"{ingredient} is not an active in the formulary."})
        lines.append((ingredient, strength, None, True))
    lines.sort(key=lambda line: line[1] is None)  # the base last, as the engine lists it
    formula = [ComponentLine(i, s) for i, s, _, _ in lines]
    for i, s, _, _ in lines:
        if s is not None and (not Decimal(s).is_finite() or Decimal(s) <= 0):
            raise ValidationError({"strengths": f"{i}: a strength must be more than 0 %."})
    check_formula(formula)
    activity, preserved = _water(formula)
    changes = []
    for ingredient, strength, mfr_strength, was_added in lines:
        if was_added:
            changes.append(f"{ingredient} {number_text(strength)} % added")
        elif strength != mfr_strength:
            changes.append(
                f"{ingredient} {number_text(mfr_strength)} % → {number_text(strength)} %"
            )
    preparation = Preparation.objects.create(
        patient=patient,
        formulation=formulation,
        name=(name or "").strip()[:200] or _preparation_name(formulation, lines),
        water_activity=activity,
        preserved=preserved,
        differences="; ".join(changes),
        created_by=actor,
    )
    for order, (ingredient, strength, mfr_strength, was_added) in enumerate(lines):
        PreparationComponent.objects.create(
            preparation=preparation,
            ingredient=ingredient,
            strength_percent=strength,
            mfr_strength_percent=mfr_strength,
            added=was_added,
            order=order,
        )
    record_change(
        actor=actor,
        action="preparation.derived",
        obj=preparation,
        summary=f"{preparation.name} from MFR {formulation.code} v{formulation.version}"
        + (f" ({preparation.differences})" if changes else ", as the MFR"),
        data={"formulation": str(formulation.public_id), "components": formula_words(preparation)},
    )
    _screen(preparation, Stage.ASSIGNMENT, None, actor)
    return preparation


def _preparation_name(formulation: Formulation, lines) -> str:
    actives = [f"{i.name} {number_text(s)} %" for i, s, _, _ in lines if s is not None]
    return f"{', '.join(actives) or formulation.name} {formulation.dosage_form}"[:200]


@transaction.atomic
def override_warning(warning: SafetyWarning, *, actor, reason: str) -> SafetyOverride:
    """A pharmacist accepts a warning, with the reason shown on the record."""
    patient = warning.preparation.patient
    require(actor, Perm.OVERRIDE_SAFETY, patient)
    reason = _text(reason, "reason", limit=500)
    warning = SafetyWarning.objects.select_for_update().get(pk=warning.pk)
    if SafetyOverride.objects.filter(warning=warning).exists():
        raise ValidationError({"warning": "This warning is overridden already."})
    override = SafetyOverride.objects.create(warning=warning, by=actor, reason=reason)
    record_change(
        actor=actor,
        action="safety.overridden",
        obj=warning,
        patient=patient,
        summary=f"Overridden: {warning.message}",
        data={"code": warning.code, "subject": warning.subject},
        reason=reason,
    )
    return override
