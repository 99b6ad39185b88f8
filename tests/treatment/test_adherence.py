"""Adherence: PDC from fills (clinical.md §6, PQA) and dose-level adherence from logged
applications against a schedule kept in the patient's wall-clock time across daylight-saving
changes. Worked examples, the instants chosen for missing and repeated hours, matching rules,
bad input, and properties (every figure in [0, 1]; each local time once a day)."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarrx.treatment.adherence import (
    ADHERENT_THRESHOLD,
    DEFAULT_WINDOW,
    Logged,
    SlotStatus,
    dose_adherence,
    pdc,
    schedule,
)
from scarrx.treatment.supply import Fill
from tests.refusals import refused
from tests.treatment.strategies import fills

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
TWICE_DAILY = {"morning": time(8), "evening": time(20)}
fast = settings(max_examples=100, database=None, deadline=None)


def at(zone, *parts):
    return datetime(*parts, tzinfo=zone)


def week_course(start=date(2026, 3, 2), days=7, zone=LONDON):
    return schedule(start=start, days=days, times=TWICE_DAILY, zone=zone)


def applied_at(slots, *indexes, late=timedelta(0)):
    return [Logged(slots[i].at + late, slots[i].name) for i in indexes]


# --- PDC ---------------------------------------------------------------------------------


def test_pdc_adherent_threshold_is_80_percent():
    assert ADHERENT_THRESHOLD * 100 == 80


def test_pdc_early_refill_overlap_is_shifted_forward_not_double_counted():
    fills = [Fill(date(2026, 1, 1), 30), Fill(date(2026, 1, 25), 30), Fill(date(2026, 3, 5), 30)]
    # covered 1–30 Jan, 31 Jan–1 Mar (shifted 6 days), 5–31 Mar: 30 + 30 + 27 of 90 days
    result = pdc(fills, start=date(2026, 1, 1), end=date(2026, 3, 31))
    assert (result.covered_days, result.period_days) == (87, 90)
    assert result.percent == D("96.7")
    assert result.adherent


def test_pdc_below_80_percent_is_not_adherent():
    fills = [Fill(date(2026, 1, 1), 30), Fill(date(2026, 2, 20), 30)]
    result = pdc(fills, end=date(2026, 3, 31))  # period from the first fill
    assert (result.start, result.covered_days, result.period_days) == (date(2026, 1, 1), 60, 90)
    assert not result.adherent


def test_pdc_exactly_80_percent_is_adherent():
    result = pdc([Fill(date(2026, 1, 1), 8)], end=date(2026, 1, 10))
    assert result.proportion == D("0.8") and result.adherent


def test_pdc_is_capped_at_100_percent_and_ignores_supply_past_the_period():
    result = pdc([Fill(date(2026, 1, 1), 90), Fill(date(2026, 1, 2), 90)], end=date(2026, 1, 31))
    assert (result.covered_days, result.proportion) == (31, 1)


def test_pdc_counts_supply_from_before_the_period_inside_it():
    result = pdc([Fill(date(2025, 12, 20), 30)], start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert result.covered_days == 18  # 1–18 January


def test_pdc_with_no_fills_needs_a_start_and_is_zero():
    refused("start", pdc, [], end=date(2026, 1, 31))
    assert pdc([], start=date(2026, 1, 1), end=date(2026, 1, 31)).proportion == 0


def test_pdc_period_must_not_end_before_it_starts():
    refused("end", pdc, [Fill(date(2026, 1, 5), 30)], end=date(2026, 1, 4))


# --- the schedule across daylight-saving changes -----------------------------------------


def test_08_00_stays_08_00_across_the_spring_change():
    slots = schedule(start=date(2025, 3, 8), days=3, times={"morning": time(8)}, zone=NEW_YORK)
    assert [s.local.time() for s in slots] == [time(8)] * 3
    assert [s.at.hour for s in slots] == [13, 12, 12]  # EST, then EDT


def test_a_time_in_the_missing_hour_is_scheduled_once_an_hour_later():
    slots = schedule(start=date(2025, 3, 8), days=3, times={"dose": time(2, 30)}, zone=NEW_YORK)
    assert len(slots) == 3
    spring = slots[1]
    assert spring.on == date(2025, 3, 9)
    assert spring.local == at(NEW_YORK, 2025, 3, 9, 3, 30)
    assert spring.at == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)  # 02:30 at EST's offset
    assert [s.local.time() for s in (slots[0], slots[2])] == [time(2, 30)] * 2


def test_a_time_in_the_repeated_hour_is_its_first_occurrence():
    slots = schedule(start=date(2025, 11, 1), days=3, times={"dose": time(1, 30)}, zone=NEW_YORK)
    autumn = slots[1]
    assert autumn.at == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30 EDT, not EST
    assert autumn.local.utcoffset() == timedelta(hours=-4)


def test_london_missing_and_repeated_hours():
    spring = schedule(start=date(2025, 3, 30), days=1, times={"dose": time(1, 30)}, zone=LONDON)
    assert spring[0].local == at(LONDON, 2025, 3, 30, 2, 30)
    autumn = schedule(start=date(2025, 10, 26), days=1, times={"dose": time(1, 30)}, zone=LONDON)
    assert autumn[0].at == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # BST, the first


def test_lord_howe_half_hour_change():
    times = {"dose": time(2, 15)}
    spring = schedule(start=date(2025, 10, 5), days=1, times=times, zone=LORD_HOWE)
    assert spring[0].local.time() == time(2, 45)  # clocks go from 02:00 to 02:30
    assert spring[0].at == datetime(2025, 10, 4, 15, 45, tzinfo=UTC)
    autumn = schedule(start=date(2025, 4, 6), days=1, times={"dose": time(1, 45)}, zone=LORD_HOWE)
    assert autumn[0].local.utcoffset() == timedelta(hours=11)  # the first 01:45


def test_schedule_is_day_then_time_order_with_course_days_and_weeks():
    slots = schedule(start=date(2026, 1, 1), days=180, times=TWICE_DAILY, zone="Europe/London")
    assert len(slots) == 360
    assert [(s.day, s.name) for s in slots[:3]] == [(1, "morning"), (1, "evening"), (2, "morning")]
    assert (slots[-1].day, slots[-1].on, slots[-1].week) == (180, date(2026, 6, 29), 26)
    assert [slots[i].week for i in (0, 13, 14)] == [1, 1, 2]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"zone": "Mars/Olympus"}, "zone"),
        ({"zone": 5}, "zone"),
        ({"days": 0}, "days"),
        ({"start": datetime(2026, 1, 1, tzinfo=UTC)}, "start"),
        ({"times": {}}, "times"),
        ({"times": {"morning": "08:00"}}, "times.morning"),
        ({"times": {"morning": time(8, tzinfo=UTC)}}, "times.morning"),
        ({"times": {"morning": time(8), "also": time(8)}}, "times.also"),
        ({"times": {" ": time(8)}}, "times"),
    ],
)
def test_bad_schedules_are_refused(given, field):
    kwargs = {"start": date(2026, 1, 1), "days": 7, "times": TWICE_DAILY, "zone": LONDON}
    refused(field, schedule, **{**kwargs, **given})


# --- dose-level adherence ----------------------------------------------------------------


def test_twelve_of_fourteen_applications_in_a_week_is_adherent():
    slots = week_course()
    logs = applied_at(slots, *range(12), late=timedelta(minutes=25))
    result = dose_adherence(slots, logs)
    assert (result.overall.scheduled, result.overall.applied, result.overall.missed) == (14, 12, 2)
    assert result.overall.percent == D("85.7")
    assert result.overall.adherent
    [week] = result.weeks
    assert (week.week, week.first_day, week.last_day) == (1, date(2026, 3, 2), date(2026, 3, 8))
    assert [day.applied for day in result.days] == [2, 2, 2, 2, 2, 2, 0]
    assert result.days[-1].adherent is False


def test_weeks_are_course_days_1_to_7_and_a_short_last_week():
    slots = week_course(days=10)
    result = dose_adherence(slots, applied_at(slots, *range(20)))
    assert [(w.week, w.scheduled, w.applied) for w in result.weeks] == [(1, 14, 14), (2, 6, 6)]
    assert result.weeks[1].last_day == date(2026, 3, 11)
    assert result.overall.proportion == 1


def test_application_at_the_edge_of_the_window_counts_and_just_past_it_does_not():
    slots = week_course(days=1)
    edge = dose_adherence(slots, [Logged(slots[0].at + DEFAULT_WINDOW, "morning")])
    assert edge.slots[0].status is SlotStatus.APPLIED
    late = dose_adherence(slots, [Logged(slots[0].at + DEFAULT_WINDOW + timedelta(seconds=1))])
    assert late.slots[0].status is SlotStatus.MISSED and len(late.unmatched) == 1


def test_window_is_configurable():
    slots = week_course(days=1)
    log = [Logged(slots[0].at + timedelta(hours=5), "morning")]
    assert dose_adherence(slots, log).overall.applied == 0
    assert dose_adherence(slots, log, window=timedelta(hours=6)).overall.applied == 1


def test_a_second_log_for_the_same_slot_counts_once():
    slots = week_course(days=1)
    logs = [Logged(slots[0].at, "morning"), Logged(slots[0].at + timedelta(minutes=5), "morning")]
    result = dose_adherence(slots, logs)
    assert (result.overall.applied, len(result.unmatched)) == (1, 1)


def test_unnamed_logs_take_the_nearest_free_slot():
    slots = week_course(days=1)
    noon = slots[0].at + timedelta(hours=5)
    result = dose_adherence(slots, [Logged(noon), Logged(noon)], window=timedelta(hours=8))
    assert [o.status for o in result.slots] == [SlotStatus.APPLIED, SlotStatus.APPLIED]


def test_a_named_log_only_satisfies_its_slot():
    slots = week_course(days=1)
    result = dose_adherence(slots, [Logged(slots[1].at, "morning")], window=timedelta(hours=12))
    assert [o.status for o in result.slots] == [SlotStatus.APPLIED, SlotStatus.MISSED]


def test_log_in_another_zone_is_matched_by_its_instant():
    slots = week_course(days=1)  # 08:00 in London is 03:00 in New York in March
    result = dose_adherence(slots, [Logged(at(NEW_YORK, 2026, 3, 2, 3, 10), "morning")])
    assert result.overall.applied == 1


def test_skips_are_reported_apart_and_an_application_outranks_a_skip():
    slots = week_course(days=1)
    logs = [
        Logged(slots[0].at, "morning", skipped=True),
        Logged(slots[0].at + timedelta(hours=1), "morning"),
        Logged(slots[1].at, "evening", skipped=True),
    ]
    result = dose_adherence(slots, logs)
    assert [o.status for o in result.slots] == [SlotStatus.APPLIED, SlotStatus.SKIPPED]
    assert (result.overall.applied, result.overall.skipped, result.overall.missed) == (1, 1, 0)
    assert result.unmatched == (logs[0],)


def test_slots_whose_window_is_open_are_not_yet_due_unless_logged():
    slots = week_course(days=2)
    as_of = slots[2].at + timedelta(hours=1)  # day 2, an hour after the morning dose
    result = dose_adherence(slots, applied_at(slots, 0), as_of=as_of)
    assert [o.status for o in result.slots] == [
        SlotStatus.APPLIED,
        SlotStatus.MISSED,
        SlotStatus.NOT_DUE,
        SlotStatus.NOT_DUE,
    ]
    assert (result.overall.scheduled, len(result.days)) == (2, 1)
    logged = dose_adherence(slots, applied_at(slots, 0, 2), as_of=as_of)
    assert (logged.overall.scheduled, logged.overall.applied, logged.days[1].scheduled) == (3, 2, 1)


def test_nothing_due_yet_has_no_proportion():
    slots = week_course(days=1)
    result = dose_adherence(slots, [], as_of=slots[0].at)
    assert result.overall.scheduled == 0
    assert result.overall.proportion is None and result.overall.adherent is None
    assert result.days == () and result.weeks == ()


@pytest.mark.parametrize(
    ("logs", "kwargs", "field"),
    [
        ([Logged(datetime(2026, 3, 2, 8))], {}, "logs[0].at"),  # noqa: DTZ001 - naive on purpose
        ([Logged(datetime(2026, 3, 2, 8, tzinfo=UTC), "noon")], {}, "logs[0].slot"),
        ([("2026-03-02T08:00Z", "morning")], {}, "logs[0]"),
        ([], {"window": timedelta(0)}, "window"),
        ([], {"window": timedelta(hours=13)}, "window"),
        ([], {"as_of": datetime(2026, 3, 2, 8)}, "as_of"),  # noqa: DTZ001 - naive on purpose
    ],
)
def test_bad_logs_are_refused(logs, kwargs, field):
    refused(field, dose_adherence, week_course(days=1), logs, **kwargs)


# --- properties ------------------------------------------------------------------------

# Start a few days before a change, so every run crosses one.
CHANGES = {
    NEW_YORK: [date(2025, 3, 9), date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1)],
    LONDON: [date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25)],
    LORD_HOWE: [date(2025, 4, 6), date(2025, 10, 5), date(2026, 4, 5), date(2026, 10, 4)],
}
around_changes = st.sampled_from(list(CHANGES)).flatmap(
    lambda zone: st.tuples(
        st.just(zone),
        st.sampled_from(CHANGES[zone]).flatmap(
            lambda day: st.integers(0, 3).map(lambda back: day - timedelta(days=back))
        ),
    )
)
clock_times = st.one_of(
    st.sampled_from([time(0, 30), time(1, 0), time(1, 30), time(1, 45), time(2, 0), time(2, 15)]),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
time_sets = st.dictionaries(st.sampled_from(["a", "b", "c"]), clock_times, min_size=1).filter(
    lambda times: len(set(times.values())) == len(times)
)


@fast
@given(place=around_changes, times=time_sets)
def test_each_scheduled_local_time_occurs_exactly_once_per_day_across_changes(place, times):
    zone, start = place
    slots = schedule(start=start, days=6, times=times, zone=zone)
    assert len(slots) == 6 * len(times)
    # No slot twice. Two slots share an instant only where the clocks skipped one's time
    # and moved it onto the other's (02:00 → 03:00 beside a 03:00 slot): both stay due.
    assert len({(s.name, s.at) for s in slots}) == len(slots)
    for offset in range(6):
        today = [s for s in slots if s.on == start + timedelta(days=offset)]
        assert sorted(s.name for s in today) == sorted(times)
        for slot in today:
            assert slot.local.date() == slot.on
            assert slot.local == slot.at.astimezone(zone)
            wall = datetime.combine(slot.on, slot.time)
            exists = (
                wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
                == wall
            )
            if exists:
                assert slot.local.time() == slot.time


@fast
@given(
    fills=fills(),
    start=st.dates(min_value=date(2025, 12, 1), max_value=date(2026, 12, 31)),
    length=st.integers(0, 400),
)
def test_pdc_is_between_0_and_1(fills, start, length):
    result = pdc(fills, start=start, end=start + timedelta(days=length))
    assert 0 <= result.proportion <= 1
    assert result.adherent == (result.proportion >= ADHERENT_THRESHOLD)


@fast
@given(
    offsets=st.lists(st.integers(-30 * 3600, 8 * 24 * 3600), max_size=40),
    names=st.lists(st.sampled_from([None, "morning", "evening"]), min_size=40, max_size=40),
    skips=st.lists(st.booleans(), min_size=40, max_size=40),
    window_hours=st.integers(1, 12),
    as_of_hours=st.none() | st.integers(0, 8 * 24),
)
def test_dose_adherence_is_between_0_and_1_and_counts_each_slot_once(
    offsets, names, skips, window_hours, as_of_hours
):
    slots = week_course(start=date(2026, 3, 26), days=7)  # crosses London's spring change
    begin = slots[0].at
    logs = [
        Logged(begin + timedelta(seconds=offset), name, skip)
        for offset, name, skip in zip(offsets, names, skips, strict=False)
    ]
    as_of = None if as_of_hours is None else begin + timedelta(hours=as_of_hours)
    result = dose_adherence(slots, logs, window=timedelta(hours=window_hours), as_of=as_of)
    for tally in (result.overall, *result.days, *result.weeks):
        assert 0 <= tally.applied + tally.skipped <= tally.scheduled
        assert tally.proportion is None or 0 <= tally.proportion <= 1
    assert result.overall.applied == sum(d.applied for d in result.days)
    assert result.overall.scheduled == sum(w.scheduled for w in result.weeks)
    matched = sum(o.logged is not None for o in result.slots)
    assert matched + len(result.unmatched) == len(logs)


def test_a_skipped_time_moved_onto_another_slots_time_keeps_both_slots():
    slots = schedule(
        start=date(2026, 3, 8),
        days=1,
        times={"a": time(2, 0), "b": time(3, 0)},
        zone="America/New_York",
    )

    assert [s.name for s in slots] == ["a", "b"]
    assert slots[0].at == slots[1].at  # 02:00 did not exist that night: 03:00 EDT for both
