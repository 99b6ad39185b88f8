"""The label PDF: every mandatory element of clinical.md §4, read back from the PDF, the
QR code's GS1 data, and the locked template (a change needs a pharmacist and a reason)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from scarrx.accounts.models import Pharmacy
from scarrx.pharmacy import services
from scarrx.pharmacy.gs1 import parse_scan
from scarrx.pharmacy.labels import label_context, render_label


def pdf_text(data: bytes) -> str:
    """The PDF's words, with line breaks read as spaces."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def test_label_carries_every_mandatory_element(released):
    Pharmacy.objects.create(name="Example Compounding Pharmacy", address="12 Example Street")
    text = pdf_text(render_label(released))
    for expected in (
        "Compounded preparation",
        "Pentoxifylline 1 % in Silicone gel base",
        "Gel",
        "topical",
        "30.000 g",
        released.lot_number,
        f"{released.bud:%d %b %Y}",
        "Store at room temperature or in a refrigerator",
        "Example Compounding Pharmacy",
        "12 Example Street",
        "Ada Example",
        "Not for open wounds",
    ):
        assert expected in text, expected


def test_the_label_fits_one_page(released):
    assert len(PdfReader(io.BytesIO(render_label(released))).pages) == 1


def test_the_qr_code_holds_lot_and_bud_as_gs1_element_strings(released):
    context = label_context(released)
    assert context["qr"].startswith("data:image/svg+xml")
    printed = f"(17){context['gs1_expiry']}(10){context['lot']}"
    scan = parse_scan(printed, today=released.compounded_on)
    assert (scan.lot, scan.expiry) == (released.lot_number, released.bud)


def test_a_refrigerated_preparation_says_so(released):
    released.storage = "refrigerator"
    assert "Store in a refrigerator" in pdf_text(render_label(released))


def test_the_prescription_part_prints_when_a_fill_passes_it(released):
    text = pdf_text(
        render_label(
            released,
            prescription={
                "rx_number": "RX-1001",
                "fill_date": "1 Dec 2026",
                "prescriber": "Dr Drew Doctor",
                "directions": "Apply a thin layer to the scars twice daily.",
            },
        )
    )
    assert "RX-1001" in text and "twice daily" in text


def test_a_template_change_needs_a_pharmacist_and_a_reason(technician, pharmacist):
    body = services.current_label_template().body
    with pytest.raises(PermissionDenied):
        services.change_label_template(actor=technician, body=body, reason="Tweak")
    with pytest.raises(ValidationError) as caught:
        services.change_label_template(actor=pharmacist, body=body, reason="")
    assert "reason" in caught.value.message_dict


def test_a_template_that_drops_a_mandatory_element_is_refused(pharmacist):
    body = services.current_label_template().body.replace("{{ bud }}", "")
    with pytest.raises(ValidationError) as caught:
        services.change_label_template(actor=pharmacist, body=body, reason="Shorter")
    assert "{{ bud }}" in caught.value.message_dict["body"][0]


def test_a_released_batch_keeps_the_template_version_it_was_released_with(released, pharmacist):
    body = services.current_label_template().body.replace(
        "Compounded preparation", "Compounded preparation · v2"
    )
    v2 = services.change_label_template(actor=pharmacist, body=body, reason="Mark the version")
    assert v2.version == 2
    assert released.label_template.version == 1
    assert "v2" not in pdf_text(render_label(released))


def test_drawing_a_label_leaves_truncated_photos_refused(released):
    from PIL import ImageFile

    render_label(released)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
