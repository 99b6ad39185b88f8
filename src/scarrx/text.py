"""Free text, checked one way by every service: which characters it may hold and how long
it may be, each problem named by its field.

The limit is declared once, on the model field (`max_length`), and `text_errors` reads it.
A `CharField` holds one line (a name, a phone number, a site note); a `TextField` (always
given a `max_length` here) holds several lines (an address, the assessment's notes).
Neither may hold control characters (NUL, which PostgreSQL cannot store; escape codes;
lone surrogates) or invisible formatting characters: a zero-width space makes a name look
like another, a right-to-left override makes text read other than it is stored. A
zero-width joiner or non-joiner between two visible characters is allowed: Persian and
the Indic scripts spell with them.

The rule covers every text field of every scarrx model by default, declared here once:
`free_text_fields` are a model's CharFields and TextFields less the few the software
writes itself (`MACHINE_WRITTEN`: digests, record numbers, computed explanations). A
service checks its input with `text_errors` / `text_errors_of` so that text problems are
reported with its other ones; and no save of a scarrx model stores text that breaks the
rule (`refuse_bad_text`, on `pre_save`): it is refused as a ValidationError naming the
field, before anything is written. A TextField without a max_length of its own is held to
`TEXT_LIMIT`. `tests/test_text.py` walks every model's text fields.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from functools import cache

from django.core.exceptions import ValidationError
from django.db import models

CONTROL = "Contains a control character that cannot be stored here."
LINE_BREAK = "Keep this to one line."
INVISIBLE = (
    "Contains an invisible formatting character (such as a zero-width space or a "
    "right-to-left override): type it again without."
)
JOINERS = "\u200c\u200d"  # zero-width non-joiner, zero-width joiner
LINE_BREAKS = "\n\r\u2028\u2029"
TEXT_LIMIT = 10_000  # a TextField with no max_length of its own (an MFR's steps, a sig)

# Text the software writes, not a person: the rule is for what people type.
MACHINE_WRITTEN: dict[str, frozenset[str]] = {
    label: frozenset(names)
    for label, names in {
        "accounts.User": ("password",),
        "accounts.ApiToken": ("digest", "prefix"),
        "audit.AccessRecord": ("what", "path", "via"),
        "audit.ChangeRecord": ("action", "object_type", "object_id", "summary"),
        "patients.Patient": ("record_number", "phone_digits"),
        "photos.Photo": (
            "taken_at_source",
            "file",
            "thumbnail",
            "preview",
            "sha256",
            "original_sha256",
            "source_format",
            "uncalibrated_reason",
            "algorithm_version",
        ),
        "photos.Measurement": ("algorithm_version", "preview"),
        "pharmacy.Preparation": ("differences",),
        "pharmacy.Batch": ("lot_number", "calculation", "yield_calculation", "bud_explanation"),
        "pharmacy.BatchComponent": ("calculation",),
        "pharmacy.Weighing": ("check_text",),
        "pharmacy.SafetyWarning": ("stage", "code", "subject", "message"),
        "treatment.Prescription": ("rx_number",),
        "treatment.CalendarFeed": ("digest",),
        "treatment.Reminder": ("claimed_by",),
    }.items()
}


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    for i, char in enumerate(value):
        category = unicodedata.category(char)
        if char in LINE_BREAKS:
            if not multiline:
                return LINE_BREAK
        elif char == "\t" and multiline:
            continue
        elif category in ("Cc", "Cs"):
            return CONTROL
        elif category == "Cf" and not _joins(value, i):
            return INVISIBLE
    return None


def _joins(value: str, i: int) -> bool:
    """A joiner or non-joiner with a visible character on each side."""
    if value[i] not in JOINERS or i == 0 or i == len(value) - 1:
        return False
    return all(_visible(value[j]) for j in (i - 1, i + 1))


def _visible(char: str) -> bool:
    return unicodedata.category(char)[0] in "LMNPS"


def too_long(value: str, limit: int | None) -> str | None:
    if limit is None or len(value) <= limit:
        return None
    return f"Keep this to {limit:,} characters (it has {len(value):,})."


def text_limit(field: models.Field) -> int | None:
    """The most characters a text field holds: its max_length, or TEXT_LIMIT."""
    if field.max_length is None and isinstance(field, models.TextField):
        return TEXT_LIMIT
    return field.max_length


@cache  # a model's fields are fixed once the apps are loaded; every save asks
def free_text_fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    """The fields of `model` that hold what people type, under the rule."""
    machine = MACHINE_WRITTEN.get(model._meta.label, frozenset())
    return tuple(
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and f.name not in machine
    )


def text_errors(model: type[models.Model], values: Mapping[str, object], *, prefix: str = ""):
    """{prefix + field: [problem]} for the text values given for `model`'s fields: their
    characters, and their length against the field's limit."""
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        field = model._meta.get_field(name)
        multiline = isinstance(field, models.TextField)
        problem = text_problem(value, multiline=multiline) or too_long(value, text_limit(field))
        if problem:
            errors[prefix + name] = [problem]
    return errors


def text_errors_of(instance: models.Model, *, prefix: str = "") -> dict[str, list[str]]:
    """`text_errors` for every free-text field of a record about to be saved."""
    model = type(instance)
    values = {f.name: getattr(instance, f.attname) for f in free_text_fields(model)}
    return text_errors(model, values, prefix=prefix)


def refuse_bad_text(sender, instance, raw=False, **kwargs) -> None:
    """pre_save, for every scarrx model: no text that breaks the rule is stored."""
    if raw or not sender.__module__.startswith("scarrx."):
        return
    errors = text_errors_of(instance)
    if errors:
        raise ValidationError(errors)


def has_letter(value: str) -> bool:
    """At least one letter, in any script: what a person's name needs."""
    return any(unicodedata.category(c).startswith("L") for c in value)
