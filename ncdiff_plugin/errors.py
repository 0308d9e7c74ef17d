"""The one error hierarchy of ncdiff.

Every error raised on bad input derives from :class:`NCDError`, which is an
``OSError`` as Pillow's own decoding errors are, so ``except OSError`` keeps
working for Pillow users.  Invalid options are also ``ValueError``; the pixel
limit error is also Pillow's ``DecompressionBombError``.
"""

from PIL.Image import DecompressionBombError


class NCDError(OSError):
    """Base class of every error ncdiff raises on bad input."""


class NotNCDError(NCDError):
    """The data does not start with the .ncd signature."""


class TruncatedError(NCDError):
    """The file ends before its end chunk."""


class ChecksumError(NCDError):
    """A chunk's CRC32 does not match its contents."""


class CorruptFileError(NCDError):
    """The chunk structure or a header field is invalid."""


class UnsupportedVersionError(NCDError):
    """The file was written by a newer, incompatible format version."""


class UnknownCodecError(NCDError):
    """No installed plugin provides the codec the file names."""


class CodecUnavailableError(NCDError):
    """The codec is installed but cannot run here (torch or weights missing)."""


class WeightsMismatchError(NCDError):
    """The file needs model weights other than the installed ones."""


class ImageTooLargeError(NCDError, DecompressionBombError):
    """Width x height (or the frame count) is over the configured limit."""


class UnsupportedModeError(NCDError):
    """The image mode cannot be encoded."""


class InvalidOptionError(NCDError, ValueError):
    """An option (quality, codec name, frame index...) is out of range."""
