"""Helpers shared by console forms."""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime


class WallClockField(forms.DateTimeField):
    """A date and time as a clock showed it, left without a zone: the service reads it in
    the pharmacy's zone (and refuses an hour the clocks skipped), as it does the API's."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:
            parsed = None
        # Otherwise the configured input formats, as DateTimeField reads them.
        return parsed or super(forms.DateTimeField, self).to_python(value)


def add_service_errors(form, exc: ValidationError, field_map=None, skip=()) -> None:
    """Show a service's ValidationError on the form, each message beside its field.

    field_map turns a service field name ("gb_counts.B1") into a form field name
    ("gb_B1"); names with no form field become form-level errors that still name it.
    Fields in `skip` (already refused by the form) are left as they are.
    """
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [("__all__", exc.messages)]
    for name, messages in items:
        target = field_map(name) if field_map else name
        if target in skip:
            continue
        for message in messages:
            if target in form.fields:
                form.add_error(target, message)
            elif name == "__all__":
                form.add_error(None, message)
            else:
                form.add_error(None, f"{name.replace('_', ' ')}: {message}")


def also_check(form, check, field_map=None) -> None:
    """For a form that refused some fields: the service's own checks of the rest, shown
    too, so that every problem is shown at once. `check()` raises its ValidationError."""
    refused = set(form.errors)
    try:
        check()
    except ValidationError as exc:
        add_service_errors(form, exc, field_map, skip=refused)


def form_status(*forms) -> int:
    """422 for a posted form that was refused, 200 otherwise."""
    return 422 if any(f.is_bound and f.errors for f in forms) else 200


def errors_text(form) -> str:
    """A form's errors as one line, for a message above a page the form is not on."""
    return "; ".join(e for errs in form.errors.values() for e in errs)
