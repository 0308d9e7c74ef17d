"""What every base-codec model shares: the synthesis side of the runtime, on CompressAI's classes."""

from compressai.layers import GDN
from compressai.models import CompressionModel

from ..runtime import SynthesisSide


class TransformCodec(SynthesisSide, CompressionModel):
    """A transform codec with ``g_a`` / ``g_s`` and one set of weights for
    quality 1..100.  Subclasses choose how a quality sets the rate:

    - ``forward(x, level)``: training pass at continuous levels (one per sample);
    - ``latent(x, level)``: the hard-quantised latent, as a decoder would see it;
    - ``compress(x, quality)`` / ``decompress_latent(strings, h, w, quality)``;
    - ``quantization_scale(quality)``: the factor that makes one quantisation
      step of the latent equal to 1 (used by latent-consistency guidance).
    """

    N: int
    M: int
    levels: int
    gdn_type = GDN
