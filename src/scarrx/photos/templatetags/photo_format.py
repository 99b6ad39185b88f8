"""Measured figures on photo pages, written as scarrx.photos.figures writes them."""

from django import template

from scarrx.photos.figures import metric_text, signed_text

register = template.Library()


@register.filter
def metric(value, digits=1):
    """-1.25 → "−1.3"; None (not measured) → "—"."""
    return metric_text(value, digits)


@register.filter
def signed(value, digits=1):
    """A change: "+1.2", "−1.2" or "0.0"; None → "—"."""
    return signed_text(value, digits)
