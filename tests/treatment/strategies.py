"""Hypothesis strategies shared by the supply and adherence tests."""

from datetime import date

from hypothesis import strategies as st

from scarrx.treatment.supply import Fill


def fills(min_size=0):
    """A year's fills of 1 to 60 days, in any order, same-day fills allowed."""
    fill = st.builds(
        Fill,
        st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
        st.integers(1, 60),
    )
    return st.lists(fill, min_size=min_size, max_size=12)
