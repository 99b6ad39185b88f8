"""Who may reach what. Deny by default, checked in one place.

Three parts, used by every app:

1. **Declarations.** Every console view and every API operation is wrapped in one of
   `public`, `signed_in`, `portal` or `staff(Perm.X)`. The wrapper refuses anyone the
   declaration does not admit: a signed-out visitor is sent to sign in (pages) or gets a
   401 (API); anyone else gets a 404 on a route that names an object (never a 403 that
   would confirm the object exists) and, in the API, a 403 on a route that names none.
   `tests/test_declared_access.py` walks the URL configuration and the OpenAPI schema and
   fails on any route without a declaration.
2. **Scoping.** `visible_to(user, Model)` is the one answer to "which of these may this
   user see" for any model tied to a patient. A model says how it reaches its patient
   (`patient_path`, default "patient"), which staff permission reads it
   (`view_permission`, default Django's view permission) and whether its patient may see
   it in the portal (`portal_visible`, default no). Pharmacists and technicians see the
   pharmacy's patients, a prescriber only their own patients, a patient only themselves.
3. **Fetching.** `fetch(request, Model, public_id)` checks, fetches (404 for what you may
   not see) and records the read; `scarrx.pagination` pages lists and records every
   patient shown. Services re-check writes with `require(actor, Perm.X, patient)`.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from ninja.errors import AuthenticationError

from scarrx.accounts.roles import PATIENT, PRESCRIBER, STAFF_ROLES, Perm, role_of

if TYPE_CHECKING:
    from scarrx.patients.models import Patient

M = TypeVar("M", bound=Model)

PUBLIC = "public"
SIGNED_IN = "signed in"
PORTAL = "portal"
STAFF = "staff"


@dataclass(frozen=True)
class Access:
    """Who a route admits: anyone, anyone signed in, the portal's patient (their own
    records only, by scoping), or staff holding every one of `permissions` (any staff
    role if none are named)."""

    audience: str
    permissions: tuple[Perm, ...] = ()

    def admits(self, user) -> bool:
        if self.audience == PUBLIC:
            return True
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return False
        if self.audience == SIGNED_IN:
            return True
        role = role_of(user)
        if self.audience == PORTAL:
            return role == PATIENT
        if role not in STAFF_ROLES:
            return False
        return user.has_perms(self.permissions)

    def __str__(self) -> str:
        if self.permissions:
            return f"staff with {', '.join(self.permissions)}"
        return self.audience


def is_api(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and "api" in match.namespaces


def names_an_object(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and match.kwargs)


def refuse(request):
    """What someone not admitted gets: sign in, 404 for a named object, 403 otherwise."""
    if not request.user.is_authenticated:
        if is_api(request):
            raise AuthenticationError
        return redirect_to_login(request.get_full_path())
    if is_api(request) and not names_an_object(request):
        raise PermissionDenied("You do not have permission to do this.")
    raise Http404


def _declare(access: Access) -> Callable[[Callable], Callable]:
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request, *args, **kwargs):
            request.route = route_name(request, view)
            if not access.admits(request.user):
                return refuse(request)
            return view(request, *args, **kwargs)

        guarded.access = access  # type: ignore[attr-defined]
        # ninja reads parameter types from the signature: resolve them in the view's module.
        with suppress(NameError, TypeError, ValueError):
            guarded.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
        return guarded

    return decorate


def staff(*permissions: Perm) -> Callable[[Callable], Callable]:
    """Staff pages and operations: `@staff(Perm.VIEW_PHOTO)`."""
    return _declare(Access(STAFF, permissions))


public = _declare(Access(PUBLIC))
signed_in = _declare(Access(SIGNED_IN))
portal = _declare(Access(PORTAL))


def declared_access(view) -> Access | None:
    return getattr(view, "access", None)


def route_name(request, view) -> str:
    """The name a read is recorded under: the URL name of a page, "api:<operation>"."""
    if is_api(request):
        return f"api:{getattr(view, '__name__', 'docs')}"
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else view.__name__


# --- Scoping ---------------------------------------------------------------------------


def patient_path(model: type[Model]) -> str:
    """How a model reaches its patient ("" for Patient itself)."""
    return getattr(model, "patient_path", "patient")


def holds_patient_data(model: type[Model]) -> bool:
    """A model tied to a patient: it declares its path, or has a `patient` field."""
    if hasattr(model, "patient_path"):
        return True
    return any(f.name == "patient" for f in model._meta.get_fields())


def view_permission(model: type[Model]) -> str:
    meta = model._meta
    return getattr(model, "view_permission", None) or f"{meta.app_label}.view_{meta.model_name}"


def visible_to(user, model_or_queryset: type[M] | QuerySet[M]) -> QuerySet[M]:
    """The rows of a patient-tied model this user may see; none for anyone else."""
    if isinstance(model_or_queryset, QuerySet):
        queryset = model_or_queryset
    else:
        queryset = model_or_queryset._default_manager.all()
    model = queryset.model
    path = patient_path(model)
    prefix = f"{path}__" if path else ""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    role = role_of(user)
    if role == PATIENT:
        if not getattr(model, "portal_visible", False):
            return queryset.none()
        return queryset.filter(**{f"{prefix}user": user})
    if role not in STAFF_ROLES or not user.has_perm(view_permission(model)):
        return queryset.none()
    if role == PRESCRIBER:
        return queryset.filter(**{f"{prefix}prescriber": user})
    return queryset


def patients_visible_to(user) -> QuerySet[Patient]:
    from scarrx.patients.models import Patient

    return visible_to(user, Patient)


def patient_of(obj) -> Patient | None:
    """The patient a record belongs to, following its model's patient_path (None for a
    record the path allows without one, such as a stock batch made for no patient)."""
    path = patient_path(type(obj))
    for part in path.split("__") if path else ():
        obj = getattr(obj, part)
        if obj is None:
            return None
    return obj


def visible_or_404(visible: QuerySet[M], public_id: Any) -> M:
    """The object with this public id among those visible, or a 404 for anything else
    (a malformed id included): never a hint that a hidden object exists."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    found = visible.filter(public_id=key).first()
    if found is None:
        raise Http404
    return found


def fetch(request, model_or_queryset: type[M] | QuerySet[M], public_id: Any) -> M:
    """The one way a route gets a patient's record: scoped to what request.user may see
    (404 otherwise), and the read recorded against the record's patient."""
    from scarrx.audit.services import record_read

    found = visible_or_404(visible_to(request.user, model_or_queryset), public_id)
    patient = patient_of(found)
    if patient is not None:
        record_read(request, patient)
    return found


def require(actor, permission: Perm, patient: Patient | None = None) -> None:
    """A service's own check before a write: the actor holds the permission and (for a
    patient's records) may see that patient. Routes have checked already; this keeps
    a service safe when called from elsewhere (the CLI, a task, a later route)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("Sign in to do this.")
    if not actor.has_perm(permission):
        raise PermissionDenied("You do not have permission to do this.")
    if patient is not None and not patients_visible_to(actor).filter(pk=patient.pk).exists():
        raise PermissionDenied("You may not do this for this patient.")


def guard_api_user(request, user, audience: str):
    """For the API's authentication classes, which run before ninja reads the request's
    body: the user if both the router's audience and the operation's own declaration
    admit them, else the refusal (404 on object routes, 403 otherwise). So a caller the
    declaration excludes is refused before any validation could tell them more."""
    request.user = user
    declared = getattr(request, "declared_access", None)
    if not Access(audience).admits(user) or (declared is not None and not declared.admits(user)):
        refuse(request)
    return user
