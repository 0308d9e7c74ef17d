"""The x0-predicting U-Net of the NC decoder.

Inputs: the current state x_t, the base reconstruction x_base, the transmitted
latent y_hat (injected at 1/8 and 1/4 resolution) and an embedding of the time
t and the quality level.  Works at half resolution after a pixel unshuffle,
which keeps a 768x512 image affordable on a CPU.  The output is a correction
added to x_t, zero at initialisation.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .frequency_filter import AdaptiveFrequencyFilter


def sinusoidal(v: torch.Tensor, dim: int, max_period: float = 1000.0) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=v.device, dtype=torch.float32) / half)
    args = v.float()[:, None] * freqs[None] * max_period / 10
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, with FiLM from the embedding in between."""

    def __init__(self, cin: int, cout: int, emb_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * cout)
        self.norm2 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        return h + self.skip(x)


class NCUNet(nn.Module):
    def __init__(self, channels=(48, 96, 144), latent_channels: int = 192, emb_dim: int = 128,
                 freq_filter: bool = True, bands: int = 4):
        super().__init__()
        c0, c1, c2 = channels
        self.config = dict(channels=list(channels), latent_channels=latent_channels, emb_dim=emb_dim,
                           freq_filter=freq_filter, bands=bands)
        self.emb = nn.Sequential(nn.Linear(128, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.stem = nn.Conv2d(6 * 4, c0, 3, padding=1)
        self.enc0 = ResBlock(c0, c0, emb_dim)
        self.down0 = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.enc1 = ResBlock(c1, c1, emb_dim)
        self.down1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.lat8 = nn.ConvTranspose2d(latent_channels, c2, 4, stride=2, padding=1)
        self.lat4 = nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1)
        self.mid = ResBlock(c2, c2, emb_dim)
        self.mid2 = ResBlock(c2, c2, emb_dim)
        self.up1 = nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1)
        self.dec1 = ResBlock(2 * c1, c1, emb_dim)
        self.up0 = nn.ConvTranspose2d(c1, c0, 4, stride=2, padding=1)
        self.dec0 = ResBlock(2 * c0, c0, emb_dim)
        self.out = nn.Conv2d(c0, 3 * 4, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        if freq_filter:
            self.filter0 = AdaptiveFrequencyFilter(c0, emb_dim, bands)
            self.filter1 = AdaptiveFrequencyFilter(c1, emb_dim, bands)
        self.freq_filter = freq_filter

    def _skip(self, name, h, emb, filtered):
        return getattr(self, name)(h, emb) if self.freq_filter and filtered else h

    def forward(self, x_t, x_base, y_hat, t, level, freq_filter: bool = True):
        """All spatial inputs padded to a multiple of 16 x the latent stride; t, level: (B,).
        ``freq_filter=False`` bypasses the frequency filters of a model that has them."""
        emb = self.emb(torch.cat([sinusoidal(t * 1000, 64), sinusoidal(level * 100, 64)], dim=1))
        h = self.stem(F.pixel_unshuffle(torch.cat([x_t, x_base], dim=1) * 2 - 1, 2))
        s0 = self.enc0(h, emb)
        s1 = self.enc1(self.down0(s0), emb)
        lat8 = self.lat8(y_hat)
        m = self.mid(self.down1(s1) + lat8, emb)
        m = self.mid2(m, emb)
        u1 = self.up1(m) + self.lat4(lat8)
        u1 = self.dec1(torch.cat([u1, self._skip("filter1", s1, emb, freq_filter)], dim=1), emb)
        u0 = self.dec0(torch.cat([self.up0(u1), self._skip("filter0", s0, emb, freq_filter)], dim=1), emb)
        return x_t + F.pixel_shuffle(self.out(F.silu(u0)), 2) / 2
