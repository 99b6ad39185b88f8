"""Private file storage for photos: random names, never a public URL."""

from __future__ import annotations

import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def save_private(data: bytes, *, suffix: str = ".jpg") -> str:
    """Store bytes under a random name and return the name (not a URL)."""
    name = f"photos/{secrets.token_hex(2)}/{secrets.token_urlsafe(24)}{suffix}"
    return default_storage.save(name, ContentFile(data))


def read_private(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def open_private(name: str):
    return default_storage.open(name, "rb")
