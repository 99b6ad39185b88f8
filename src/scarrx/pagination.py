"""Lists of patient data, paged one way and recorded: every patient shown gets a read row.

API lists use `@paginate(Pages)` and answer `{"items": [...], "count": N}` with bounded
`limit` and `offset` (a huge one is a 422, never a database overflow); console lists use
`console_page`. Both record the patients of the page actually shown.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

from scarrx.access import holds_patient_data, patient_of
from scarrx.audit.services import record_reads

MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1


def record_shown(request, items) -> None:
    """Record the patients of a page of patient data (other lists record nothing)."""
    items = list(items)
    if items and not holds_patient_data(type(items[0])):
        return
    patients = [p for p in map(patient_of, items) if p is not None]
    if items and not patients:
        return  # e.g. a page of stock batches: no patient was shown
    record_reads(request, {p.pk: p for p in patients}.values())


class Pages(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(50, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def paginate_queryset(self, queryset, pagination, request, **params):
        page = super().paginate_queryset(queryset, pagination, request, **params)
        items = list(page["items"])
        record_shown(request, items)
        return {**page, "items": items}


def console_page(request, queryset, *, per_page: int = 50, param: str = "page") -> Page:
    page = Paginator(queryset, per_page).get_page(request.GET.get(param))
    record_shown(request, page.object_list)
    return page
