"""What a codec plugin provides."""

from typing import List, Optional, Sequence, Tuple

from PIL import Image


class Codec:
    """Base class of codecs registered through the ``register_codecs`` hook.

    ``encode`` receives an image in one of ``modes`` (the API converts other
    modes and carries alpha itself) and returns the payload streams of one
    frame (or its tiles, see :attr:`tiled`); ``decode`` gets them back with the file header and returns an image
    of the header's size in the colour mode without alpha.
    """

    #: Identifier written into files (ASCII, at most 255 bytes).
    id: str = ""
    #: The installable package that provides the codec, named in errors.
    plugin: str = ""
    description: str = ""
    #: Modes ``encode`` takes natively.
    modes: Sequence[str] = ("L", "RGB")
    #: Largest width x height ``encode`` takes (None: no limit of its own).
    max_pixels = None
    #: Decoder names accepted at decode time; the first is the default.
    decoders: Sequence[str] = ("default",)
    #: Whether ``encode`` may return a list of ``container.Tile`` (a frame coded in tiles),
    #: ``decode`` takes such frames and a ``region=(left, top, width, height)`` option
    #: (returning that part only).  Other codecs get whole frames, and the API crops them.
    tiled: bool = False

    def decoder_steps(self, decoder: str) -> Optional[Tuple[int, int]]:
        """(default, largest) step counts of a decoder that walks steps (diffusion); None for one pass."""
        return None

    def unavailable_reason(self) -> Optional[str]:
        """Why the codec cannot run here, or ``None`` when it can."""
        return None

    def model_info(self):
        """(model id, sha256 of the weights as 32 bytes) recorded in the header."""
        return "", bytes(32)

    def fits(self, width: int, height: int) -> bool:
        """Whether ``encode`` takes an image of this size (``codec="auto"`` asks first)."""
        return self.max_pixels is None or width * height <= self.max_pixels

    def check_header(self, header) -> None:
        """Called before any payload is decoded: raise an NCDError for a header this codec
        refuses (weights it lacks, a size its decoder cannot afford...).  Default: accept."""

    def encode(self, image: Image.Image, quality: int, **options) -> List[bytes]:
        raise NotImplementedError

    def decode(self, payloads: List[bytes], header, **options) -> Image.Image:
        raise NotImplementedError

    def decode_batch(self, frames: List[List[bytes]], header, **options) -> List[Image.Image]:
        """Decodes several frames; codecs that batch on a GPU override this."""
        return [self.decode(p, header, **options) for p in frames]

    def __repr__(self):
        return f"<{type(self).__name__} {self.id!r} from {self.plugin!r}>"
