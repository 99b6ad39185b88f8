"""Adherence to a topical course: proportion of days covered from fills, and dose-level
adherence from logged applications against the scheduled ones.

Pure functions of plain values: no Django, no database. Source: the project's clinical.md
§6 (PQA's proportion of days covered; applications logged ÷ scheduled, per week; adherent
at 80 % or more).

Conventions:

* Fills cover days as in ``scarrx.treatment.supply``: the fill day is the first covered
  day, and an early refill's overlap is carried forward.
* Scheduled times are wall-clock times in the patient's zone: 08:00 stays 08:00 across a
  daylight-saving change. On a day when a scheduled time does not exist (clocks go
  forward over it) or occurs twice (clocks go back over it), it is scheduled exactly once,
  at the instant RFC 5545 (iCalendar) gives such a local time: a missing time is read with
  the UTC offset from before the change (02:30 in New York on the spring-forward day is
  03:30 EDT), and a repeated time is its first occurrence (01:30 EDT, not 01:30 EST). The
  reminder calendar feed gives the same instants.
* A logged application satisfies at most one slot and a slot counts once: a log matches
  the nearest slot not yet taken whose window (scheduled instant ± ``window``, edges
  included) holds it, of the slot it names if it names one. Logs are matched in time
  order, applications before skips; an application outranks a skip for the same slot.
  Logs matching no slot are returned as ``unmatched``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scarrx.treatment.supply import Fill, supply_timeline
from scarrx.values import InputError, calendar_date, items_of, required_text, whole_number

__all__ = [
    "ADHERENT_THRESHOLD",
    "DEFAULT_WINDOW",
    "DayTally",
    "DoseAdherence",
    "Logged",
    "Pdc",
    "Slot",
    "SlotOutcome",
    "SlotStatus",
    "Tally",
    "WeekTally",
    "dose_adherence",
    "pdc",
    "schedule",
]

ADHERENT_THRESHOLD = Decimal("0.80")  # PDC or dose-level, at or above: adherent
DEFAULT_WINDOW = timedelta(hours=4)  # either side of the scheduled time; a pharmacy setting
MAX_WINDOW = timedelta(hours=12)
MAX_COURSE_DAYS = 3660
_PERCENT = Decimal("0.1")


def _adherent(part: int, whole: int) -> bool:
    return part * 100 >= whole * 80  # exact: no division at the threshold


def _ratio(part: int, whole: int) -> Decimal:
    return Decimal(part) / Decimal(whole)


def percent(part: int, whole: int) -> Decimal | None:
    """part ÷ whole as a percentage to 0.1 % (half up), for display; None of nothing."""
    return _percent(part, whole) if whole else None


def _percent(part: int, whole: int) -> Decimal:
    return (_ratio(part, whole) * 100).quantize(_PERCENT, ROUND_HALF_UP)


# --- proportion of days covered ----------------------------------------------------------


@dataclass(frozen=True)
class Pdc:
    start: date
    end: date
    covered_days: int
    period_days: int

    @property
    def proportion(self) -> Decimal:
        """Covered days ÷ days in the period, from 0 to 1."""
        return _ratio(self.covered_days, self.period_days)

    @property
    def percent(self) -> Decimal:
        """For display, to 0.1 % (a period has at least one day)."""
        return _percent(self.covered_days, self.period_days)

    @property
    def adherent(self) -> bool:
        return _adherent(self.covered_days, self.period_days)


def pdc(fills: Sequence[Fill], *, end: date, start: date | None = None) -> Pdc:
    """Proportion of days covered from ``start`` to ``end``, both included.

    Source: PQA via clinical.md §6: days covered by dispensed supply ÷ days in the period;
    an early refill's overlap is shifted forward, not counted twice; at most 100 %;
    adherent at 80 % or more. ``start`` defaults to the first fill (PQA's index date).
    Supply from before ``start`` counts for the days it covers inside the period; supply
    past ``end`` does not count.
    """
    last = calendar_date(end, "end")
    spans = supply_timeline(fills)
    if start is None:
        if not spans:
            raise InputError("start", "give the start of the period when there are no fills")
        first = min(fill.filled_on for fill in fills)
    else:
        first = calendar_date(start, "start")
    if last < first:
        raise InputError("end", f"the period ends ({last}) before it starts ({first})")
    covered = 0
    for span in spans:
        overlap = (min(span.last_day, last) - max(span.first_day, first)).days + 1
        covered += max(overlap, 0)
    period = (last - first).days + 1
    return Pdc(first, last, min(covered, period), period)


# --- the schedule ------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One scheduled application."""

    day: int  # course day, 1 on the start date
    on: date  # the patient's calendar date
    name: str  # "morning", "evening"
    time: time  # the prescribed wall-clock time
    at: datetime  # the instant, in UTC
    local: datetime  # the same instant in the patient's zone (03:30 for a missing 02:30)

    @property
    def week(self) -> int:
        """Course week: week 1 is course days 1–7."""
        return (self.day - 1) // 7 + 1


def _zone(zone: ZoneInfo | str) -> ZoneInfo:
    if isinstance(zone, ZoneInfo):
        return zone
    if not isinstance(zone, str):
        raise InputError("zone", f"must be a time zone name such as Europe/London, not {zone!r}")
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("zone", f"{zone!r} is not a known time zone") from None


def _times(times: Mapping[str, time]) -> list[tuple[str, time]]:
    if not isinstance(times, Mapping) or not times:
        raise InputError("times", "give at least one time of day, e.g. morning 08:00")
    checked: dict[time, str] = {}
    for name, clock in times.items():
        label = required_text(name, "times")
        field = f"times.{label}"
        if not isinstance(clock, time) or clock.tzinfo is not None:
            raise InputError(field, "must be a wall-clock time of day without a time zone")
        clock = clock.replace(fold=0)
        if clock in checked:
            raise InputError(field, f"is the same time as {checked[clock]}")
        checked[clock] = label
    return sorted(((name, clock) for clock, name in checked.items()), key=lambda item: item[1])


def schedule(
    *, start: date, days: int, times: Mapping[str, time], zone: ZoneInfo | str
) -> tuple[Slot, ...]:
    """Every scheduled application of a course: each named time of day, every course day.

    Source: clinical.md §6 (a twice-daily topical) and the course's prescription. Wall
    times stay fixed in the patient's ``zone`` across daylight-saving changes; a time
    missing or repeated on a change day is scheduled once, at the instant the module
    docstring defines (RFC 5545's rule). Slots are in day order, then time order.
    """
    first = calendar_date(start, "start")
    count = whole_number(days, "days", 1, MAX_COURSE_DAYS)
    where = _zone(zone)
    clocks = _times(times)
    slots = []
    for offset in range(count):
        on = first + timedelta(days=offset)
        for name, clock in clocks:
            # fold=0: a repeated time is its first occurrence; a missing one is read with
            # the offset before the change (PEP 495), as RFC 5545 says.
            at = datetime.combine(on, clock, tzinfo=where).astimezone(UTC)
            slots.append(Slot(offset + 1, on, name, clock, at, at.astimezone(where)))
    return tuple(slots)


# --- logged applications against the schedule --------------------------------------------


@dataclass(frozen=True)
class Logged:
    """A logged application, or a skip, from the patient or staff on their behalf."""

    at: datetime  # when it was applied (or the skip's scheduled time); timezone-aware
    slot: str | None = None  # the slot it says it satisfies, e.g. "evening"
    skipped: bool = False


class SlotStatus(StrEnum):
    APPLIED = "applied"
    SKIPPED = "skipped"
    MISSED = "missed"
    NOT_DUE = "not_due"  # window still open and nothing logged yet


@dataclass(frozen=True)
class SlotOutcome:
    slot: Slot
    status: SlotStatus
    logged: Logged | None


@dataclass(frozen=True)
class Tally:
    scheduled: int  # due slots: window closed, or already logged
    applied: int
    skipped: int

    @property
    def missed(self) -> int:
        return self.scheduled - self.applied - self.skipped

    @property
    def proportion(self) -> Decimal | None:
        """Applied ÷ scheduled, 0 to 1; None when nothing was due."""
        return _ratio(self.applied, self.scheduled) if self.scheduled else None

    @property
    def percent(self) -> Decimal | None:
        return percent(self.applied, self.scheduled)

    @property
    def adherent(self) -> bool | None:
        return _adherent(self.applied, self.scheduled) if self.scheduled else None


@dataclass(frozen=True)
class DayTally(Tally):
    day: int
    on: date


@dataclass(frozen=True)
class WeekTally(Tally):
    week: int
    first_day: date
    last_day: date  # the seventh day, or the course's last day in a short last week


@dataclass(frozen=True)
class DoseAdherence:
    slots: tuple[SlotOutcome, ...]  # in the order given
    days: tuple[DayTally, ...]  # course days with at least one due slot
    weeks: tuple[WeekTally, ...]  # course weeks with at least one due slot
    overall: Tally
    unmatched: tuple[Logged, ...]  # duplicates, or outside every window


def _checked_logs(logs: Sequence[Logged], names: set[str]) -> list[tuple[datetime, Logged]]:
    checked = []
    for index, log in enumerate(items_of(logs, "logs", Logged, "a logged application")):
        field = f"logs[{index}]"
        if not isinstance(log.at, datetime) or log.at.utcoffset() is None:
            raise InputError(f"{field}.at", "must be a date and time with its time zone")
        if log.slot is not None and log.slot not in names:
            raise InputError(f"{field}.slot", f"{log.slot!r} is not a scheduled slot")
        if not isinstance(log.skipped, bool):
            raise InputError(f"{field}.skipped", "must be yes or no")
        checked.append((log.at.astimezone(UTC), log))
    return checked


def _match(
    slots: Sequence[Slot], logs: list[tuple[datetime, Logged]], window: timedelta
) -> tuple[list[Logged | None], list[Logged]]:
    """Which log satisfies each slot (see the module docstring), and the logs left over."""
    order = sorted(range(len(slots)), key=lambda index: slots[index].at)
    instants = [slots[index].at for index in order]
    taken: list[Logged | None] = [None] * len(slots)
    unmatched = []
    # Applications first, then skips; each in time order.
    for at, log in sorted(logs, key=lambda item: (item[1].skipped, item[0])):
        best, best_gap = -1, window
        for position in range(
            bisect_left(instants, at - window), bisect_right(instants, at + window)
        ):
            index = order[position]
            if taken[index] is not None or (log.slot is not None and slots[index].name != log.slot):
                continue
            gap = abs(instants[position] - at)
            if best < 0 or gap < best_gap:
                best, best_gap = index, gap
        if best < 0:
            unmatched.append(log)
        else:
            taken[best] = log
    return taken, unmatched


def _counted(due: Sequence[SlotOutcome]) -> tuple[int, int, int]:
    """Scheduled, applied and skipped among due slots."""
    applied = skipped = 0
    for outcome in due:
        if outcome.status is SlotStatus.APPLIED:
            applied += 1
        elif outcome.status is SlotStatus.SKIPPED:
            skipped += 1
    return len(due), applied, skipped


def _status(slot: Slot, log: Logged | None, closes_by: datetime | None) -> SlotStatus:
    if log is not None:
        return SlotStatus.SKIPPED if log.skipped else SlotStatus.APPLIED
    if closes_by is not None and slot.at > closes_by:
        return SlotStatus.NOT_DUE
    return SlotStatus.MISSED


def dose_adherence(
    slots: Sequence[Slot],
    logs: Sequence[Logged],
    *,
    window: timedelta = DEFAULT_WINDOW,
    as_of: datetime | None = None,
) -> DoseAdherence:
    """Dose-level adherence: applications logged ÷ applications scheduled, per course day,
    per course week (week 1 is days 1–7) and overall.

    Source: clinical.md §6 ("for a twice-daily topical also report the dose-level
    adherence: applications logged ÷ applications scheduled, per week"; adherent at 80 %).
    ``slots`` come from ``schedule`` (compute them once per course). Matching is as the
    module docstring says. With ``as_of``, a slot is due once its window has closed
    (scheduled instant + ``window`` ≤ ``as_of``) or once it is logged; slots not yet due
    count nowhere. A slot counts once, so no figure goes above 100 %. Skips are reported
    apart and are not applications.
    """
    slots = items_of(slots, "slots", Slot, "a scheduled slot of the course")
    if not isinstance(window, timedelta) or not timedelta(0) < window <= MAX_WINDOW:
        raise InputError("window", "must be more than 0 and at most 12 hours either side")
    closes_by = None
    if as_of is not None:
        if not isinstance(as_of, datetime) or as_of.utcoffset() is None:
            raise InputError("as_of", "must be a date and time with its time zone")
        closes_by = as_of.astimezone(UTC) - window
    taken, unmatched = _match(slots, _checked_logs(logs, {s.name for s in slots}), window)

    outcomes = tuple(
        SlotOutcome(slot, _status(slot, log, closes_by), log)
        for slot, log in zip(slots, taken, strict=True)
    )
    by_day: dict[int, list[SlotOutcome]] = {}
    by_week: dict[int, list[SlotOutcome]] = {}
    for outcome in outcomes:
        if outcome.status is not SlotStatus.NOT_DUE:
            by_day.setdefault(outcome.slot.day, []).append(outcome)
            by_week.setdefault(outcome.slot.week, []).append(outcome)
    day_tallies = tuple(
        DayTally(*_counted(due), day=day, on=due[0].slot.on) for day, due in sorted(by_day.items())
    )
    course_end = max((slot.on for slot in slots), default=date.max)
    week_tallies = []
    for week, due in sorted(by_week.items()):
        first = due[0].slot.on - timedelta(days=(due[0].slot.day - 1) % 7)
        last = min(first + timedelta(days=6), course_end)
        week_tallies.append(WeekTally(*_counted(due), week=week, first_day=first, last_day=last))
    overall = Tally(
        sum(t.scheduled for t in day_tallies),
        sum(t.applied for t in day_tallies),
        sum(t.skipped for t in day_tallies),
    )
    return DoseAdherence(outcomes, day_tallies, tuple(week_tallies), overall, tuple(unmatched))
