"""Beyond-use dates for non-sterile compounded preparations, by USP <795>.

Pure functions of plain values: no Django, no database. Source: USP <795> (official
1 November 2023) as summarised in the project's clinical.md §4.

The algorithm, in order: the table limit for the preparation's class (or a compounded
preparation monograph or an approved stability study for this formulation and container,
never above 180 days) → never later than the earliest expiry of any component lot used →
a pharmacist may shorten it, with a reason, and never lengthen it.

Conventions:

* A lot's expiry date is the last day it may be used. A lot whose expiry date is before the
  compounding date is expired and refused; a BUD may fall on a lot's expiry date.
* Day counting is a setting (``DayCounting``). By default the compounding day is day 1, so
  a 14-day BUD for a batch made on 1 January is 14 January. The alternative counts from the
  day after compounding (1 January + 14 days = 15 January).
* When two limits give the same date, the earlier step of the algorithm is named as the
  limit (table or study, then lot expiry, then pharmacist): the later one changed nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from scarrx.values import InputError, calendar_date, items_of, required_text, whole_number

__all__ = [
    "MAX_BUD_DAYS",
    "USP_795_TABLE",
    "USP_795_VERSION",
    "BeyondUseDate",
    "BudClass",
    "BudLimit",
    "BudRule",
    "ComponentLot",
    "DayCounting",
    "Storage",
    "WaterActivity",
    "beyond_use_date",
    "bud_class",
    "water_activity_from_components",
]

USP_795_VERSION = "usp-795-2023-11-01"

# A monograph or stability study may set the limit, but never above this (clinical.md §4).
MAX_BUD_DAYS = 180


class WaterActivity(StrEnum):
    """USP <795> splits preparations at a water activity (aw) of 0.60."""

    AQUEOUS = "aqueous"  # aw ≥ 0.60
    NON_AQUEOUS = "non_aqueous"  # aw < 0.60


class Storage(StrEnum):
    REFRIGERATOR = "refrigerator"
    ROOM_TEMPERATURE_OR_REFRIGERATOR = "room temperature or refrigerator"


class BudClass(StrEnum):
    """The four rows of the USP <795> BUD table."""

    AQUEOUS_NOT_PRESERVED = "aqueous_not_preserved"
    AQUEOUS_PRESERVED = "aqueous_preserved"
    NON_AQUEOUS_ORAL_LIQUID = "non_aqueous_oral_liquid"
    NON_AQUEOUS_OTHER = "non_aqueous_other"


@dataclass(frozen=True)
class BudRule:
    days: int
    storage: Storage
    words: str  # how the class reads in an explanation


USP_795_TABLE: Mapping[BudClass, BudRule] = {
    BudClass.AQUEOUS_NOT_PRESERVED: BudRule(14, Storage.REFRIGERATOR, "aqueous, not preserved"),
    BudClass.AQUEOUS_PRESERVED: BudRule(
        35, Storage.ROOM_TEMPERATURE_OR_REFRIGERATOR, "aqueous, preserved"
    ),
    BudClass.NON_AQUEOUS_ORAL_LIQUID: BudRule(
        90, Storage.ROOM_TEMPERATURE_OR_REFRIGERATOR, "non-aqueous oral liquid"
    ),
    BudClass.NON_AQUEOUS_OTHER: BudRule(
        180, Storage.ROOM_TEMPERATURE_OR_REFRIGERATOR, "non-aqueous"
    ),
}


class DayCounting(StrEnum):
    COMPOUNDING_DAY_IS_DAY_1 = "compounding_day_is_day_1"  # 14 days from 1 Jan → 14 Jan
    DAY_AFTER_COMPOUNDING_IS_DAY_1 = "day_after_compounding_is_day_1"  # → 15 Jan


class BudLimit(StrEnum):
    """Which step of the algorithm set the BUD."""

    TABLE = "usp_795_table"
    STUDY = "stability_study_or_monograph"
    COMPONENT_EXPIRY = "component_expiry"
    PHARMACIST = "pharmacist"


@dataclass(frozen=True)
class ComponentLot:
    name: str  # the ingredient, e.g. "tretinoin"
    lot_number: str
    expiry_date: dt.date  # last day the lot may be used


@dataclass(frozen=True)
class BeyondUseDate:
    date: dt.date
    days: int  # counted by ``day_counting``
    storage: Storage
    bud_class: BudClass
    limited_by: BudLimit
    limiting_lots: tuple[ComponentLot, ...]  # lots whose expiry set the date, if any
    day_counting: DayCounting
    explanation: str  # plain words for the compounding record


def water_activity_from_components(contains_water: Mapping[str, bool]) -> WaterActivity:
    """The water-activity class of a preparation from its components.

    Source: clinical.md §4: any water-containing component (an aqueous base, an active
    dissolved in water) makes the preparation aqueous, even in an anhydrous base.
    ``contains_water`` maps each component's name to whether it contains water.
    """
    if not contains_water:
        raise InputError("components", "list at least one component")
    for name, watery in contains_water.items():
        if not isinstance(watery, bool):
            raise InputError(f"components.{name}", "say whether it contains water (yes or no)")
    return WaterActivity.AQUEOUS if any(contains_water.values()) else WaterActivity.NON_AQUEOUS


def bud_class(
    water_activity: WaterActivity, *, preserved: bool, oral_liquid: bool = False
) -> BudClass:
    """The USP <795> table row for a preparation.

    Source: USP <795> (2023) table, clinical.md §4. Aqueous preparations are split by
    preservation; non-aqueous ones by whether they are an oral liquid (preservation does
    not change a non-aqueous limit).
    """
    if not isinstance(water_activity, WaterActivity):
        raise InputError("water_activity", "must be aqueous or non-aqueous")
    if not isinstance(preserved, bool):
        raise InputError("preserved", "say whether the preparation is preserved (yes or no)")
    if not isinstance(oral_liquid, bool):
        raise InputError("oral_liquid", "say whether it is an oral liquid (yes or no)")
    if water_activity is WaterActivity.AQUEOUS:
        return BudClass.AQUEOUS_PRESERVED if preserved else BudClass.AQUEOUS_NOT_PRESERVED
    return BudClass.NON_AQUEOUS_ORAL_LIQUID if oral_liquid else BudClass.NON_AQUEOUS_OTHER


def _date_after(start: dt.date, days: int, counting: DayCounting) -> dt.date:
    offset = days - 1 if counting is DayCounting.COMPOUNDING_DAY_IS_DAY_1 else days
    return start + dt.timedelta(days=offset)


def _days_until(start: dt.date, end: dt.date, counting: DayCounting) -> int:
    days = (end - start).days
    return days + 1 if counting is DayCounting.COMPOUNDING_DAY_IS_DAY_1 else days


def _checked_lots(lots: Sequence[ComponentLot], compounded_on: dt.date) -> list[ComponentLot]:
    checked = items_of(lots, "lots", ComponentLot, "a component lot (name, lot, expiry date)")
    if not checked:
        raise InputError("lots", "list the lot of every component used")
    for index, lot in enumerate(checked):
        field = f"lots[{index}]"
        required_text(lot.name, f"{field}.name")
        required_text(lot.lot_number, f"{field}.lot_number")
        expiry = calendar_date(lot.expiry_date, f"{field}.expiry_date")
        if expiry < compounded_on:
            raise InputError(
                f"{field}.expiry_date",
                f"{lot.name} lot {lot.lot_number} expired on {expiry}, before the compounding "
                f"date {compounded_on}; it cannot be used",
            )
    return checked


def _rule_days(
    rule: BudRule, stability_limit_days: int | None, stability_source: str | None
) -> tuple[int, str | None]:
    """The limit from the table, or from a monograph or stability study, and its source."""
    if stability_limit_days is None:
        if stability_source is not None:
            raise InputError("stability_limit_days", "give the limit the study or monograph sets")
        return rule.days, None
    days = whole_number(stability_limit_days, "stability_limit_days", 1)
    if days > MAX_BUD_DAYS:
        raise InputError(
            "stability_limit_days",
            f"a stability study or monograph may set at most {MAX_BUD_DAYS} days; got {days}",
        )
    source = required_text(stability_source, "stability_source")
    return days, source


def _pharmacist_date(
    limit: int | dt.date,
    reason: str | None,
    compounded_on: dt.date,
    rules_date: dt.date,
    counting: DayCounting,
) -> tuple[dt.date, str]:
    if isinstance(limit, dt.datetime) or not isinstance(limit, int | dt.date):
        raise InputError("pharmacist_limit", "give a number of days or a date")
    if isinstance(limit, dt.date):
        chosen = limit
        if chosen < compounded_on:
            raise InputError("pharmacist_limit", "cannot be before the compounding date")
    else:
        chosen = _date_after(compounded_on, whole_number(limit, "pharmacist_limit", 1), counting)
    words = required_text(reason, "pharmacist_reason")
    if chosen > rules_date:
        raise InputError(
            "pharmacist_limit",
            f"a pharmacist may shorten the BUD, never lengthen it: the rules give {rules_date} "
            f"({_days_until(compounded_on, rules_date, counting)} days) and {chosen} is later",
        )
    return chosen, words


def beyond_use_date(
    *,
    water_activity: WaterActivity,
    preserved: bool,
    compounded_on: dt.date,
    lots: Sequence[ComponentLot],
    oral_liquid: bool = False,
    stability_limit_days: int | None = None,
    stability_source: str | None = None,
    pharmacist_limit: int | dt.date | None = None,
    pharmacist_reason: str | None = None,
    day_counting: DayCounting = DayCounting.COMPOUNDING_DAY_IS_DAY_1,
) -> BeyondUseDate:
    """The BUD of a batch, its storage, what limited it, and the explanation for the record.

    Source: USP <795> (2023), clinical.md §4. Steps: the table limit for the class (see
    ``bud_class``), replaced by ``stability_limit_days`` when a monograph or an approved
    stability study for this formulation and container sets one (its ``stability_source``
    is required; at most 180 days) → no later than the earliest expiry of ``lots`` →
    ``pharmacist_limit`` (days counted like the BUD, or a date) may shorten it, with a
    ``pharmacist_reason``, and a longer one is refused. Storage follows the class:
    refrigerator for aqueous, not preserved; room temperature or refrigerator otherwise.
    """
    category = bud_class(water_activity, preserved=preserved, oral_liquid=oral_liquid)
    rule = USP_795_TABLE[category]
    compounded_on = calendar_date(compounded_on, "compounded_on")
    if not isinstance(day_counting, DayCounting):
        raise InputError("day_counting", "must be one of the day-counting conventions")
    checked = _checked_lots(lots, compounded_on)
    days, source = _rule_days(rule, stability_limit_days, stability_source)

    limited_by = BudLimit.STUDY if source else BudLimit.TABLE
    bud = _date_after(compounded_on, days, day_counting)
    if source:
        parts = [
            f"{days} days: {rule.words}; set by {source} in place of the USP <795> table's "
            f"{rule.days} days"
        ]
    else:
        parts = [f"{days} days: {rule.words}"]

    earliest = min(lot.expiry_date for lot in checked)
    limiting: tuple[ComponentLot, ...] = ()
    if earliest < bud:
        bud, limited_by = earliest, BudLimit.COMPONENT_EXPIRY
        limiting = tuple(lot for lot in checked if lot.expiry_date == earliest)
        names = " and ".join(f"{lot.name} lot {lot.lot_number}" for lot in limiting)
        parts.append(f"capped by {names} expiring {earliest}")

    if pharmacist_limit is not None:
        chosen, reason = _pharmacist_date(
            pharmacist_limit, pharmacist_reason, compounded_on, bud, day_counting
        )
        if chosen < bud:
            bud, limited_by, limiting = chosen, BudLimit.PHARMACIST, ()
            parts.append(f"shortened by the pharmacist to {chosen}: {reason}")
    elif pharmacist_reason is not None:
        raise InputError("pharmacist_limit", "give the shorter limit the reason is for")

    total = _days_until(compounded_on, bud, day_counting)
    counted = (
        "counting the compounding day as day 1"
        if day_counting is DayCounting.COMPOUNDING_DAY_IS_DAY_1
        else "counting from the day after compounding"
    )
    where = (
        "in a refrigerator"
        if rule.storage is Storage.REFRIGERATOR
        else "at room temperature or in a refrigerator"
    )
    explanation = f"{'; '.join(parts)}. BUD {bud} ({total} days, {counted}); store {where}."
    return BeyondUseDate(
        date=bud,
        days=total,
        storage=rule.storage,
        bud_class=category,
        limited_by=limited_by,
        limiting_lots=limiting,
        day_counting=day_counting,
        explanation=explanation,
    )
