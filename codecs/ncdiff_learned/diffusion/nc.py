"""NC-Diffusion decoding: from the base reconstruction back to the image in K steps."""

import torch

from .samplers import sample_nc
from .schedule import eta, timesteps

DEFAULT_STEPS = 4
MAX_STEPS = 64


def nc_restore(unet, y_hat, x_base, level: float, *, steps: int = DEFAULT_STEPS, power: float = 1.5,
               kappa: float = 0.0, generator=None, guide=None, freq_filter: bool = True):
    """x0 estimate in [0, 1] for a batch; y_hat, x_base padded to the latent stride.
    ``freq_filter=False`` bypasses the U-Net's trained frequency filters (ablation)."""
    b = x_base.shape[0]
    ts = timesteps(steps, x_base.device)
    levels = torch.full((b,), float(level), device=x_base.device)

    def denoise(x, t):
        return unet(x, x_base, y_hat, t.expand(b), levels, freq_filter=freq_filter)

    x = sample_nc(denoise, x_base, ts, schedule=lambda t: eta(t, power), kappa=kappa, generator=generator, guide=guide)
    return x.clamp(0, 1)
