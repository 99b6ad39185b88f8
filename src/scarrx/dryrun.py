"""Running an operation only for what it would refuse, keeping nothing it did.

The API uses it so that a request refused by its schema (a missing field, a wrong type, a
date that is not one) also hears what the operation's own checks say about the fields that
did parse: every problem in one round (`scarrx.api`). The operation runs for real, in a
transaction that is always rolled back; a file it writes meanwhile (`undo_after`) is
removed afterwards, so nothing of the rehearsal remains.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404

log = logging.getLogger(__name__)

_undo: ContextVar[list[Callable[[], None]] | None] = ContextVar("scarrx_dry_run", default=None)


class _RolledBack(Exception):
    pass


def undo_after(cleanup: Callable[[], None]) -> None:
    """Within a dry run, call `cleanup` when it ends (a file written outside the
    database); otherwise do nothing."""
    pending = _undo.get()
    if pending is not None:
        pending.append(cleanup)


def refusal_of(call: Callable[[], object]) -> ValidationError | None:
    """The ValidationError `call()` raises, or None (it passed, or failed some other way:
    then what the caller already found is the answer). Nothing it does is kept. A 404 or
    a refused permission is raised again once all is undone: an object the user may not
    see stays a 404 whatever the body, and its checks say nothing about it."""
    pending: list[Callable[[], None]] = []
    token = _undo.set(pending)
    refused = None
    denied: Exception | None = None
    try:
        with transaction.atomic():
            try:
                call()
            except ValidationError as exc:
                refused = exc
            except (Http404, PermissionDenied) as exc:
                denied = exc
            except Exception:  # noqa: BLE001 - the real refusal is the caller's
                log.debug("dry run failed otherwise", exc_info=True)
            raise _RolledBack
    except _RolledBack:
        pass
    finally:
        _undo.reset(token)
        for cleanup in pending:
            cleanup()
    if denied is not None:
        raise denied
    return refused
