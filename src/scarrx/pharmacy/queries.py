"""Reads of the pharmacy: the lot picker, the genealogy behind a recall, and reports.

The genealogy is one indexed recursive query (`trace`): the batches a component lot went
into, the batches made from those batches, and so on; then the patients reached, by each
path in `PATIENT_PATHS`. It never scans the weighings: it walks the (lot, batch) and
(source batch, batch) indexes from the one lot or batch recalled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Count, DecimalField, Q, QuerySet, Sum
from django.utils import timezone

from scarrx.access import visible_or_404
from scarrx.accounts.roles import Perm
from scarrx.pharmacy.models import (
    Batch,
    BatchStatus,
    Formulation,
    Ingredient,
    IngredientLot,
    MfrStatus,
    Weighing,
)


def pharmacy_record(model, public_id):
    """One of the pharmacy's own records (no patient in it) by public id, or a 404."""
    return visible_or_404(model._default_manager.all(), public_id)


def formulations_for(user) -> QuerySet[Formulation]:
    """The MFRs this user may read: every version for those who author or approve them;
    for the rest (prescribers choosing one for a patient, technicians at the bench) the
    approved and superseded versions, never a draft still being worked on."""
    found = Formulation.objects.all()
    if user.has_perm(Perm.AUTHOR_FORMULATION) or user.has_perm(Perm.APPROVE_FORMULATION):
        return found
    return found.exclude(status=MfrStatus.DRAFT)


def formulation_for(user, public_id) -> Formulation:
    """One MFR this user may read, or a 404 (a draft is one for a prescriber)."""
    return visible_or_404(formulations_for(user), public_id)


def usable_lots(ingredient: Ingredient, on: date | None = None) -> QuerySet[IngredientLot]:
    """Lots that may be weighed today, first expiry first out (FEFO)."""
    on = on or timezone.localdate()
    return IngredientLot.objects.filter(
        ingredient=ingredient, expiry_date__gte=on, recalled_at__isnull=True, on_hand_g__gt=0
    ).order_by("expiry_date", "received_on", "pk")


def usable_stock_batches(ingredient: Ingredient, on: date | None = None) -> QuerySet[Batch]:
    """Released stock batches that yield this ingredient, earliest BUD first."""
    on = on or timezone.localdate()
    return Batch.objects.filter(
        formulation__produces=ingredient, status=BatchStatus.RELEASED, bud__gte=on
    ).order_by("bud", "pk")


def find_source(ingredient: Ingredient, lot_number: str):
    """(lot, None) or (None, batch) with this lot number for the ingredient, whatever
    its state, so the caller can say why it cannot be used; (None, None) if unknown."""
    lot = IngredientLot.objects.filter(ingredient=ingredient, lot_number=lot_number).first()
    if lot is None:
        lot = IngredientLot.objects.filter(
            ingredient=ingredient, lot_number__iexact=lot_number
        ).first()
    if lot is not None:
        return lot, None
    batch = Batch.objects.filter(
        formulation__produces=ingredient, lot_number__iexact=lot_number
    ).first()
    return None, batch


# --- genealogy ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    batch_ids: list[int]
    patient_ids: list[int]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _reached_cte() -> str:
    """Every batch reached from the seed: made from the lot (or the batch itself), then
    made from a batch already reached. UNION drops repeats, so it ends. The recursive
    step reads the partial index of weighings from a batch (a small one)."""
    weighing = _table(Weighing)
    if connection.vendor == "postgresql":
        # One index probe per batch reached: PostgreSQL would otherwise guess the reach
        # large and merge-join every weighing made from a batch, at each step.
        step = (
            "SELECT x.batch_id FROM reached r CROSS JOIN LATERAL (SELECT w.batch_id FROM "  # noqa: S608
            f"{weighing} w WHERE w.source_batch_id = r.id OFFSET 0) x"
        )
    else:
        step = (
            f"SELECT w.batch_id FROM {weighing} w JOIN reached r ON w.source_batch_id = r.id"  # noqa: S608
            " WHERE w.source_batch_id IS NOT NULL"
        )
    return (
        "WITH RECURSIVE reached(id) AS ("  # noqa: S608
        f" SELECT batch_id FROM {weighing} WHERE lot_id = %s"
        " UNION SELECT CAST(%s AS BIGINT) WHERE %s IS NOT NULL"
        f" UNION {step})"
    )


def _batch_path() -> str:
    """Each batch reached, with its patient (NULL for a stock batch), looked up by
    primary key for each batch reached: a cost that follows the reach, not the size of
    the pharmacy, whatever the planner guesses the reach to be."""
    return (
        "SELECT r.id, (SELECT b.patient_id FROM "  # noqa: S608
        f"{_table(Batch)} b WHERE b.id = r.id) FROM reached r"
    )


# Each path selects (batch id, patient id or NULL) for the batches in `reached`. The
# treatment course adds its fills here the same way, by an indexed lookup per batch:
#   "SELECT r.id, f.patient_id FROM reached r JOIN LATERAL (SELECT patient_id FROM <fill>
#    WHERE batch_id = r.id OFFSET 0) f ON true"
# (OFFSET 0 keeps PostgreSQL from flattening it into a hash join over every fill), so a
# stock batch's patients and those of later fills are reached too.
PATIENT_PATHS = [_batch_path]


def trace_sql() -> str:
    return f"{_reached_cte()} {' UNION '.join(path() for path in PATIENT_PATHS)}"


def trace_params(*, lot: IngredientLot | None = None, batch: Batch | None = None) -> list:
    batch_id = batch.pk if batch is not None else None
    return [lot.pk if lot is not None else None, batch_id, batch_id]


def trace(*, lot: IngredientLot | None = None, batch: Batch | None = None) -> Reach:
    """Every batch and patient a component lot or a batch reached, in one query."""
    # PostgreSQL runs it without JIT (settings.py): the planner cannot know how far a
    # recall reaches, guesses far, and would compile for longer than the walk takes.
    with connection.cursor() as cursor:
        cursor.execute(trace_sql(), trace_params(lot=lot, batch=batch))
        rows = cursor.fetchall()
    batches = sorted({b for b, _ in rows})
    patients = sorted({p for _, p in rows if p is not None})
    return Reach(batches, patients)


def lot_genealogy(batch: Batch) -> list[Weighing]:
    """Where a batch's components came from (the other direction), for its record."""
    return list(
        batch.weighings.filter(is_current=True).select_related(
            "component__ingredient", "lot", "source_batch", "balance", "weighed_by"
        )
    )


# --- reports ----------------------------------------------------------------------------


def batches_between(start: date, end: date, status: str = "") -> QuerySet[Batch]:
    batches = Batch.objects.filter(compounded_on__range=(start, end))
    if status:
        batches = batches.filter(status=status)
    return batches.select_related("preparation", "patient", "formulation", "compounded_by")


def lots_expiring(within_days: int, on: date | None = None) -> QuerySet[IngredientLot]:
    on = on or timezone.localdate()
    return (
        IngredientLot.objects.filter(
            expiry_date__lte=on + timedelta(days=within_days), recalled_at__isnull=True
        )
        .filter(Q(on_hand_g__gt=0))
        .select_related("ingredient")
        .order_by("expiry_date", "pk")
    )


def ingredient_usage(start: date, end: date) -> list[dict]:
    """Grams of each ingredient weighed into batches compounded between two dates."""
    rows = (
        Weighing.objects.filter(is_current=True, batch__compounded_on__range=(start, end))
        .values("component__ingredient__name")
        .annotate(
            grams=Sum("actual_g", output_field=DecimalField(max_digits=20, decimal_places=9)),
            batches=Count("batch", distinct=True),
            lots=Count("lot", distinct=True),
        )
        .order_by("component__ingredient__name")
    )
    return [
        {
            "ingredient": r["component__ingredient__name"],
            "grams": r["grams"],
            "batches": r["batches"],
            "lots": r["lots"],
        }
        for r in rows
    ]
