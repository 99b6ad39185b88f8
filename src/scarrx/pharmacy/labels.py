"""The batch label: a PDF drawn by WeasyPrint from the locked, versioned label template
the batch was released with, carrying a QR code (segno) of GS1 element strings for lot
and expiry (BUD).

The label holds what clinical.md §4 asks of a compounded preparation's label: "Compounded
preparation", actives with strengths, dosage form, quantity, lot, BUD, storage, route, and
the pharmacy's name and address. The prescription label (patient, prescriber, directions,
fill date, Rx number) extends it: pass `prescription` to `render_label` and the template's
`{% if prescription %}` part prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import segno
from django.template import Context, Template, TemplateSyntaxError

from scarrx.accounts.models import Pharmacy
from scarrx.pharmacy import gs1
from scarrx.pharmacy.bud import Storage
from scarrx.pharmacy.models import Batch, LabelTemplate
from scarrx.values import grams_text, number_text

LABEL_V1 = Path(__file__).resolve().parent.parent / "templates" / "pharmacy" / "label_v1.html"
# What every version of the template must print (checked when a pharmacist changes it).
MANDATORY = (
    "Compounded preparation",
    "{{ actives }}",
    "{{ dosage_form }}",
    "{{ quantity }}",
    "{{ lot }}",
    "{{ bud }}",
    "{{ storage }}",
    "{{ route }}",
    "{{ pharmacy.name }}",
    "{{ pharmacy.address }}",
    "{{ qr }}",
)
STORAGE_WORDS = {
    Storage.REFRIGERATOR.value: "Store in a refrigerator (2–8 °C). Do not freeze.",
    Storage.ROOM_TEMPERATURE_OR_REFRIGERATOR.value: "Store at room temperature or in a "
    "refrigerator.",
}


def qr_data_uri(lot: str, expiry) -> str:
    code = segno.make(gs1.element_string(lot, expiry), error="m", micro=False)
    return code.svg_data_uri(scale=4, border=1)


def actives_text(batch: Batch) -> str:
    actives = [
        f"{c.ingredient.name} {number_text(c.strength_percent)}\u00a0%"  # "4 %" on one line
        for c in batch.components.select_related("ingredient")
        if c.strength_percent is not None
    ]
    base = next(
        (c.ingredient.name for c in batch.components.all() if c.strength_percent is None), ""
    )
    return ", ".join(actives) + (f" in {base}" if base else "")


def label_context(batch: Batch, prescription: Mapping | None = None) -> dict:
    mfr = batch.formulation
    patient = batch.preparation.patient if batch.preparation_id else None
    return {
        "pharmacy": Pharmacy.current(),
        "actives": actives_text(batch),
        "dosage_form": mfr.dosage_form.capitalize(),
        "route": mfr.route,
        "quantity": grams_text(batch.dispensed_g),
        "lot": batch.lot_number,
        "bud": f"{batch.bud:%d %b %Y}",
        "gs1_expiry": f"{batch.bud:%y%m%d}",
        "storage": STORAGE_WORDS.get(batch.storage, batch.storage),
        "patient": patient.full_name if patient else "",
        "compounded_on": f"{batch.compounded_on:%d %b %Y}",
        "label_text": mfr.label_text,
        "qr": qr_data_uri(batch.lot_number, batch.bud),
        "prescription": prescription,
    }


def render_html(body: str, context: dict) -> str:
    return Template(body).render(Context(context))


def render_pdf(html: str) -> bytes:
    return _weasyprint().HTML(string=html).write_pdf()


def _weasyprint():
    """WeasyPrint, imported when a label is first drawn (it loads pango). Its import sets
    Pillow's LOAD_TRUNCATED_IMAGES for the whole process, which would let a truncated
    photo upload through; the label needs no such leniency, so it is put back."""
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    import weasyprint

    ImageFile.LOAD_TRUNCATED_IMAGES = before
    return weasyprint


def render_label(
    batch: Batch, *, prescription: Mapping | None = None, template: LabelTemplate | None = None
) -> bytes:
    """The label PDF of a released batch, from the template version it was released
    with (or `template`)."""
    if batch.lot_number is None or batch.bud is None:
        raise ValueError("Only a released batch has a label.")
    body = (template or batch.label_template or current_template()).body
    return render_pdf(render_html(body, label_context(batch, prescription)))


def current_template() -> LabelTemplate:
    """The label template in force: the latest version; the packaged first version
    (templates/pharmacy/label_v1.html) on an installation that has none yet."""
    found = LabelTemplate.objects.first()
    if found is None:
        found, _ = LabelTemplate.objects.get_or_create(
            version=1, defaults={"body": LABEL_V1.read_text(), "reason": "First label template"}
        )
    return found


def check_template(body: str) -> str:
    """Why a proposed label template is refused, or "" when it is acceptable."""
    if not body:
        return "The template is empty."
    missing = [m for m in MANDATORY if m not in body]
    if missing:
        return f"The label must keep {', '.join(missing)}."
    try:
        Template(body)
    except TemplateSyntaxError as exc:
        return f"The template does not render: {exc}"
    return ""
