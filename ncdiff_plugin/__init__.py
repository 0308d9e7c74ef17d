"""ncdiff: a learned image codec with diffusion decoders, as a Python media plugin.

``import ncdiff_plugin`` registers the ``NCD`` format with Pillow; it does not
import torch (the learned codec loads on first use).
"""

from . import options
from .api import DEFAULT_QUALITY, FrameWriter, decode, decode_frames, encode, encode_frames, inspect
from .codec import Codec
from .errors import (
    ChecksumError,
    CodecUnavailableError,
    CorruptFileError,
    ImageTooLargeError,
    InvalidOptionError,
    NCDError,
    NotNCDError,
    TruncatedError,
    UnknownCodecError,
    UnsupportedModeError,
    UnsupportedVersionError,
    WeightsMismatchError,
)
from .hookspecs import hookimpl
from .plugins import get_codecs

__version__ = "0.1.0"

__all__ = [
    "encode", "encode_frames", "FrameWriter", "decode", "decode_frames", "inspect", "get_codecs", "Codec",
    "DEFAULT_QUALITY",
    "hookimpl", "options", "NCDError", "NotNCDError", "TruncatedError", "ChecksumError",
    "CorruptFileError", "UnsupportedVersionError", "UnknownCodecError", "CodecUnavailableError",
    "WeightsMismatchError", "ImageTooLargeError", "UnsupportedModeError", "InvalidOptionError",
]

# Pillow learns the NCD format on import, like pillow-heif's register_heif_opener().
from .pillow import register_pillow as _register_pillow  # noqa: E402

_register_pillow()
