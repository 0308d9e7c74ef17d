"""The Pillow adapter's import name.

The ``NCD`` format itself lives in the core (:mod:`ncdiff_plugin.pillow`) and is
registered by ``import ncdiff_plugin``, as pillow-heif's opener is: Pillow's
image is the core's own image type, so the core needs no adapter for it.
"""

from ncdiff_plugin.pillow import EXTENSIONS, FORMAT, MIME, NcdImageFile, register_pillow

__all__ = ["EXTENSIONS", "FORMAT", "MIME", "NcdImageFile", "register_pillow"]
