"""The formulary, lots, balances, settings and master formulation records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from scarrx.access import require
from scarrx.accounts.roles import Perm
from scarrx.audit.services import record_change
from scarrx.pharmacy import bud as usp
from scarrx.pharmacy import calculations as calc
from scarrx.pharmacy.models import (
    Approval,
    Balance,
    Calibration,
    Formulation,
    FormulationComponent,
    FormulationStep,
    Ingredient,
    IngredientLot,
    MfrStatus,
    PharmacySettings,
    Role,
)
from scarrx.pharmacy.services.common import (
    _grams,
    _inputs,
    _text,
    current_settings,
    today,
)
from scarrx.problems import Problems
from scarrx.text import text_errors_of
from scarrx.values import InputError, grams_text, number_text

# --- settings -------------------------------------------------------------------------


@transaction.atomic
def change_settings(
    *, actor, mfr_approvals: int, day_counting: str, calibration_days: int, reason: str
) -> PharmacySettings:
    require(actor, Perm.CHANGE_PHARMACY_SETTINGS)
    reason = _text(reason, "reason")
    if not isinstance(mfr_approvals, int) or not 1 <= mfr_approvals <= 5:
        raise ValidationError({"mfr_approvals": "From 1 to 5 pharmacist approvals."})
    if day_counting not in usp.DayCounting.__members__.values():
        raise ValidationError({"day_counting": "Choose one of the day-counting conventions."})
    if not isinstance(calibration_days, int) or not 1 <= calibration_days <= 730:
        raise ValidationError({"calibration_days": "From 1 to 730 days."})
    before = current_settings()
    row = PharmacySettings.objects.create(
        mfr_approvals=mfr_approvals,
        day_counting=day_counting,
        calibration_days=calibration_days,
        changed_by=actor,
        reason=reason,
    )
    fields = ("mfr_approvals", "day_counting", "calibration_days")
    record_change(
        actor=actor,
        action="settings.changed",
        obj=row,
        summary="Pharmacy settings changed",
        data={f: [getattr(before, f), getattr(row, f)] for f in fields},
        reason=reason,
    )
    return row


# --- formulary, lots, balances -------------------------------------------------------

INGREDIENT_FIELDS = (
    "role",
    "contains_water",
    "preserves",
    "hazardous",
    "pregnancy_caution",
    "contact_sensitiser",
    "max_strength_percent",
    "allergen_group",
    "assay_percent",
    "salt_factor",
    "density_g_per_ml",
    "notes",
)


def _check_ingredient(ingredient: Ingredient, problems: Problems) -> None:
    if ingredient.role not in Role.values:
        problems.add({"role": [f"Choose one of {', '.join(Role.values)}."]})
    problems.check(_correction_factor, ingredient.assay_percent, ingredient.salt_factor)
    top = ingredient.max_strength_percent
    if top is not None and not 0 < Decimal(top) <= 100:
        problems.add({"max_strength_percent": ["Between 0 and 100 %."]})
    density = ingredient.density_g_per_ml
    if density is not None and not Decimal(density) > 0:
        problems.add({"density_g_per_ml": ["A density is more than 0 g/mL."]})


def _correction_factor(assay_percent, salt_factor) -> None:
    with _inputs():
        for field, value in (("assay_percent", assay_percent), ("salt_factor", salt_factor)):
            if value is None:
                raise InputError(field, "Enter a number.")
        calc.correction_factor(Decimal(assay_percent), Decimal(salt_factor))


def _new_name(name) -> str:
    name = _text(name, "name", limit=120)
    if Ingredient.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"{name} is in the formulary already."})
    return name


@transaction.atomic
def add_ingredient(*, actor, name: str, **fields) -> Ingredient:
    require(actor, Perm.CHANGE_FORMULARY)
    unknown = set(fields) - set(INGREDIENT_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not an ingredient field."})
    problems = Problems()  # every field's problem at once
    name = problems.check(_new_name, name) or ""
    ingredient = Ingredient(name=name, **fields)
    _check_ingredient(ingredient, problems)
    problems.also(text_errors_of(ingredient))
    problems.refuse()
    ingredient.save()
    record_change(
        actor=actor,
        action="ingredient.added",
        obj=ingredient,
        summary=f"{name} ({ingredient.get_role_display().lower()}) added to the formulary",
        data={"name": name, **{f: getattr(ingredient, f) for f in INGREDIENT_FIELDS}},
    )
    return ingredient


# Facts the safety screens read (services.component_facts): a change screens again.
SCREENED_FACTS = frozenset(
    {"name", "hazardous", "pregnancy_caution", "contact_sensitiser", "max_strength_percent"}
    | {"allergen_group"}
)


@transaction.atomic
def update_ingredient(ingredient: Ingredient, *, actor, reason: str, **changes) -> Ingredient:
    """A pharmacist corrects a formulary entry, each field recorded old → new with the
    reason. When a fact the safety screens read changes, the preparations in use that
    contain it are screened again: a new warning blocks their next batch, prescription
    or fill until a pharmacist overrides it. Approved MFRs keep the BUD class they were
    approved with (immutable): a changed water or preservative fact is for their next
    version, and the change record names them."""
    from scarrx.pharmacy.services.preparations import screen_users_again

    require(actor, Perm.CHANGE_FORMULARY)
    unknown = set(changes) - {"name", *INGREDIENT_FIELDS}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not an ingredient field."})
    reason = _text(reason, "reason")
    ingredient = Ingredient.objects.select_for_update().get(pk=ingredient.pk)
    if "name" in changes:
        changes["name"] = _text(changes["name"], "name", limit=120)
        taken = Ingredient.objects.filter(name__iexact=changes["name"]).exclude(pk=ingredient.pk)
        if taken.exists():
            raise ValidationError({"name": f"{changes['name']} is in the formulary already."})
    if "allergen_group" in changes:
        changes["allergen_group"] = (changes["allergen_group"] or "").strip()[:80]
    before = {f: getattr(ingredient, f) for f in changes}
    for name, value in changes.items():
        setattr(ingredient, name, value)
    ingredient.full_clean(exclude=["public_id"], validate_unique=False)  # types, digits
    problems = Problems()
    _check_ingredient(ingredient, problems)
    problems.also(text_errors_of(ingredient))
    problems.refuse()
    ingredient.save()
    ingredient.refresh_from_db()  # decimals as stored, so "1" and "1.000000" are the same
    changed = {f: [before[f], getattr(ingredient, f)] for f in changes}
    changed = {f: v for f, v in changed.items() if v[0] != v[1]}
    if not changed:
        return ingredient
    summary = f"{ingredient}: " + ", ".join(f.replace("_", " ") for f in changed) + " changed"
    class_facts = {"contains_water", "preserves"} & set(changed)
    mfrs = []
    if class_facts:
        mfrs = sorted(
            {
                f"{c.formulation.code} v{c.formulation.version}"
                for c in FormulationComponent.objects.filter(
                    ingredient=ingredient, formulation__status=MfrStatus.APPROVED
                ).select_related("formulation")
            }
        )
        if mfrs:
            summary += "; approved MFRs keep their BUD class until a new version: " + ", ".join(
                mfrs
            )
    record_change(
        actor=actor,
        action="ingredient.updated",
        obj=ingredient,
        summary=summary,
        data={**changed, **({"mfrs_to_version": mfrs} if mfrs else {})},
        reason=reason,
    )
    if SCREENED_FACTS & set(changed):
        screen_users_again(ingredient, actor=actor)
    return ingredient


@transaction.atomic
def receive_lot(
    ingredient: Ingredient,
    *,
    actor,
    supplier: str,
    lot_number: str,
    expiry_date: date,
    received_on: date | None = None,
    received_g,
    coa_reference: str = "",
) -> IngredientLot:
    require(actor, Perm.RECEIVE_LOT)
    supplier = _text(supplier, "supplier", limit=120)
    lot_number = _text(lot_number, "lot_number", limit=20)
    received_on = received_on or today()
    if received_on > today():
        raise ValidationError({"received_on": "A lot cannot be received in the future."})
    if expiry_date < received_on:
        raise ValidationError({"expiry_date": "The lot expired before it was received."})
    grams = _grams(received_g, "received_g")
    if IngredientLot.objects.filter(
        ingredient=ingredient, supplier=supplier, lot_number=lot_number
    ).exists():
        raise ValidationError({"lot_number": f"Lot {lot_number} from {supplier} is recorded."})
    lot = IngredientLot.objects.create(
        ingredient=ingredient,
        supplier=supplier,
        lot_number=lot_number,
        expiry_date=expiry_date,
        received_on=received_on,
        received_g=grams,
        on_hand_g=grams,
        coa_reference=(coa_reference or "").strip()[:120],
        received_by=actor,
    )
    record_change(
        actor=actor,
        action="lot.received",
        obj=lot,
        summary=f"{ingredient} lot {lot_number} from {supplier}: {grams_text(grams)}, "
        f"expires {expiry_date}",
        data={"lot_number": lot_number, "expiry_date": expiry_date, "received_g": grams},
    )
    return lot


@transaction.atomic
def add_balance(
    *, actor, name: str, readability_g, minimum_weight_g, last_calibrated_on: date
) -> Balance:
    require(actor, Perm.CHANGE_BALANCE)
    name = _text(name, "name", limit=80)
    if Balance.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"A balance is called {name} already."})
    if last_calibrated_on > today():
        raise ValidationError({"last_calibrated_on": "Cannot be in the future."})
    balance = Balance.objects.create(
        name=name,
        readability_g=_grams(readability_g, "readability_g"),
        minimum_weight_g=_grams(minimum_weight_g, "minimum_weight_g"),
        last_calibrated_on=last_calibrated_on,
    )
    record_change(
        actor=actor,
        action="balance.added",
        obj=balance,
        summary=f"Balance {name}: minimum weight {grams_text(balance.minimum_weight_g)}",
        data={"minimum_weight_g": balance.minimum_weight_g},
    )
    return balance


@transaction.atomic
def calibrate_balance(balance: Balance, *, actor, on: date, note: str = "") -> Calibration:
    require(actor, Perm.CHANGE_BALANCE)
    if on > today():
        raise ValidationError({"on": "A calibration cannot be in the future."})
    if Balance.objects.filter(pk=balance.pk, retired=True).exists():
        raise ValidationError({"on": f"{balance} is out of service."})
    row = Calibration.objects.create(balance=balance, on=on, by=actor, note=note[:200])
    Balance.objects.filter(pk=balance.pk, last_calibrated_on__lt=on).update(last_calibrated_on=on)
    balance.refresh_from_db()
    record_change(
        actor=actor,
        action="balance.calibrated",
        obj=balance,
        summary=f"Balance {balance} calibrated on {on}",
        data={"on": on, "note": note},
    )
    return row


@transaction.atomic
def retire_balance(balance: Balance, *, actor, reason: str) -> Balance:
    """Take a balance out of service, with the reason: the bench no longer offers it and
    refuses a weighing on it. Its past weighings keep naming it (records are facts)."""
    require(actor, Perm.CHANGE_BALANCE)
    reason = _text(reason, "reason")
    balance = Balance.objects.select_for_update().get(pk=balance.pk)
    if balance.retired:
        raise ValidationError({"__all__": f"{balance} is out of service already."})
    balance.retired, balance.retired_on, balance.retired_reason = True, today(), reason
    balance.save(update_fields=["retired", "retired_on", "retired_reason"])
    record_change(
        actor=actor,
        action="balance.retired",
        obj=balance,
        summary=f"Balance {balance} taken out of service",
        data={"retired_on": balance.retired_on},
        reason=reason,
    )
    return balance


# --- master formulation records --------------------------------------------------------

MFR_FIELDS = (
    "name",
    "dosage_form",
    "route",
    "container_closure",
    "equipment",
    "description",
    "bud_source",
    "stability_limit_days",
    "calculations",
    "qc_specification",
    "ph_min",
    "ph_max",
    "tolerance_percent",
    "label_text",
    "produces",
)
REQUIRED_MFR_TEXT = ("name", "container_closure", "equipment", "description", "qc_specification")


@dataclass(frozen=True)
class ComponentLine:
    """One line of a formula: an ingredient at a strength (None for the base)."""

    ingredient: Ingredient
    strength_percent: Decimal | None
    function: str = ""
    characteristics: str = ""


@dataclass(frozen=True)
class StepLine:
    text: str
    required: bool = True
    pharmacist_only: bool = False
    photo: bool = False


def _engine_components(lines: Sequence[ComponentLine]) -> tuple[list[calc.Component], str]:
    actives = [line for line in lines if line.strength_percent is not None]
    bases = [line for line in lines if line.strength_percent is None]
    if len(bases) != 1:
        raise ValidationError({"components": "Name exactly one base (quantum sufficit)."})
    return [
        calc.Component(
            line.ingredient.name,
            Decimal(line.strength_percent),
            Decimal(line.ingredient.assay_percent),
            Decimal(line.ingredient.salt_factor),
        )
        for line in actives
        if line.strength_percent is not None
    ], bases[0].ingredient.name


def check_formula(lines: Sequence[ComponentLine]) -> None:
    """The strengths leave room for the base, every one more than 0 and each ingredient
    once: the engine's own checks, on a 100 g batch."""
    if not lines:
        raise ValidationError({"components": "List the components."})
    components, base = _engine_components(lines)
    with _inputs():
        calc.batch_masses(components, dispensed_g=Decimal(100), base=base)


def _water(lines: Sequence[ComponentLine]) -> tuple[str, bool]:
    """Water activity and preservation from the components (clinical.md §4: a watery
    component makes the preparation aqueous)."""
    with _inputs():
        activity = usp.water_activity_from_components(
            {line.ingredient.name: line.ingredient.contains_water for line in lines}
        )
    return activity.value, any(line.ingredient.preserves for line in lines)


def _mfr_fields(fields: dict) -> dict:
    unknown = set(fields) - set(MFR_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not a field of a master formulation record."})
    for name in REQUIRED_MFR_TEXT:
        if name in fields:
            fields[name] = _text(fields[name], name, limit=4000)
    low, high = fields.get("ph_min"), fields.get("ph_max")
    given = low is not None or high is not None
    if given and (low is None or high is None or not 0 <= low < high <= 14):
        raise ValidationError({"ph_max": "Give a pH range from low to high, within 0–14."})
    days = fields.get("stability_limit_days")
    if days is not None and not 1 <= days <= usp.MAX_BUD_DAYS:
        raise ValidationError({"stability_limit_days": "From 1 to 180 days."})
    return fields


def _write_formula(mfr: Formulation, lines, steps) -> None:
    for order, line in enumerate(lines):
        FormulationComponent.objects.create(
            formulation=mfr,
            ingredient=line.ingredient,
            strength_percent=line.strength_percent,
            function=line.function[:80],
            characteristics=line.characteristics[:200],
            order=order,
        )
    for order, step in enumerate(steps):
        FormulationStep.objects.create(
            formulation=mfr,
            order=order,
            text=_text(step.text, f"steps[{order}].text"),
            required=step.required,
            pharmacist_only=step.pharmacist_only,
            photo=step.photo,
        )


@transaction.atomic
def draft_formulation(
    *,
    actor,
    code: str,
    components: Sequence[ComponentLine],
    steps: Sequence[StepLine],
    previous: Formulation | None = None,
    change_reason: str = "",
    **fields,
) -> Formulation:
    """A new MFR draft: version 1 of a new code, or the next version of `previous`."""
    require(actor, Perm.AUTHOR_FORMULATION)
    code = _text(code, "code", limit=30).upper()
    fields = _mfr_fields(dict(fields))
    check_formula(components)
    if not steps:
        raise ValidationError({"steps": "List the compounding steps."})
    activity, preserved = _water(components)
    if previous is None:
        if Formulation.objects.filter(code=code).exists():
            raise ValidationError({"code": f"MFR {code} exists: make a new version of it."})
        version = 1
    else:
        change_reason = _text(change_reason, "change_reason")
        version = Formulation.objects.filter(code=previous.code).count() + 1
        code = previous.code
    mfr = Formulation.objects.create(
        code=code,
        version=version,
        water_activity=activity,
        preserved=preserved,
        previous=previous,
        change_reason=change_reason,
        author=actor,
        **fields,
    )
    _write_formula(mfr, components, steps)
    record_change(
        actor=actor,
        action="mfr.drafted",
        obj=mfr,
        summary=f"MFR {code} v{version} drafted: {mfr.name}",
        data={"code": code, "version": version, "components": formula_words(mfr)},
        reason=change_reason,
    )
    return mfr


IMMUTABLE = "An approved master formulation record cannot be changed: make a new version."


@transaction.atomic
def edit_formulation(
    mfr: Formulation,
    *,
    actor,
    components: Sequence[ComponentLine] | None = None,
    steps: Sequence[StepLine] | None = None,
    **fields,
) -> Formulation:
    """Change a draft. An approved (or superseded) version is refused: records pinned
    to it must keep meaning what they meant."""
    require(actor, Perm.AUTHOR_FORMULATION)
    mfr = Formulation.objects.select_for_update().get(pk=mfr.pk)
    if mfr.status != MfrStatus.DRAFT:
        raise ValidationError({"__all__": IMMUTABLE})
    if mfr.approvals.exists():
        raise ValidationError({"__all__": "A draft with approvals is locked: make a new version."})
    fields = _mfr_fields(dict(fields))
    before = {f: getattr(mfr, f) for f in fields}
    for name, value in fields.items():
        setattr(mfr, name, value)
    if components is not None or steps is not None:
        raise ValidationError(
            {"components": "Components and steps are set when drafting: draft a new version."}
        )
    mfr.save()
    record_change(
        actor=actor,
        action="mfr.edited",
        obj=mfr,
        summary=f"MFR {mfr.code} v{mfr.version} draft edited",
        data={f: [before[f], getattr(mfr, f)] for f in fields if before[f] != getattr(mfr, f)},
    )
    return mfr


def new_version(mfr: Formulation, *, actor, change_reason: str, **changes) -> Formulation:
    """The next version of an MFR: a draft copying this one, with `changes`."""
    lines = changes.pop("components", None) or [
        ComponentLine(c.ingredient, c.strength_percent, c.function, c.characteristics)
        for c in mfr.components.select_related("ingredient")
    ]
    steps = changes.pop("steps", None) or [
        StepLine(s.text, s.required, s.pharmacist_only, s.photo) for s in mfr.steps.all()
    ]
    fields = {f: getattr(mfr, f) for f in MFR_FIELDS} | changes
    return draft_formulation(
        actor=actor,
        code=mfr.code,
        components=lines,
        steps=steps,
        previous=mfr,
        change_reason=change_reason,
        **fields,
    )


@transaction.atomic
def approve_formulation(mfr: Formulation, *, actor) -> Formulation:
    """A pharmacist's approval; the configured number of them approves the draft. The
    author's own approval is refused, as is a second one by the same pharmacist."""
    require(actor, Perm.APPROVE_FORMULATION)
    mfr = Formulation.objects.select_for_update().get(pk=mfr.pk)
    if mfr.status != MfrStatus.DRAFT:
        raise ValidationError({"__all__": "This version is approved already."})
    if mfr.author_id == actor.pk:
        raise ValidationError(
            {"__all__": "You wrote this formula: another pharmacist must approve it."}
        )
    if mfr.approvals.filter(by=actor).exists():
        raise ValidationError({"__all__": "You have approved this version already."})
    Approval.objects.create(formulation=mfr, by=actor)
    needed = current_settings().mfr_approvals
    given = mfr.approvals.count()
    record_change(
        actor=actor,
        action="mfr.approval",
        obj=mfr,
        summary=f"MFR {mfr.code} v{mfr.version}: approval {given} of {needed}",
    )
    if given >= needed:
        mfr.status, mfr.approved_at = MfrStatus.APPROVED, timezone.now()
        mfr.save(update_fields=["status", "approved_at"])
        superseded = Formulation.objects.filter(
            code=mfr.code, status=MfrStatus.APPROVED, version__lt=mfr.version
        )
        superseded.update(status=MfrStatus.SUPERSEDED)
        record_change(
            actor=actor,
            action="mfr.approved",
            obj=mfr,
            summary=f"MFR {mfr.code} v{mfr.version} approved: {mfr.name}",
            data={"approvers": list(mfr.approvals.values_list("by__username", flat=True))},
        )
    return mfr


def formula_words(mfr_or_preparation) -> list[str]:
    out = []
    for c in mfr_or_preparation.components.select_related("ingredient"):
        if c.strength_percent is None:
            out.append(f"{c.ingredient.name} q.s.")
        else:
            out.append(f"{c.ingredient.name} {number_text(c.strength_percent)} %")
    return out
