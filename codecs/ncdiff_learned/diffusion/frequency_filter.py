"""Adaptive frequency-domain filter for U-Net skip connections.

The skip's features go through a 2-D FFT; each channel's spectrum is split
into radial bands and scaled by a gain predicted from the features' own band
energies (input-adaptive) and the time / quality embedding (timestep-adaptive);
an inverse FFT returns to space.  The gain predictor's last layer starts at
zero, so the filter starts as the identity.
"""

import torch
import torch.nn as nn


class AdaptiveFrequencyFilter(nn.Module):
    def __init__(self, channels: int, emb_dim: int, bands: int = 4, hidden: int = 128):
        super().__init__()
        self.channels, self.bands = channels, bands
        self.gain = nn.Sequential(
            nn.Linear(emb_dim + channels * bands, hidden), nn.SiLU(), nn.Linear(hidden, channels * bands)
        )
        nn.init.zeros_(self.gain[-1].weight)
        nn.init.zeros_(self.gain[-1].bias)
        self._band_cache = {}

    def band_index(self, h: int, w: int, device) -> torch.Tensor:
        """Band of every rfft2 coefficient, by radial frequency (0 = DC, bands-1 = Nyquist)."""
        key = (h, w, str(device))
        if key not in self._band_cache:
            fy = torch.fft.fftfreq(h, device=device).abs()[:, None]
            fx = torch.fft.rfftfreq(w, device=device)[None, :]
            radius = torch.sqrt(fy**2 + fx**2) / (0.5 * 2**0.5)
            self._band_cache[key] = (radius * self.bands).long().clamp_(max=self.bands - 1)
        return self._band_cache[key]

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        spec = torch.fft.rfft2(x.float(), norm="ortho")
        band = self.band_index(h, w, x.device)
        onehot = nn.functional.one_hot(band, self.bands).to(spec.real.dtype)  # (H, Wr, bands)
        power = spec.real**2 + spec.imag**2
        energy = torch.einsum("bchw,hwk->bck", power, onehot) / onehot.sum((0, 1)).clamp_min(1)
        features = torch.cat([emb, torch.log1p(energy).flatten(1)], dim=1)
        gains = 1.0 + self.gain(features).view(b, c, self.bands)
        gain_map = torch.einsum("bck,hwk->bchw", gains, onehot)
        return torch.fft.irfft2(spec * gain_map, s=(h, w), norm="ortho").to(x.dtype)
