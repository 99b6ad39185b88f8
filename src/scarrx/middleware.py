"""Rules for every request, applied once, before and after any view.

- `PrivateByDefault`: nothing is stored by a browser or proxy cache unless its view says
  so: almost every page, operation, image and report shows patient data.
- `ApiErrorShape`: whatever answered an API request with an error (an unknown route, a
  wrong method, a server error) answers in the API's one JSON error shape.
- `RequestLimits`: the query string and body are parsed here, with Django's limits, so a
  request too large or malformed is refused the same way for every page and operation
  (413 or 400, the API's shape or a plain page), not wherever it is first read.
"""

from __future__ import annotations

import errno
import json

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http.multipartparser import MultiPartParserError

from scarrx.errors import TITLES, is_api_request, refusal

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
WITH_BODY = ("POST", "PUT", "PATCH", "DELETE")


class PrivateByDefault:
    """`Cache-Control: private, no-store` unless the view set its own (the capture guide's
    example pictures are public). Static files are served before this, with theirs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response


class ApiErrorShape:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code >= 400 and is_api_request(request) and not _is_json(response):
            message = TITLES.get(response.status_code, "Request refused") + "."
            return refusal(request, response.status_code, message)
        return response


def _is_json(response) -> bool:
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        return "errors" in json.loads(response.content)
    except (ValueError, AttributeError):
        return False


class RequestLimits:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = body_problem(request)
        if problem is not None:
            return refusal(request, *problem)
        return self.get_response(request)


def body_problem(request) -> tuple[int, str] | None:
    """(status, message) when the query string or body cannot be taken, else None."""
    try:
        request.GET  # noqa: B018 - parsed now, with its field limit
        if request.method in WITH_BODY:
            if request.content_type in FORM_TYPES:
                request.POST  # noqa: B018
                request.FILES  # noqa: B018
            else:
                request.body  # noqa: B018 - read now, with its size limit
    except RequestDataTooBig:
        mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2**20
        return 413, f"The request is too large: at most {mb} MB of fields or JSON."
    except TooManyFieldsSent:
        return 400, f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields."
    except TooManyFilesSent:
        return 400, f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files."
    except (MultiPartParserError, SuspiciousOperation):
        return 400, "The request's form data cannot be read (malformed multipart or form body)."
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:
            raise
        return 400, "A file name in the request is too long."
    return None
