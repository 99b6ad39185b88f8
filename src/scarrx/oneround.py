"""Every field's problem in one round, in the API as on the pages.

django-ninja validates a request against the operation's schema before the operation
runs, so a body with a date that is not a date was refused for it alone, and blank names
in the same body were reported only on the next try. When the schema refuses a JSON body,
`other_refusals` gives the operation itself the fields that did parse (each refused field
left out: None, or unset where the schema has a default) and runs it as a dry run
(`scarrx.dryrun`: nothing kept); what its service refuses about the other fields joins the
schema's answer. One mechanism for every operation, no check written twice.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ninja.params.models import BodyModel
from pydantic import BaseModel, ValidationError, create_model

from scarrx.dryrun import refusal_of
from scarrx.errors import validation_pairs

JSON = "application/json"


def other_refusals(request, schema_errors: list[dict]) -> list[tuple[str | None, str]]:
    """What the operation refuses besides the fields its schema refused (the schema's
    field names, "sites.0.site"), for a JSON body whose fields alone were refused."""
    operation, path_params = getattr(request, "api_call", (None, {}))
    refused = _refused_fields(schema_errors)
    if operation is None or refused is None or request.content_type != JSON:
        return []
    values = _values_without(operation, request, path_params, refused)
    if values is None:
        return []
    found = refusal_of(lambda: operation.view_func(request, **values))
    if found is None:
        return []
    named = {_top(e["loc"][2:]) for e in schema_errors}
    return [(f, m) for f, m in validation_pairs(found) if f is None or _top_of(f) not in named]


def _refused_fields(errors: list[dict]) -> dict[str, set[str]] | None:
    """{body param: its refused top-level fields}, or None if anything other than a field
    of a JSON object body was refused (a path or query parameter, the body as a whole)."""
    refused: dict[str, set[str]] = {}
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if len(loc) < 3 or loc[0] != "body" or not isinstance(loc[2], str):
            return None
        refused.setdefault(str(loc[1]), set()).add(loc[2])
    return refused or None


def _values_without(operation, request, path_params, refused) -> dict[str, Any] | None:
    """The view's arguments, each refused body field left out; None if they cannot be
    had (a body that is not a plain schema, a field failing again)."""
    if operation.signature.response_arg:
        return None
    values: dict[str, Any] = {}
    try:
        for model in operation.models:
            if not issubclass(model, BodyModel):
                values.update(model.resolve(request, operation.api, path_params))
                continue
            data = model.get_request_data(request, operation.api, path_params) or {}
            for name, field in model.model_fields.items():
                body = data.get(name)
                schema = field.annotation
                if not (isinstance(body, dict) and isinstance(schema, type)):
                    return None
                if not issubclass(schema, BaseModel):
                    return None
                left_out = frozenset(refused.get(name, ()))
                if not left_out <= schema.model_fields.keys():
                    return None  # a key the schema forbids: nothing to leave out
                kept = {k: v for k, v in body.items() if k not in left_out}
                values[name] = _lenient(schema, left_out).model_validate(
                    kept, context={"request": request}
                )
    except ValidationError:
        return None
    return values


@lru_cache(maxsize=256)  # bounded: which fields were refused is the client's choice
def _lenient(schema: type[BaseModel], left_out: frozenset[str]) -> type[BaseModel]:
    """`schema` with the refused fields optional and untyped (None when not sent)."""
    if not left_out:
        return schema
    fields: dict[str, Any] = dict.fromkeys(left_out, (Any, None))
    return create_model(f"{schema.__name__}Parsed", __base__=schema, **fields)


def _top(path) -> str:
    return str(path[0]) if path else ""


def _top_of(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]
