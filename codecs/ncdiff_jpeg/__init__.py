"""JPEG fallback codec: the container carries a baseline JPEG made by Pillow.

Decoding it needs only Pillow, so every machine can read these files.
"""

import io

from PIL import Image

from ncdiff_plugin.codec import Codec
from ncdiff_plugin.errors import CorruptFileError


class JpegCodec(Codec):
    id = "jpeg"
    plugin = "ncdiff"
    description = "JPEG through Pillow (fallback; needs no torch)"
    modes = ("L", "RGB")

    def encode(self, image: Image.Image, quality: int, **options):
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=quality, optimize=True)
        return [buf.getvalue()]

    def decode(self, payloads, header, **options):
        if len(payloads) != 1:
            raise CorruptFileError(f"a JPEG frame has one payload stream, found {len(payloads)}")
        jpeg = Image.open(io.BytesIO(payloads[0]), formats=["JPEG"])
        expected_mode = "L" if header.mode in ("L", "LA") else "RGB"
        # Checked from the JPEG header, before its pixels are allocated.
        if jpeg.size != (header.width, header.height) or jpeg.mode != expected_mode:
            raise CorruptFileError(
                f"JPEG payload is {jpeg.mode} {jpeg.size[0]}x{jpeg.size[1]}, the header says "
                f"{expected_mode} {header.width}x{header.height}"
            )
        jpeg.load()
        return jpeg


CODEC = JpegCodec()
