"""The REST API at /api/v1/: one NinjaAPI mounting each app's router.

Authentication: the console's session (with CSRF) or `Authorization: Bearer <token>`.
Every error has one shape: {"errors": [{"field": "date_of_birth" | null, "message": "..."}]}
(scarrx.errors), also for what no operation answers (scarrx.middleware). A body refused by
its schema also names what the operation's own checks refuse in the rest of it, in the
same answer (scarrx.oneround).
"""

from __future__ import annotations

from functools import cache, wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.security import APIKeyCookie, HttpBearer

from scarrx import oneround
from scarrx.access import PORTAL, STAFF, declared_access, guard_api_user, public
from scarrx.accounts.services import user_for_token
from scarrx.errors import errors_body, validation_pairs


class Bearer(HttpBearer):
    """`Authorization: Bearer <token>`, admitted if the router's audience admits its user."""

    def __init__(self, audience: str) -> None:
        self.audience = audience
        super().__init__()

    def authenticate(self, request, token):
        user = user_for_token(token)
        return None if user is None else guard_api_user(request, user, self.audience)


class Session(APIKeyCookie):
    """The console's session, with Django's CSRF check on unsafe methods. A request with
    no signed-in session is simply unauthenticated (401), never a CSRF failure."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, audience: str) -> None:
        self.audience = audience
        super().__init__(csrf=True)

    def __call__(self, request):
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request, key):
        return guard_api_user(request, request.user, self.audience)


def auth_for(audience: str) -> list:
    return [Bearer(audience), Session(audience)]


class Api(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        # Short, stable ids ("get_photo"): also the name its reads are recorded under.
        return operation.view_func.__name__

    def _get_urls(self):
        # ninja's own root view (a 404 that names the docs) is declared public like the
        # docs; every operation is declared on its own function.
        urls = super()._get_urls()
        root = urls[-1]
        if root.name == "api-root" and not hasattr(root.callback, "access"):
            root.callback = public(root.callback)
        return urls


api = Api(
    title="scarrx API",
    version="1",
    description="Patients, intake, scar assessments, progress photos and the pharmacy "
    "(formulary, MFRs, preparations, batches, labels, recalls) of a compounding "
    "pharmacy's scar programme. Authenticate with a bearer token (`scarrx token create "
    "USERNAME`) or the console session. Staff operations by default; a patient's own "
    "records under /portal/.",
    auth=auth_for(STAFF),  # deny by default: every router is staff-only unless it says so
    urls_namespace="api",
    docs_url="/docs",
    docs_decorator=public,
)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    return api.create_response(request, errors_body(validation_pairs(exc)), status=422)


def _field_of(loc) -> str:
    # loc is like ("body", "payload", "sites", 0, "site"): drop where and the param name.
    parts = [str(p) for p in loc[2:]] if loc and loc[0] == "body" else [str(p) for p in loc[1:]]
    return ".".join(parts) or str(loc[-1])


@api.exception_handler(SchemaError)
def on_schema_error(request, exc):
    """The schema's refusals and, for a JSON body, the operation's own refusals of the
    fields that parsed (scarrx.oneround): every field's problem in one answer."""
    pairs = [(_field_of(e.get("loc", ())), e.get("msg", "Invalid value.")) for e in exc.errors]
    try:
        pairs += oneround.other_refusals(request, exc.errors)
    except Http404 as hidden:  # an object this user may not see: 404 whatever the body
        return on_not_found(request, hidden)
    except PermissionDenied as denied:
        return on_forbidden(request, denied)
    return api.create_response(request, errors_body(pairs), status=422)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, errors_body([(None, "Not found.")]), status=404)


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    message = str(exc) or "You do not have permission to do this."
    return api.create_response(request, errors_body([(None, message)]), status=403)


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    # e.g. a body that is not JSON: ninja's message, in our one error shape.
    return api.create_response(request, errors_body([(None, exc.message)]), status=exc.status_code)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    body = errors_body([(None, "Sign in or send a bearer token.")])
    return api.create_response(request, body, status=401)


def _declaration_first(run):
    """Every operation's run (before authentication and validation) knows the operation's
    declared access, so the authentication classes can refuse by it."""
    access = declared_access(run.__self__.view_func)

    @wraps(run)
    def run_declared(request, *args, **kwargs):
        request.declared_access = access
        request.api_call = (run.__self__, kwargs)  # for a second look at a refused body
        return run(request, *args, **kwargs)

    return run_declared


api.add_decorator(_declaration_first, mode="view")


@api.get("/health", auth=None, summary="Is the service up (no patient data)")
@public
def health(request):
    return {"status": "ok"}


def _mount() -> None:
    from scarrx.accounts.api import router as staff
    from scarrx.assessments.api import router as assessments
    from scarrx.audit.api import router as audit
    from scarrx.patients.api import router as patients
    from scarrx.pharmacy.api import router as pharmacy
    from scarrx.photos.api import router as photos
    from scarrx.portal.api import router as portal
    from scarrx.treatment.api import router as treatment

    api.add_router("/patients", patients)
    api.add_router("/", assessments)
    api.add_router("/", photos)
    api.add_router("/", pharmacy)
    api.add_router("/audit", audit)
    api.add_router("/", staff)
    api.add_router("/", treatment)
    api.add_router("/portal", portal, auth=auth_for(PORTAL))


_mount()


def operations():
    """Every API operation: (HTTP methods, path, ninja Operation)."""
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                yield (
                    operation.methods,
                    bound.prefix.rstrip("/") + "/" + path.lstrip("/"),
                    operation,
                )


@cache
def operation_summaries() -> dict[str, str]:
    return {op.view_func.__name__: op.summary or op.view_func.__name__ for _, _, op in operations()}
