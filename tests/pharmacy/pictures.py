"""A small JPEG for the finished-preparation photo."""

import io

from PIL import Image


def jpeg(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (230, 230, 225)).save(out, "JPEG")
    return out.getvalue()
