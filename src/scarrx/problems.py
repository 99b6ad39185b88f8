"""Every problem with an operation's input, found before it is refused.

A service whose checks each raise a ValidationError runs them through one `Problems`:
each check runs, its refusal is kept, and the operation is refused once, naming every
field at fault (`refuse()`), before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from django.core.exceptions import ValidationError

T = TypeVar("T")


class Problems:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, errors: Mapping[str, list[str]] | ValidationError) -> None:
        if isinstance(errors, ValidationError):
            errors = (
                errors.message_dict
                if hasattr(errors, "error_dict")
                else {"__all__": errors.messages}
            )
        for field, messages in errors.items():
            self.errors.setdefault(field, []).extend(messages)

    def also(self, errors: Mapping[str, list[str]]) -> None:
        """Add the problems of fields not named yet (a second check of the same field,
        such as the text rule after a required-field check, adds nothing)."""
        for field, messages in errors.items():
            self.errors.setdefault(field, list(messages))

    def check(self, call: Callable[..., T], *args, **kwargs) -> T | None:
        """`call(*args, **kwargs)`, or None with its refusal kept."""
        try:
            return call(*args, **kwargs)
        except ValidationError as exc:
            self.add(exc)
            return None

    def refuse(self) -> None:
        """Raise every problem found, if any."""
        if self.errors:
            raise ValidationError(self.errors)
