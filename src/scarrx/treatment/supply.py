"""Days supply of a topical fill, its refill date, how much fits within a BUD, and the supply
timeline of a series of fills.

Pure functions of plain values: no Django, no database. Source: the project's clinical.md
§6 (fingertip units after Long & Finlay, Clin Exp Dermatol 1991;16:444; days supply; PQA's
proportion of days covered for carrying an early refill's overlap forward).

Conventions (the same in ``scarrx.treatment.adherence``):

* A fill's supply covers ``days_supply`` calendar days and the fill day is the first of
  them: 12 days filled on 1 January cover 1–12 January (as PQA counts the dispensing date).
* The supply *runs out on* the first day it no longer covers (13 January). The refill is
  *due* that day less the lead time (``lead_days``, a pharmacy setting; 0 means due the
  day the supply runs out), and never before the latest fill.
* An early refill's supply starts the day after the supply on hand ends (its overlap is
  carried forward), so no supply is lost and no day is counted twice.
* A BUD is the last day a preparation may be used: supply is usable from the day it starts
  to the BUD, both included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from scarrx.values import (
    InputError,
    calendar_date,
    grams_text,
    items_of,
    number_text,
    positive_decimal,
    whole_number,
)

__all__ = [
    "FINGERTIP_UNITS",
    "FTU_VERSION",
    "GRAMS_PER_FTU",
    "Area",
    "BudFit",
    "CoveredSpan",
    "Fill",
    "daily_use",
    "days_supply",
    "fit_within_bud",
    "grams_per_area",
    "refill_due",
    "runs_out_on",
    "supply_timeline",
]

FTU_VERSION = "long-finlay-1991"
GRAMS_PER_FTU = Decimal("0.5")  # an adult's fingertip unit; about 0.4 g for an adult woman
MAX_APPLICATIONS_PER_DAY = 12


class Area(StrEnum):
    FACE_AND_NECK = "face_and_neck"
    ONE_ARM = "one_arm"
    BACK_OF_TRUNK = "back_of_trunk"
    FRONT_OF_TRUNK = "front_of_trunk"
    ONE_HAND = "one_hand"


# Fingertip units per application (clinical.md §6).
FINGERTIP_UNITS: Mapping[Area, Decimal] = {
    Area.FACE_AND_NECK: Decimal("2.5"),
    Area.ONE_ARM: Decimal(3),
    Area.BACK_OF_TRUNK: Decimal(7),
    Area.FRONT_OF_TRUNK: Decimal(7),
    Area.ONE_HAND: Decimal(1),
}


def grams_per_area(area: Area | str) -> Decimal:
    """Grams per application to a body area: fingertip units × 0.5 g.

    Source: Long & Finlay 1991 via clinical.md §6: face and neck 1.25 g, one arm 1.5 g,
    back or front of the trunk 3.5 g each, one hand 0.5 g.
    """
    try:
        chosen = Area(area)
    except ValueError:
        allowed = ", ".join(member.value for member in Area)
        raise InputError("area", f"must be one of {allowed}; got {area!r}") from None
    return FINGERTIP_UNITS[chosen] * GRAMS_PER_FTU


def daily_use(
    applications_per_day: int,
    *,
    area: Area | str | None = None,
    grams_per_application: Decimal | None = None,
) -> Decimal:
    """Grams used a day: grams per application × applications per day.

    Source: clinical.md §6. Give exactly one of ``area`` (the fingertip-unit table) or
    ``grams_per_application`` (a spot treatment, or a prescription that states grams).
    """
    per_day = whole_number(
        applications_per_day, "applications_per_day", 1, MAX_APPLICATIONS_PER_DAY
    )
    if (area is None) == (grams_per_application is None):
        raise InputError("area", "give a body area or grams per application (one, not both)")
    if area is not None:
        per_application = grams_per_area(area)
    else:
        per_application = positive_decimal(grams_per_application, "grams_per_application", "g")
    return per_application * per_day


def days_supply(
    grams: Decimal,
    applications_per_day: int,
    *,
    area: Area | str | None = None,
    grams_per_application: Decimal | None = None,
) -> int:
    """Days supply = dispensed grams ÷ (grams per application × applications per day),
    rounded down.

    Source: clinical.md §6: 30 g to the face and neck twice daily → 12 days. A quantity
    that does not last one whole day is refused.
    """
    dispensed = positive_decimal(grams, "grams", "g")
    per_day = daily_use(
        applications_per_day, area=area, grams_per_application=grams_per_application
    )
    days = int(dispensed // per_day)
    if days < 1:
        raise InputError(
            "grams",
            f"{grams_text(dispensed)} does not last one day at {grams_text(per_day)} a day",
        )
    return days


# --- fills over time -----------------------------------------------------------------------


@dataclass(frozen=True)
class Fill:
    filled_on: date
    days_supply: int


@dataclass(frozen=True)
class CoveredSpan:
    """The days one fill's supply covers, after earlier supply on hand is used up."""

    fill: Fill
    first_day: date
    last_day: date

    @property
    def carried_days(self) -> int:
        """How far the start was pushed past the fill day by supply already on hand."""
        return (self.first_day - self.fill.filled_on).days


def _checked_fills(fills: Sequence[Fill]) -> list[Fill]:
    checked = items_of(fills, "fills", Fill, "a fill (date and days supply)")
    for index, fill in enumerate(checked):
        field = f"fills[{index}]"
        calendar_date(fill.filled_on, f"{field}.filled_on")
        whole_number(fill.days_supply, f"{field}.days_supply", 1)
    return sorted(checked, key=lambda fill: fill.filled_on)  # stable: same-day fills keep order


def supply_timeline(fills: Sequence[Fill]) -> tuple[CoveredSpan, ...]:
    """The covered days of each fill, in fill-date order, overlap carried forward.

    Source: PQA's proportion of days covered, clinical.md §6: when a refill comes before
    the supply on hand runs out, its supply starts the day after; a fill after a gap starts
    on its fill day. The spans never overlap and together hold every day of supply.
    """
    spans: list[CoveredSpan] = []
    free_from: date | None = None  # first day not yet covered
    for fill in _checked_fills(fills):
        first = fill.filled_on if free_from is None else max(fill.filled_on, free_from)
        last = first + timedelta(days=fill.days_supply - 1)
        spans.append(CoveredSpan(fill, first, last))
        free_from = last + timedelta(days=1)
    return tuple(spans)


def runs_out_on(fills: Sequence[Fill]) -> date:
    """The first day no supply covers, after every fill's supply is used in turn.

    Source: clinical.md §6. One fill of 12 days on 1 January runs out on 13 January.
    """
    spans = supply_timeline(fills)
    if not spans:
        raise InputError("fills", "list at least one fill")
    return spans[-1].last_day + timedelta(days=1)


def refill_due(fills: Sequence[Fill], *, lead_days: int = 0) -> date:
    """When the next refill is due: the day the supply runs out, less ``lead_days``, and
    never before the latest fill.

    Source: clinical.md §6 (days supply, overlap carried forward); the lead time is a
    pharmacy setting. 12 days filled on 1 January, lead time 3 days → 10 January.
    """
    lead = whole_number(lead_days, "lead_days", 0)
    out = runs_out_on(fills)
    latest = max(fill.filled_on for fill in fills)
    return max(out - timedelta(days=lead), latest)


# --- a fill against its batch's BUD ------------------------------------------------------


@dataclass(frozen=True)
class BudFit:
    fits: bool
    days_supply: int
    usable_days: int  # days of use from the supply's start to the BUD, both included
    suggested_g: Decimal  # the quantity asked for when it fits; else the most that does
    message: str


def fit_within_bud(
    grams: Decimal,
    applications_per_day: int,
    *,
    filled_on: date,
    bud: date,
    area: Area | str | None = None,
    grams_per_application: Decimal | None = None,
    starts_on: date | None = None,
) -> BudFit:
    """Whether a fill's supply is used up by its batch's BUD, and if not the largest
    quantity that is.

    Source: clinical.md §6 ("a fill must not outlast its BUD: supply beyond the BUD is
    waste, so warn and suggest a smaller quantity"). ``starts_on`` is when this fill's
    supply starts to be used, for an early refill whose start is carried forward (see
    ``supply_timeline``); by default the fill day. The suggestion is the usable days ×
    daily use, so its days supply is exactly the usable days.
    """
    dispensed = positive_decimal(grams, "grams", "g")
    filled = calendar_date(filled_on, "filled_on")
    last = calendar_date(bud, "bud")
    start = filled if starts_on is None else calendar_date(starts_on, "starts_on")
    if last < filled:
        raise InputError("bud", f"the batch's BUD {last} is before the fill date {filled}")
    if start < filled:
        raise InputError("starts_on", "cannot be before the fill date")
    per_day = daily_use(
        applications_per_day, area=area, grams_per_application=grams_per_application
    )
    days = days_supply(
        dispensed, applications_per_day, area=area, grams_per_application=grams_per_application
    )
    usable = max((last - start).days + 1, 0)
    if days <= usable:
        message = f"{grams_text(dispensed)} lasts {days} days, within the BUD {last}"
        return BudFit(True, days, usable, dispensed, message)
    most = per_day * usable
    if usable == 0:
        message = (
            f"the supply on hand lasts past this batch's BUD {last}: none of "
            f"{grams_text(dispensed)} would be used in time"
        )
    else:
        message = (
            f"{grams_text(dispensed)} lasts {days} days, past the BUD {last} ({usable} days of "
            f"use from {start}); dispense at most {grams_text(most)} "
            f"({usable} days × {number_text(per_day)} g a day)"
        )
    return BudFit(False, days, usable, most, message)
