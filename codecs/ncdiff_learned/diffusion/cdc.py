"""CDC decoding: from gamma-scaled Gaussian noise to the image, conditioned on the latent."""

import torch

from .samplers import sample_ddim
from .schedule import cosine, timesteps

DEFAULT_STEPS = 17
MAX_STEPS = 1000
#: Scale of the starting noise (CDC's sampling temperature): below 1 trades
#: texture for fidelity.
DEFAULT_GAMMA = 0.8


def cdc_restore(unet, features, shape, level: float, *, steps: int = DEFAULT_STEPS, gamma: float = DEFAULT_GAMMA,
                kappa: float = 0.0, generator=None):
    """x0 estimate in [0, 1] of a batch; ``features`` from ``synthesis_features``,
    ``shape`` the padded (B, 3, H, W)."""
    b = shape[0]
    device = features[0].device
    ts = timesteps(steps, device)
    levels = torch.full((b,), float(level), device=device)
    noise = torch.randn(shape, generator=generator, device=device, dtype=features[0].dtype)

    def denoise(x, t):
        return unet(x, features, t.expand(b), levels).clamp(-1, 1)

    x = sample_ddim(denoise, gamma * noise, ts, schedule=cosine, kappa=kappa, generator=generator)
    return ((x + 1) / 2).clamp(0, 1)
