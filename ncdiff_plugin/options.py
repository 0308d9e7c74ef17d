"""Documented module-level settings (Pillow's ``Image.open`` takes no options).

Change them at run time, e.g. ``ncdiff_plugin.options.MAX_IMAGE_PIXELS = None``.
"""

from PIL import Image as _Image

#: The decompression-bomb guard, as Pillow's ``Image.MAX_IMAGE_PIXELS``: a
#: file whose width x height is over this warns (``DecompressionBombWarning``)
#: and over twice this is refused (``ImageTooLargeError``, a
#: ``DecompressionBombError``), from the header, before any allocation.
#: Pillow's default, 89,478,485 (a 48-megapixel photo is well under it);
#: ``None`` disables the check.
MAX_IMAGE_PIXELS = _Image.MAX_IMAGE_PIXELS or 89478485

#: Largest number of frames a reader accepts.
MAX_FRAMES = 100_000

#: The same guard for width x height x frames, all that decoding every frame of
#: one file produces (a file of many small frames could otherwise claim
#: terapixels): over this warns, over twice this is refused.  2**32 pixels is
#: 2,000 frames of 1920x1080; ``None`` disables the check.
MAX_TOTAL_PIXELS = 2**32

#: Default decoder for learned files opened through Pillow (``None``: the codec's default).
DECODER = None
#: Diffusion steps for Pillow decodes (``None``: the decoder's default).
STEPS = None
#: Torch device for Pillow decodes (``None``: GPU when there is one, else CPU).
DEVICE = None
#: Seed for stochastic decoders (``None``: the decoder's default seed).
SEED = None
