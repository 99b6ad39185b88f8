"""The answers to a refused request, one shape each: the API's JSON error body
(`{"errors": [{"field": ..., "message": ...}]}`) and, for console pages, a plain page
with the message (never a traceback, in debug mode too)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

API_PREFIX = "/api/"

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    500: "Server error",
}


def errors_body(pairs: Iterable[tuple[str | None, str]]) -> dict:
    return {"errors": [{"field": f, "message": m} for f, m in pairs]}


def validation_pairs(exc: ValidationError):
    """(field or None, message) for each message of a service's ValidationError."""
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            for message in errs:
                yield (None if field == "__all__" else field), message
    else:
        for message in exc.messages:
            yield None, message


def is_api_request(request: HttpRequest) -> bool:
    """Under /api/, known route or not (before URL resolution, so by path)."""
    return request.path_info.startswith(API_PREFIX)


def refusal(request: HttpRequest, status: int, message: str, field: str | None = None):
    """A refusal made outside any view: the API's error shape, or a plain page."""
    if is_api_request(request):
        return JsonResponse(errors_body([(field, message)]), status=status)
    title = TITLES.get(status, "Request refused")
    html = render_to_string("refused.html", {"title": title, "message": message})
    return HttpResponse(html, status=status)
