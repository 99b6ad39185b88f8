"""The patient file: everything shown about one patient, composed from each app's part.

Each app that holds patient records offers a `contribution` module with three functions:

- `panel(request, patient) -> str | None`: its panel on the staff patient page (rendered
  HTML), or None to show nothing;
- `events(user, patient) -> Iterable[Event]`: its timeline events, from the records this
  user may see (`scarrx.access.visible_to`);
- `earliest_date(patient) -> date | None`: its earliest clinical date (a date of birth
  after it is refused).

A contribution may also offer `record_changed(actor, patient, fields)`, called in the
same transaction after the patient's record was amended (`fields`: the names changed,
`ASSESSMENTS` when an assessment was signed or amended); the pharmacy screens the
patient's preparations again there.

CONTRIBUTORS lists them in page order. The patient page, the timeline, the date-of-birth
rule and (later) the portal and the case summary loop over this list, so `patients/`
imports no app above it, and a new app adds itself here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import import_module
from types import ModuleType

CONTRIBUTORS = (
    "scarrx.patients.contribution",
    "scarrx.assessments.contribution",
    "scarrx.photos.contribution",
    "scarrx.pharmacy.contribution",
    "scarrx.treatment.contribution",
)

STAFF = "staff"
PATIENT = "patient"
BOTH = "both"


@dataclass(frozen=True)
class Event:
    """One line of a patient's timeline, dated by when it happened clinically."""

    on: date
    kind: str  # a key of KINDS
    summary: str  # one line, plain words
    url: str = ""  # where staff deal with it
    audience: str = BOTH  # STAFF, PATIENT or BOTH
    at: datetime | None = None  # orders events of one day

    def shown_to(self, audience: str) -> bool:
        return self.audience in (audience, BOTH)


# Timeline kinds, in filter order, with the words the filter shows.
KINDS = {
    "registration": "Registration",
    "consent": "Consents",
    "assessment": "Assessments",
    "photo": "Photos",
    "measurement": "Measurements",
    "preparation": "Preparations",
    "batch": "Batches",
    "safety": "Safety overrides",
    "prescription": "Prescriptions",
    "fill": "Fills",
    "applications": "Applications (a week a row)",
    "side_effect": "Side effects",
}


@cache
def contributions() -> tuple[ModuleType, ...]:
    return tuple(import_module(name) for name in CONTRIBUTORS)


def panels(request, patient) -> list[str]:
    return [html for c in contributions() if (html := c.panel(request, patient))]


def timeline(
    user, patient, *, audience: str = STAFF, kinds: Iterable[str] | None = None
) -> list[Event]:
    """The patient's events the audience may see, newest first (by clinical date)."""
    wanted = set(kinds) if kinds else None
    events = [
        e
        for c in contributions()
        for e in c.events(user, patient)
        if e.shown_to(audience) and (wanted is None or e.kind in wanted)
    ]
    return sorted(events, key=lambda e: (e.on, e.at.timestamp() if e.at else 0.0), reverse=True)


def earliest_clinical_date(patient) -> date | None:
    dates = [d for c in contributions() if (d := c.earliest_date(patient)) is not None]
    return min(dates, default=None)


ASSESSMENTS = "assessments"  # the record_changed name for "the current assessments"


def record_changed(actor, patient, fields: Iterable[str]) -> None:
    """Tell each contribution that cares that the patient's record changed."""
    names = frozenset(fields)
    for c in contributions():
        hook = getattr(c, "record_changed", None)
        if hook is not None:
            hook(actor, patient, names)
