"""Private file storage for photos: random names, never a public URL."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import HttpResponse

from scarrx.dryrun import undo_after


class PrivateFileSystemStorage(FileSystemStorage):
    """Local storage that never produces a URL: files leave only through a view that
    checks permission, so no setting (MEDIA_URL, a web server alias) can publish them.
    Files and folders are the service's alone (0600, 0700): no other account on the
    server reads a patient's photos."""

    def __init__(self, **options):
        options.setdefault("file_permissions_mode", 0o600)
        options.setdefault("directory_permissions_mode", 0o700)
        super().__init__(**options)

    def url(self, name):
        raise ValueError("Private files have no URL; serve them through a permission-checked view.")


def save_private(data: bytes, *, suffix: str = ".jpg") -> str:
    """Store bytes under a random name and return the name (not a URL)."""
    name = f"photos/{secrets.token_hex(2)}/{secrets.token_urlsafe(24)}{suffix}"
    name = default_storage.save(name, ContentFile(data))
    undo_after(lambda: default_storage.delete(name))  # a dry run keeps nothing
    return name


@contextmanager
def new_private_files() -> Iterator[Callable[[bytes], str]]:
    """`save(data) -> name` for the files one operation writes; if the operation then
    fails (its transaction rolled back), the files it wrote are deleted too."""
    written: list[str] = []

    def save(data: bytes) -> str:
        written.append(save_private(data))
        return written[-1]

    try:
        yield save
    except BaseException:
        delete_private(written)
        raise


def delete_private(names: list[str]) -> None:
    """Remove files written by an operation that then failed, or a derived picture (a
    preview) replaced by a new one. The photo itself is never deleted."""
    for name in names:
        default_storage.delete(name)


def read_private(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def private_jpeg(data: bytes) -> HttpResponse:
    """A photo's bytes for a permission-checked view (never cached, like every response
    with patient data: scarrx.middleware.PrivateByDefault)."""
    return HttpResponse(data, content_type="image/jpeg")
