"""The audit trail in words: each change as "Field: old → new", dates as on every page."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from scarrx.audit.codes import change_label

# Changes whose data is {field: [old, new]}; the others record the values set.
DIFF_ACTIONS = {"patient.updated", "patient.portal_linked"}


def field_label(name: str) -> str:
    return name.replace("_", " ").replace(".", " ").strip().capitalize()


def value_words(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, str):
        return _when(value) or value
    if isinstance(value, list):
        return ", ".join(value_words(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)} {value_words(v)}" for k, v in value.items())
    return str(value)


def _when(text: str) -> str | None:
    """A date or an instant recorded as ISO text, as every page writes it."""
    if not (len(text) >= 10 and text[4] == "-" and text[7] == "-"):
        return None
    try:
        return f"{date.fromisoformat(text):%-d %b %Y}"
    except ValueError:
        pass
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    at = timezone.localtime(at) if timezone.is_aware(at) else at
    return f"{at:%-d %b %Y, %H:%M}"


def change_lines(record) -> list[str]:
    """One line per field of a change record's data."""
    data = record.data or {}
    if record.action in DIFF_ACTIONS:
        return [
            f"{field_label(k)}: {value_words(v[0])} → {value_words(v[1])}"
            for k, v in data.items()
            if isinstance(v, list) and len(v) == 2
        ]
    return [f"{field_label(k)}: {value_words(v)}" for k, v in data.items()]


def change_title(record) -> str:
    return change_label(record.action)
