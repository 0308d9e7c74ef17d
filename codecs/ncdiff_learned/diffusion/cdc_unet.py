"""The x0-predicting U-Net of the CDC decoder.

Unlike the NC U-Net it never sees the base reconstruction: it starts from
noise and is conditioned only on the transmitted latent, through the frozen
synthesis transform's features at 1/2, 1/4 and 1/8 resolution, each
projected and concatenated into the matching level of the down-sampling path
(as CDC concatenates its context into the first levels).  It works at half
resolution after a pixel unshuffle, like the NC U-Net.  Images are in [-1, 1].
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from .unet import ResBlock, sinusoidal


class CDCUNet(nn.Module):
    # The NC U-Net's widths: the same cost per step (about 90k MACs a pixel), so nc against cdc compares steps.
    def __init__(self, channels=(48, 96, 144), feature_channels: int = 128, context: int = 32, emb_dim: int = 128):
        super().__init__()
        c0, c1, c2 = channels
        self.config = dict(channels=list(channels), feature_channels=feature_channels, context=context,
                           emb_dim=emb_dim)
        self.emb = nn.Sequential(nn.Linear(128, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        # One 1x1 projection per feature scale: 1/2, 1/4, 1/8 of the image.
        self.ctx2 = nn.Conv2d(feature_channels, context, 1)
        self.ctx4 = nn.Conv2d(feature_channels, context, 1)
        self.ctx8 = nn.Conv2d(feature_channels, 2 * context, 1)
        self.stem = nn.Conv2d(3 * 4, c0, 3, padding=1)
        self.enc0 = ResBlock(c0 + context, c0, emb_dim)
        self.down0 = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.enc1 = ResBlock(c1 + context, c1, emb_dim)
        self.down1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.mid = ResBlock(c2 + 2 * context, c2, emb_dim)
        self.mid2 = ResBlock(c2, c2, emb_dim)
        self.up1 = nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1)
        self.dec1 = ResBlock(2 * c1, c1, emb_dim)
        self.up0 = nn.ConvTranspose2d(c1, c0, 4, stride=2, padding=1)
        self.dec0 = ResBlock(2 * c0, c0, emb_dim)
        self.out = nn.Conv2d(c0, 3 * 4, 3, padding=1)

    def forward(self, x_t, features, t, level):
        """x_t: (B, 3, H, W) with H, W multiples of 16; features: the synthesis
        transform's activations at 1/8, 1/4, 1/2 (``synthesis_features``);
        t, level: (B,).  Returns the x0 estimate in [-1, 1] units."""
        f8, f4, f2 = features
        emb = self.emb(torch.cat([sinusoidal(t * 1000, 64), sinusoidal(level * 100, 64)], dim=1))
        h = self.stem(F.pixel_unshuffle(x_t, 2))
        s0 = self.enc0(torch.cat([h, self.ctx2(f2)], dim=1), emb)
        s1 = self.enc1(torch.cat([self.down0(s0), self.ctx4(f4)], dim=1), emb)
        m = self.mid(torch.cat([self.down1(s1), self.ctx8(f8)], dim=1), emb)
        m = self.mid2(m, emb)
        u1 = self.dec1(torch.cat([self.up1(m), s1], dim=1), emb)
        u0 = self.dec0(torch.cat([self.up0(u1), s0], dim=1), emb)
        return F.pixel_shuffle(self.out(F.silu(u0)), 2)
