"""The compounding calculation engine: what to weigh for a batch, and the checks around it.

Pure functions of plain values: no Django, no database. Source: the project's
clinical.md §5 (compounding calculations). Strengths are % w/w, grams per 100 g of the
preparation (``BASIS``), the default for gels, creams and ointments.

Every result carries its calculation as text a second person can check, written with the
figures shown on the record ("0.300 g = 1 % × 30.000 g").

Rounding, so that the masses always add up:

* Masses are carried to 1 ng (``MASS_QUANTUM``, nine decimal places, half up): exact for
  every terminating figure, and far below any balance for the rest (100/88 is not a finite
  decimal). This carried value is the ``target_g`` of a component.
* The base is quantum sufficit: the batch mass less the actives' carried masses, so the
  carried target masses sum exactly to the batch mass.
* Shown masses are to 0.001 g, half up, and the base absorbs the rounding: its shown mass is
  the shown batch mass less the actives' shown masses, so the shown figures add up too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext

from scarrx.values import (
    DISPLAY_GRAMS,
    InputError,
    decimal_input,
    grams_text,
    items_of,
    number_text,
    positive_decimal,
    required_text,
)

__all__ = [
    "BASIS",
    "MASS_QUANTUM",
    "MAX_BATCH_GRAMS",
    "Aliquot",
    "Alligation",
    "BatchCalculation",
    "BatchYield",
    "Component",
    "ComponentMass",
    "WeighingWarning",
    "WeightCheck",
    "aliquot",
    "alligation",
    "batch_masses",
    "batch_yield",
    "check_weight",
    "correction_factor",
    "minimum_weighable_quantity",
    "salt_to_base_factor",
]

BASIS = "% w/w"
MASS_QUANTUM = Decimal("0.000000001")  # 1 ng
MAX_BATCH_GRAMS = Decimal(1_000_000)  # a tonne is not a compounding batch
HUNDRED = Decimal(100)
_WIDE = 60  # digits for intermediate products, before carrying to 1 ng


def _carried(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    with localcontext(prec=_WIDE):
        return value.quantize(MASS_QUANTUM, rounding=rounding)


def _shown(grams: Decimal) -> Decimal:
    return grams.quantize(DISPLAY_GRAMS, rounding=ROUND_HALF_UP)


def _percent_text(value: Decimal) -> str:
    return f"{number_text(value)} %"


def _percent(value: object, field: str, *, high: Decimal = HUNDRED) -> Decimal:
    """A percentage more than 0 and at most ``high``."""
    number = positive_decimal(value, field, "%")
    if number > high:
        raise InputError(
            field, f"must be at most {_percent_text(high)}; got {_percent_text(number)}"
        )
    return number


def _grams(value: object, field: str) -> Decimal:
    grams = positive_decimal(value, field, "g")
    if grams > MAX_BATCH_GRAMS:
        raise InputError(field, f"must be at most {grams_text(MAX_BATCH_GRAMS)}")
    return grams


# --- corrections for purity and salt form ------------------------------------------------


def salt_to_base_factor(mw_salt: Decimal, mw_base: Decimal) -> Decimal:
    """Molecular weight of the salt (or hydrate) weighed over that of the base the strength
    is written as.

    Source: clinical.md §5. A factor below 1 would mean weighing less than the strength
    asks for, which is almost always the two weights entered the wrong way round: refused.
    """
    salt = positive_decimal(mw_salt, "mw_salt", "g/mol")
    base = positive_decimal(mw_base, "mw_base", "g/mol")
    if salt < base:
        raise InputError("mw_salt", "must be at least the base's molecular weight")
    return salt / base


def correction_factor(
    assay_percent: Decimal = HUNDRED, salt_factor: Decimal = Decimal(1)
) -> Decimal:
    """How much more to weigh: (100 / assay %) × (MW salt / MW base).

    Source: clinical.md §5. An 88 %-pure active gives 1.13636…, shown as 1.1364. Assay is
    more than 0 and at most 100 % (an assay above 100 % is not used to weigh less); the
    salt factor is at least 1 (see ``salt_to_base_factor``).
    """
    assay = _percent(assay_percent, "assay_percent")
    factor = decimal_input(salt_factor, "salt_factor")
    if factor < 1:
        raise InputError("salt_factor", "MW of the salt over MW of the base is at least 1")
    return HUNDRED / assay * factor


# --- the batch ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    """An active or excipient at a strength (% w/w, as the base form) in the preparation."""

    name: str
    strength_percent: Decimal
    assay_percent: Decimal = HUNDRED
    salt_factor: Decimal = Decimal(1)  # MW salt / MW base


@dataclass(frozen=True)
class Aliquot:
    """Weigh ``weigh_g``, dilute to ``dilute_to_g``, take ``take_g``: it holds the quantity."""

    quantity_g: Decimal
    weigh_g: Decimal
    dilute_to_g: Decimal
    take_g: Decimal
    parts: int  # the mixture is 1 part ingredient in this many
    sentence: str

    @property
    def diluent_g(self) -> Decimal:
        return self.dilute_to_g - self.weigh_g


@dataclass(frozen=True)
class WeighingWarning:
    name: str
    target_g: Decimal
    minimum_g: Decimal
    aliquot: Aliquot | None  # None for the base itself: make a larger batch instead
    message: str


@dataclass(frozen=True)
class ComponentMass:
    name: str
    is_base: bool
    strength_percent: Decimal | None  # None for the base (quantum sufficit)
    factor: Decimal  # correction for assay and salt form; 1 for the base
    target_g: Decimal  # carried to 1 ng: what the balance should read, exactly
    shown_g: Decimal  # to 0.001 g; the base's absorbs the rounding
    calculation: str  # e.g. "0.300 g = 1 % × 30.000 g"


@dataclass(frozen=True)
class BatchCalculation:
    dispensed_g: Decimal
    wastage_percent: Decimal
    batch_g: Decimal
    components: tuple[ComponentMass, ...]  # in the order given, the base last
    warnings: tuple[WeighingWarning, ...]
    calculation: str  # every line, for the compounding record

    def __getitem__(self, name: str) -> ComponentMass:
        for component in self.components:
            if component.name == name:
                return component
        raise KeyError(name)

    @property
    def base(self) -> ComponentMass | None:
        last = self.components[-1]
        return last if last.is_base else None


def _checked_components(
    components: Sequence[Component], base: str | None
) -> tuple[list[Component], list[Decimal]]:
    given = items_of(components, "components", Component, "a component (name and strength)")
    if not given and base is None:
        raise InputError("components", "list at least one component, or a base")
    names = set() if base is None else {base}
    checked, factors = [], []
    for index, component in enumerate(given):
        field = f"components[{index}]"
        name = required_text(component.name, f"{field}.name")
        if name in names:
            raise InputError(f"{field}.name", f"{name} is listed twice")
        names.add(name)
        strength = _percent(component.strength_percent, f"{field}.strength_percent")
        try:
            factor = correction_factor(component.assay_percent, component.salt_factor)
        except InputError as error:
            raise InputError(f"{field}.{error.field}", error.message) from None
        if base is None and factor != 1:
            raise InputError(
                f"{field}.assay_percent",
                "a correction for assay or salt form needs a base to make up the weight",
            )
        assay, salt = Decimal(component.assay_percent), Decimal(component.salt_factor)
        checked.append(Component(name, strength, assay, salt))
        factors.append(factor)
    total = sum((c.strength_percent for c in checked), Decimal(0))
    if base is not None and total >= HUNDRED:
        raise InputError(
            "components",
            f"the strengths add up to {_percent_text(total)}, leaving no room for the base",
        )
    if base is None and total != HUNDRED:
        raise InputError(
            "components",
            f"without a base the strengths must add up to 100 %; they add up to "
            f"{_percent_text(total)}",
        )
    return checked, factors


def _factor_text(factor: Decimal) -> str:
    """A salt factor as written: as given, or to 4 places when it is a long quotient."""
    exponent = factor.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        return f"{number_text(factor.quantize(Decimal('0.0001')))}…"
    return number_text(factor)


def _active_line(component: Component, shown: Decimal, batch_shown: Decimal) -> str:
    strength = _percent_text(component.strength_percent)
    line = f"{grams_text(shown)} = {strength} × {grams_text(batch_shown)}"
    if component.assay_percent != HUNDRED:
        line += f" × 100/{number_text(component.assay_percent)} (assay)"
    if component.salt_factor != 1:
        line += f" × {_factor_text(component.salt_factor)} (salt to base)"
    return line


def batch_masses(
    components: Sequence[Component],
    *,
    dispensed_g: Decimal,
    base: str | None,
    wastage_percent: Decimal = Decimal(0),
    minimum_weighable_g: Decimal | None = None,
) -> BatchCalculation:
    """Target mass of every component for a batch, the base quantum sufficit.

    Source: clinical.md §5. The batch is ``dispensed_g × (1 + wastage %)``, and every
    component scales with it alike. Each active weighs strength % / 100 × batch mass,
    × 100 / assay % × salt factor; the base (named by ``base``) is what remains, so the
    targets sum exactly to the batch mass (see the module docstring for rounding).
    Refused: strengths that leave no room for the base (their sum at or above 100 % with a
    base, or actives that outweigh the batch once corrected), strengths not summing to
    100 % without a base, zero or negative quantities. With ``minimum_weighable_g``, every
    component below it gets a warning and, for actives, a suggested aliquot.
    """
    checked, factors = _checked_components(components, base)
    base_name = None if base is None else required_text(base, "base")
    dispensed = _grams(dispensed_g, "dispensed_g")
    wastage = decimal_input(wastage_percent, "wastage_percent")
    if not 0 <= wastage <= HUNDRED:
        raise InputError("wastage_percent", "must be from 0 to 100 %")
    minimum = (
        None if minimum_weighable_g is None else _grams(minimum_weighable_g, "minimum_weighable_g")
    )

    with localcontext(prec=_WIDE):
        batch = _carried(dispensed * (1 + wastage / HUNDRED))
        targets = [
            _carried(c.strength_percent * batch * c.salt_factor / c.assay_percent) for c in checked
        ]
    batch_shown = _shown(batch)
    if wastage:
        lines = [
            f"batch {grams_text(batch)} = {grams_text(dispensed)} dispensed × "
            f"(1 + {_percent_text(wastage)} wastage)"
        ]
    else:
        lines = [f"batch {grams_text(batch)} = {grams_text(dispensed)} dispensed, no wastage"]

    masses = []
    for component, factor, target in zip(checked, factors, targets, strict=True):
        shown = _shown(target)
        line = _active_line(component, shown, batch_shown)
        masses.append(
            ComponentMass(
                component.name, False, component.strength_percent, factor, target, shown, line
            )
        )
        lines.append(f"{component.name} {_percent_text(component.strength_percent)} w/w: {line}")

    if base_name is not None:
        base_target = batch - sum(targets, Decimal(0))
        base_shown = batch_shown - sum((m.shown_g for m in masses), Decimal(0))
        if base_target <= 0 or base_shown <= 0:
            raise InputError(
                "components",
                f"corrected for assay and salt form the actives weigh "
                f"{grams_text(sum(targets, Decimal(0)))}, leaving no room for the base in a "
                f"{grams_text(batch)} batch",
            )
        terms = " − ".join([grams_text(batch_shown), *(grams_text(m.shown_g) for m in masses)])
        line = f"{grams_text(base_shown)} = {terms}"
        masses.append(
            ComponentMass(base_name, True, None, Decimal(1), base_target, base_shown, line)
        )
        lines.append(f"{base_name} (quantum sufficit): {line}")
    lines.append(f"total {grams_text(batch_shown)}")

    warnings = () if minimum is None else _weighing_warnings(masses, minimum, base_name)
    return BatchCalculation(
        dispensed_g=dispensed,
        wastage_percent=wastage,
        batch_g=batch,
        components=tuple(masses),
        warnings=warnings,
        calculation="\n".join(lines),
    )


# --- minimum weighable quantity and aliquots ---------------------------------------------


def minimum_weighable_quantity(
    sensitivity_g: Decimal, acceptable_error_percent: Decimal
) -> Decimal:
    """Minimum weighable quantity = 100 × balance sensitivity / acceptable % error.

    Source: clinical.md §5: 6 mg at 5 % → 120 mg (0.120 g). Carried to 1 ng and rounded
    up, since it is a floor: weigh at least this much.
    """
    sensitivity = positive_decimal(sensitivity_g, "sensitivity_g", "g")
    error = _percent(acceptable_error_percent, "acceptable_error_percent")
    with localcontext(prec=_WIDE):
        return _carried(HUNDRED * sensitivity / error, ROUND_CEILING)


def aliquot(
    quantity_g: Decimal,
    minimum_g: Decimal,
    *,
    ingredient: str = "the ingredient",
    diluent: str = "a compatible diluent",
) -> Aliquot:
    """An aliquot for a quantity below the minimum weighable quantity.

    Source: clinical.md §5 ("warn below it and suggest an aliquot"). Weigh the minimum
    (rounded up to 0.001 g), dilute it to ``parts`` times its weight, where ``parts`` is the
    smallest whole number, at least 2, that makes the aliquot reach the minimum; then take
    ``quantity × parts``. Every weighing (ingredient, diluent, aliquot) is then at or above
    the minimum, and a 1-in-``parts`` mixture is easy to check.
    """
    quantity = positive_decimal(quantity_g, "quantity_g", "g")
    minimum = positive_decimal(minimum_g, "minimum_g", "g")
    if quantity >= minimum:
        raise InputError("quantity_g", f"{grams_text(quantity)} can be weighed directly")
    weigh = minimum.quantize(DISPLAY_GRAMS, rounding=ROUND_CEILING)
    with localcontext(prec=_WIDE):
        parts = max(2, math.ceil(minimum / quantity))
        total = weigh * parts
        take = _carried(quantity * parts)
    sentence = (
        f"Weigh {grams_text(weigh)} of {ingredient}, mix it with {grams_text(total - weigh)} of "
        f"{diluent} to make {grams_text(total)} (1 part in {parts}), and take "
        f"{grams_text(take)} of the mixture: it holds {grams_text(quantity)} of {ingredient} "
        f"and {grams_text(take - quantity)} of {diluent}."
    )
    return Aliquot(quantity, weigh, total, take, parts, sentence)


def _weighing_warnings(
    masses: list[ComponentMass], minimum: Decimal, base: str | None
) -> tuple[WeighingWarning, ...]:
    warnings = []
    for mass in masses:
        if mass.target_g >= minimum:
            continue
        below = (
            f"{mass.name}: {grams_text(mass.target_g)} is below the minimum weighable quantity "
            f"of {grams_text(minimum)}"
        )
        if mass.is_base:
            warnings.append(
                WeighingWarning(
                    mass.name, mass.target_g, minimum, None, f"{below}; make a larger batch."
                )
            )
            continue
        diluent = "a compatible diluent" if base is None else base
        suggestion = aliquot(mass.target_g, minimum, ingredient=mass.name, diluent=diluent)
        message = f"{below}; weigh it by aliquot. {suggestion.sentence}"
        if base is not None:
            message += f" Weigh {grams_text(suggestion.take_g - mass.target_g)} less {base}."
        warnings.append(WeighingWarning(mass.name, mass.target_g, minimum, suggestion, message))
    return tuple(warnings)


# --- alligation, tolerance, yield --------------------------------------------------------


@dataclass(frozen=True)
class Alligation:
    parts_high: Decimal
    parts_low: Decimal
    high_g: Decimal | None  # with a total mass: how much of each to mix
    low_g: Decimal | None
    calculation: str


def alligation(
    high_percent: Decimal,
    low_percent: Decimal,
    target_percent: Decimal,
    *,
    total_g: Decimal | None = None,
) -> Alligation:
    """Mix a stronger and a weaker preparation to a strength in between (alligation).

    Source: clinical.md §5: parts of high = target − low, parts of low = high − target.
    The weaker one may be 0 % (a plain base). With ``total_g``, the high mass is carried to
    1 ng and the low mass is the rest, so the two add up to the total.
    """
    high = _percent(high_percent, "high_percent")
    low = decimal_input(low_percent, "low_percent")
    target = decimal_input(target_percent, "target_percent")
    if not 0 <= low < high:
        raise InputError("low_percent", "must be from 0 % up to less than the high strength")
    if not low < target < high:
        raise InputError("target_percent", "must lie strictly between the low and high strengths")
    parts_high, parts_low = target - low, high - target
    text = (
        f"parts of {_percent_text(high)}: {number_text(target)} − {number_text(low)} = "
        f"{number_text(parts_high)}; parts of {_percent_text(low)}: {number_text(high)} − "
        f"{number_text(target)} = {number_text(parts_low)}"
    )
    if total_g is None:
        return Alligation(parts_high, parts_low, None, None, text)
    total = _grams(total_g, "total_g")
    whole = parts_high + parts_low
    with localcontext(prec=_WIDE):
        high_g = _carried(total * parts_high / whole)
    low_g = total - high_g
    text += (
        f"; {grams_text(total)} × {number_text(parts_high)}/{number_text(whole)} = "
        f"{grams_text(high_g)} of {_percent_text(high)} and {grams_text(total)} − "
        f"{grams_text(high_g)} = {grams_text(low_g)} of {_percent_text(low)}"
    )
    return Alligation(parts_high, parts_low, high_g, low_g, text)


@dataclass(frozen=True)
class WeightCheck:
    target_g: Decimal
    actual_g: Decimal
    deviation_percent: Decimal  # (actual − target) / target × 100; negative when light
    tolerance_percent: Decimal
    within: bool  # |deviation| ≤ tolerance, the edge included
    calculation: str


def check_weight(
    target_g: Decimal, actual_g: Decimal, *, tolerance_percent: Decimal
) -> WeightCheck:
    """Flag an actual weight outside ± ``tolerance_percent`` of its target.

    Source: clinical.md §5 ("record target and actual weight; flag an actual outside
    tolerance"). The tolerance comes from the master formulation record's QC
    specification; a deviation exactly at the tolerance is within it.
    """
    target = positive_decimal(target_g, "target_g", "g")
    actual = positive_decimal(actual_g, "actual_g", "g")
    tolerance = _percent(tolerance_percent, "tolerance_percent")
    within = abs(actual - target) * HUNDRED <= tolerance * target  # exact, no division
    deviation = (actual - target) / target * HUNDRED
    shown = deviation.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = (
        f"actual {grams_text(actual)} against target {grams_text(target)}: "
        f"{'+' if shown > 0 else ''}{shown} % (tolerance ±{_percent_text(tolerance)}): "
        f"{'within' if within else 'OUTSIDE'} tolerance"
    )
    return WeightCheck(target, actual, deviation, tolerance, within, text)


@dataclass(frozen=True)
class BatchYield:
    percent: Decimal
    calculation: str


def batch_yield(actual_g: Decimal, expected_g: Decimal) -> BatchYield:
    """Yield % = final weight ÷ expected (batch) weight × 100.

    Source: clinical.md §4–5 (the compounding record keeps the final weight and yield).
    Above 100 % is possible (a weighing error, or added base) and is reported as it is.
    """
    actual = positive_decimal(actual_g, "actual_g", "g")
    expected = positive_decimal(expected_g, "expected_g", "g")
    percent = actual / expected * HUNDRED
    shown = percent.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{shown} % = {grams_text(actual)} ÷ {grams_text(expected)} × 100"
    return BatchYield(percent, text)
