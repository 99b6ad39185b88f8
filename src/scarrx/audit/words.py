"""The audit trail in words: each change as "Field: old → new", dates as on every page."""

from __future__ import annotations

from datetime import date, datetime

from django.apps import apps
from django.utils import timezone

from scarrx.audit.codes import change_label

# Changes whose data is {field: [old, new]}; the others record the values set.
DIFF_ACTIONS = {"patient.updated", "patient.portal_linked"}


def field_label(name: str) -> str:
    return name.replace("_", " ").replace(".", " ").strip().capitalize()


def _when(text: str) -> str | None:
    """An ISO date or instant as every page shows it ("1 Dec 2026", "1 Dec 2026, 09:30")."""
    try:
        if len(text) == 10:
            return f"{date.fromisoformat(text):%-d %b %Y}"
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{moment:%-d %b %Y, %H:%M}"


def value_words(value, choices: dict | None = None) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if choices and isinstance(value, str | int) and value in choices:
        return str(choices[value])
    if isinstance(value, str):
        return _when(value) or value if value[:4].isdigit() else value
    if isinstance(value, list):
        return ", ".join(value_words(v, choices) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)} {value_words(v)}" for k, v in value.items())
    return str(value)


def _choices_of(record) -> dict[str, dict]:
    """Each field's choices (value → label) on the changed record's model, so a stored
    "not_pregnant" reads "Not pregnant, not breastfeeding"."""
    try:
        model = apps.get_model(record.object_type)
    except (LookupError, ValueError):
        return {}
    found = {}
    for f in model._meta.get_fields():
        choices = getattr(f, "choices", None)
        if choices:
            found[f.name] = dict(f.flatchoices)
    extra = getattr(model, "audit_choices", {})  # list fields whose items have labels
    return found | {name: dict(c) for name, c in extra.items()}


def change_lines(record) -> list[str]:
    """One line per field of a change record's data."""
    data = record.data or {}
    choices = _choices_of(record)
    if record.action in DIFF_ACTIONS:
        return [
            f"{field_label(k)}: {value_words(v[0], choices.get(k))} → "
            f"{value_words(v[1], choices.get(k))}"
            for k, v in data.items()
            if isinstance(v, list) and len(v) == 2
        ]
    return [f"{field_label(k)}: {value_words(v, choices.get(k))}" for k, v in data.items()]


def change_title(record) -> str:
    return change_label(record.action)
