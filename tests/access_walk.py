"""Every route of the site, found by walking Django's URL resolver and the API's operations,
and the checks the declared-access test runs on each (kept apart from the test module so
a test can run them on a deliberately broken route and see them fail)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver

from scarrx.access import PORTAL, PUBLIC, SIGNED_IN, Access, declared_access
from scarrx.audit.codes import READS
from scarrx.audit.models import AccessRecord, ChangeRecord

API_PREFIX = "/api/v1"
# URL parameters that name the pharmacy's own records, tied to no patient (a formulary
# entry, a lot, a balance, an MFR, a recall): staff the declaration admits may see them,
# so only callers it refuses are intruders, and a page of one shows no patient by itself.
RECORDS_OF_NO_PATIENT = {"ingredient_id", "lot_id", "balance_id", "formulation_id", "recall_id"}
PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\{(?P<api>\w+)\}")


@dataclass(frozen=True)
class Route:
    """One way in: a URL template ("/photos/{photo_id}/"), its methods and declaration."""

    template: str
    name: str
    methods: tuple[str, ...]
    access: Access | None
    api: bool
    summary: str = ""
    params: tuple[str, ...] = field(default=())

    @property
    def names_an_object(self) -> bool:
        return bool(self.params)

    @property
    def names_a_patients_record(self) -> bool:
        return any(p not in RECORDS_OF_NO_PATIENT for p in self.params)

    def url(self, values: dict) -> str:
        missing = [p for p in self.params if p not in values]
        if missing:
            raise LookupError(
                f"{self.template}: no test value for {missing}; add one to PARAMS in "
                "tests/test_declared_access.py (an object of the patient under test)"
            )
        return self.template.format(**{p: values[p] for p in self.params})

    def __str__(self) -> str:
        return f"{'/'.join(self.methods)} {self.template}"


def _params(template: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\{(\w+)\}", template))


def _console_template(pattern: str) -> str:
    return "/" + PARAM.sub(lambda m: "{" + (m["name"] or m["api"]) + "}", pattern)


def _walk(patterns, prefix="", namespaces=()):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = (*namespaces, p.namespace) if p.namespace else namespaces
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p, namespaces


def console_routes(urlconf=None) -> list[Route]:
    """Every URL pattern outside the API's operations (the API docs and root included)."""
    routes = []
    for pattern, p, namespaces in _walk(get_resolver(urlconf).url_patterns):
        is_operation = "api" in namespaces and not hasattr(p.callback, "access")
        if is_operation and "PathView" in getattr(p.callback, "__qualname__", ""):
            continue  # an API operation: checked one by one in api_routes()
        template = _console_template(pattern)
        routes.append(
            Route(
                template=template,
                name=p.name or "",
                methods=("GET", "POST"),
                access=declared_access(p.callback),
                api="api" in namespaces,
                params=_params(template),
            )
        )
    return routes


def api_routes(api=None) -> list[Route]:
    """Every operation of a NinjaAPI (scarrx's own by default)."""
    if api is None:
        from scarrx.api import api
    routes = []
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for op in path_view.operations:
                template = (
                    API_PREFIX
                    + "/"
                    + "/".join(part.strip("/") for part in (bound.prefix, path) if part.strip("/"))
                )
                routes.append(
                    Route(
                        template=template,
                        name=op.view_func.__name__,
                        methods=tuple(op.methods),
                        access=declared_access(op.view_func),
                        api=True,
                        summary=op.summary or "",
                        params=_params(template),
                    )
                )
    return routes


def undeclared(routes: list[Route]) -> list[str]:
    return [str(r) for r in routes if r.access is None]


# --- what a refused caller gets -------------------------------------------------------


def audit_counts(patient) -> tuple[int, int]:
    return (
        ChangeRecord.objects.count(),
        AccessRecord.objects.filter(patient__isnull=False).count(),
    )


def send(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    body = json.dumps({})
    return client.generic(method, url, body, content_type="application/json")


def refusal_problems(route: Route, method: str, client, url: str, patient) -> list[str]:
    """How this caller, who may not reach the route, was not refused properly: a route
    that names an object must answer 404 and write nothing (no change, no read of a
    patient); one that names none answers 404 (pages) or 403 (API)."""
    before = audit_counts(patient)
    response = send(client, method, url)
    problems = []
    if route.names_an_object:
        if response.status_code != 404:
            problems.append(f"{method} {url}: {response.status_code}, not 404")
    elif response.status_code not in ((403,) if route.api else (404,)):
        problems.append(f"{method} {url}: {response.status_code}, not a refusal")
    if audit_counts(patient) != before:
        problems.append(f"{method} {url}: wrote rows while refusing")
    return problems


def read_problems(route: Route, client, url: str, patient, shown: tuple[str, ...]) -> list[str]:
    """A rightful GET that shows this patient must record the read, under the route's
    name, with words for the audit page."""
    before = AccessRecord.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.get(url)
    if response.status_code == 405 or 300 <= response.status_code < 400:
        return []  # a form's POST-only target, or a redirect: nothing shown
    if response.status_code != 200:
        return [f"GET {url}: {response.status_code} for a rightful user"]
    body = response.content.decode(errors="replace")
    shows_patient = route.names_a_patients_record or any(s in body for s in shown)
    if not shows_patient:
        return []
    rows = AccessRecord.objects.filter(pk__gt=before, patient=patient)
    expected = f"api:{route.name}" if route.api else route.name
    if not rows.filter(what=expected).exists():
        got = sorted(set(rows.values_list("what", flat=True)))
        return [f"GET {url}: showed the patient but recorded {got or 'no read'}, not {expected}"]
    if not route.api and expected not in READS:
        return [f"GET {url}: reads recorded as {expected!r} have no words in audit/codes.py"]
    if route.api and not route.summary:
        return [f"GET {url}: the operation has no summary for the audit page"]
    return []


def intruders_for(route: Route, cast: dict) -> list[str]:
    """Who must be refused. For a route naming an object of the patient under test:
    anyone with no business with that patient (no role, another patient, another
    prescriber) and anyone the declaration does not admit (a technician where the
    permission excludes them, the patient on a staff route, staff on a portal route).
    For a route naming no object, or only a pharmacy record of no patient: anyone the
    declaration does not admit."""
    access = route.access
    if access is None or access.audience in (PUBLIC, SIGNED_IN):
        return []
    refused = [name for name, user in cast.items() if not access.admits(user)]
    if route.names_a_patients_record:
        refused += ["outsider", "other_patient_user", "other_prescriber"]
    return sorted(set(refused))


def rightful_for(route: Route) -> str:
    return "patient_user" if route.access and route.access.audience == PORTAL else "pharmacist"
