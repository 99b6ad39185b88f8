"""The treatment services' shared checks of a submitted value, each refusing with a
ValidationError that names the field."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from scarrx.body import Site
from scarrx.text import text_errors


def choice(value, field: str, choices: type[models.TextChoices]) -> str:
    """One of `choices`' values."""
    if value not in choices.values:
        raise ValidationError({field: f"Choose from: {', '.join(choices.values)}."})
    return value


def body_sites(raw, field: str = "sites") -> list[str]:
    """Body sites, each once, in the order given."""
    sites = list(dict.fromkeys(raw or []))
    unknown = [s for s in sites if s not in Site.values]
    if unknown:
        raise ValidationError({field: f"Not a body site: {', '.join(map(str, unknown))}."})
    return sites


def typed(model: type[models.Model], field: str, value) -> str:
    """What someone typed for `model.field`, stripped, under the text rule (its
    characters and the field's length limit)."""
    text = (value or "").strip()
    if problems := text_errors(model, {field: text}):
        raise ValidationError(problems)
    return text
