"""Patient preparations derived from approved MFRs, and their safety screens."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scarrx.access import require
from scarrx.accounts.roles import Perm
from scarrx.audit.services import record_change
from scarrx.patients.models import Patient
from scarrx.pharmacy.bud import MAX_BUD_DAYS
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
    """Run the screens against the records as they are now; record each finding not
    already on the preparation. A finding is the same when its code, subject and words
    are: an override at assignment stands at compounding for the same finding, but a
    changed fact (pregnancy status not known → pregnant, a lower formulary maximum) is a
    new finding that blocks until a pharmacist overrides it too."""
    facts = patient_facts(Patient.objects.get(pk=preparation.patient_id))  # as it is now
    components = [
        component_facts(c.ingredient, c.strength_percent)
        for c in preparation.components.select_related("ingredient")
    ]
    known = set(preparation.warnings.values_list("code", "subject", "message"))
    new = []
    for finding in screen(facts, components):
        key = (finding.code, finding.subject[:120], finding.message[:400])
        if key in known:
            continue
        known.add(key)
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


@transaction.atomic
def screen_again(preparation: Preparation, *, actor, stage: str) -> list[SafetyWarning]:
    """The screens once more, at compounding, prescribing or dispensing: the new warnings.
    Its own transaction, so a warning found when a batch or a fill is about to start is
    kept even though that start is then refused (open warnings block it)."""
    require(actor, Perm.VIEW_PREPARATION, preparation.patient)
    return _screen(preparation, stage, None, actor)


def screen_patient_again(patient: Patient, *, actor) -> list[SafetyWarning]:
    """After the patient's record changed (pregnancy status, allergies, sex, date of
    birth, an assessment): every preparation of theirs screened again, in the caller's
    transaction. All of them, whoever changed the record (the caller checked they may
    change it): a safety screen does not depend on what the actor may see, and shows
    them nothing."""
    preparations = Preparation.objects.filter(patient=patient)
    return [w for p in preparations for w in _screen(p, Stage.RECORD, None, actor)]


def in_use(preparations):
    """Preparations that may still be compounded or dispensed without another screen
    first: made, or compounded, within the longest BUD (180 days). Older ones are screened
    again anyway when a batch is started, a prescription written or a fill dispensed."""
    since = timezone.now() - timedelta(days=MAX_BUD_DAYS)
    return preparations.filter(Q(created_at__gte=since) | Q(batches__started_at__gte=since))


def screen_users_again(ingredient: Ingredient, *, actor) -> list[SafetyWarning]:
    """After an ingredient's safety facts changed: the preparations in use that contain
    it screened again, in the caller's transaction."""
    preparations = in_use(Preparation.objects.filter(components__ingredient=ingredient)).distinct()
    return [w for p in preparations for w in _screen(p, Stage.RECORD, None, actor)]


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
