"""What every base-codec model shares: padding, latent shapes, the synthesis side."""

import torch
import torch.nn.functional as F
from compressai.layers import GDN
from compressai.models import CompressionModel

from ..grid import STRIDE


class TransformCodec(CompressionModel):
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

    @staticmethod
    def pad(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % STRIDE, (-w) % STRIDE
        return F.pad(x, (0, pw, 0, ph), mode="replicate") if (ph or pw) else x

    @staticmethod
    def latent_shapes(height: int, width: int):
        """y and z spatial shapes for an image size (padded to STRIDE)."""
        hp, wp = -(-height // STRIDE) * STRIDE, -(-width // STRIDE) * STRIDE
        return (hp // 16, wp // 16), (hp // 64, wp // 64)

    def synthesis_features(self, y_hat: torch.Tensor):
        """The synthesis transform's activations at 1/8, 1/4 and 1/2 resolution
        (after each inverse GDN), and its output x_base in [0, 1]: the
        multi-scale latent features the CDC decoder is conditioned on."""
        features, h = [], y_hat
        for layer in self.g_s:
            h = layer(h)
            if isinstance(layer, GDN):
                features.append(h)
        return features, h.clamp(0, 1)

    @torch.no_grad()
    def synthesize(self, y_hat: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Fast fidelity reconstruction x_base in [0, 1], cropped to the image size."""
        return self.g_s(y_hat).clamp_(0, 1)[..., :height, :width]
