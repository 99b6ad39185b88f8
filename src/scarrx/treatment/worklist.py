"""The worklist's items in one shape for the page and the API: what, whose, when, and the
link to where it is dealt with. Every patient shown is recorded as read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from scarrx.pagination import record_shown
from scarrx.treatment.queries import Section


@dataclass(frozen=True)
class Item:
    what: str
    patient: object | None
    due: date | None
    detail: str
    url: str
    late: bool = False

    @property
    def patient_name(self) -> str:
        return self.patient.full_name if self.patient else ""


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # a page another app has not built yet
        return ""


def _refill(rx, today) -> Item:
    from scarrx.treatment.services import refills_left

    left = refills_left(rx, made=getattr(rx, "fills_made", None))
    late = rx.next_refill_due < today
    detail = f"{rx.rx_number}: " + (
        f"{left} refill{'s' if left != 1 else ''} left"
        if left
        else "no refills left: ask the prescriber"
    )
    return Item(
        "Refill late" if late else "Refill due",
        rx.patient,
        rx.next_refill_due,
        detail,
        _url("fill-new", rx.public_id),
        late,
    )


def _fill(fill, today) -> Item:
    return Item(
        "Fill to verify",
        fill.patient,
        fill.filled_on,
        f"{fill.rx_number} fill {fill.number}: lot {fill.batch.lot_number}",
        _url("fill-detail", fill.public_id),
    )


def _follow_up(visit, today) -> Item:
    return Item(
        f"Week {visit.week} follow-up",
        visit.patient,
        visit.due_on,
        f"{visit.prescription.rx_number}: assessment and photos",
        _url("assessment-new", visit.patient.public_id) + f"?timepoint={visit.timepoint}",
        visit.due_on < today,
    )


def _adherence(rx, today) -> Item:
    return Item(
        "Falling behind",
        rx.patient,
        None,
        f"{rx.rx_number}: {rx.recent_applied} of {rx.recent_scheduled} applications "
        f"({rx.recent_percent} %) in the last 14 days",
        _url("prescription-detail", rx.public_id),
    )


def _side_effect(effect, today) -> Item:
    lot = f", lot {effect.batch.lot_number}" if effect.batch_id else ""
    return Item(
        "Side effect to review",
        effect.patient,
        effect.onset_on,
        f"{effect.get_kind_display()}, {effect.severity}{lot}",
        _url("side-effect-detail", effect.public_id),
    )


def _batch(batch, today) -> Item:
    patient = batch.preparation.patient if batch.preparation_id else None
    return Item(
        "Batch to verify",
        patient,
        batch.compounded_on,
        f"{batch.label}: {batch.formulation.name}",
        _url("batch-detail", batch.public_id),
    )


def _lot(lot, today) -> Item:
    return Item(
        "Lot expiring",
        None,
        lot.expiry_date,
        f"{lot.ingredient.name} lot {lot.lot_number} ({lot.supplier})",
        _url("pharmacy-report") + "?report=lots",
        lot.expiry_date < today,
    )


MAKERS = {
    "refills": _refill,
    "fills": _fill,
    "follow_ups": _follow_up,
    "adherence": _adherence,
    "side_effects": _side_effect,
    "batches": _batch,
    "lots": _lot,
}


def items_of(request, section: Section) -> list[Item]:
    record_shown(request, section.rows)
    today = timezone.localdate()
    return [MAKERS[section.key](row, today) for row in section.rows]
