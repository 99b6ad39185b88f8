"""Checks on free text shared by every service."""

from collections.abc import Iterable

NUL_MESSAGE = "Contains a control character (NUL) that cannot be stored."


def fields_with_nul(pairs: Iterable[tuple[str, object]]) -> list[str]:
    """Names of the text values holding a NUL, which PostgreSQL refuses to store."""
    return [name for name, value in pairs if isinstance(value, str) and "\x00" in value]
