"""Helpers every pharmacy operation shares: input checks and the settings in force."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from scarrx.pharmacy.models import (
    PharmacySettings,
)
from scarrx.values import InputError


def today() -> date:
    return timezone.localdate()


@contextmanager
def _inputs(prefix: str = "") -> Iterator[None]:
    """A pure module's InputError becomes a ValidationError on the field it names."""
    try:
        yield
    except InputError as exc:
        raise ValidationError({f"{prefix}{exc.field}": exc.message}) from None


def _text(value, field: str, *, limit: int = 300) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: "This is required."})
    if len(text) > limit:
        raise ValidationError({field: f"At most {limit} characters."})
    return text


def _grams(value, field: str) -> Decimal:
    if value is None or value == "":
        raise ValidationError({field: "Enter the weight in grams."})
    return _positive(value, field)


def _positive(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({field: "Enter a number."}) from None
    if not number.is_finite() or number <= 0:
        raise ValidationError({field: "Must be more than 0."})
    if number >= Decimal(10) ** 6:
        raise ValidationError({field: "Must be less than 1,000,000."})
    return number


def current_settings() -> PharmacySettings:
    return PharmacySettings.objects.first() or PharmacySettings()
