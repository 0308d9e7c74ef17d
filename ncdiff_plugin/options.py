"""Documented module-level settings (Pillow's ``Image.open`` takes no options).

Change them at run time, e.g. ``ncdiff_plugin.options.MAX_IMAGE_PIXELS = None``.
"""

from PIL import Image as _Image

#: Largest width x height a reader accepts, checked from the header before any
#: allocation.  Twice Pillow's warning threshold, like Pillow's own hard limit;
#: ``None`` disables the check.
MAX_IMAGE_PIXELS = 2 * (_Image.MAX_IMAGE_PIXELS or 89478485)

#: Largest number of frames a reader accepts.
MAX_FRAMES = 100_000

#: Largest width x height x frames a reader accepts: all that decoding every
#: frame of one file produces (a file of many small frames could otherwise claim
#: terapixels).  2**33 pixels is 4,000 frames of 1920x1080; ``None`` disables the check.
MAX_TOTAL_PIXELS = 2**33

#: Default decoder for learned files opened through Pillow (``None``: the codec's default).
DECODER = None
#: Diffusion steps for Pillow decodes (``None``: the decoder's default).
STEPS = None
#: Torch device for Pillow decodes (``None``: GPU when there is one, else CPU).
DEVICE = None
#: Seed for stochastic decoders (``None``: the decoder's default seed).
SEED = None
