"""CDC decoding: from gamma-scaled Gaussian noise to the image, conditioned on the latent."""

import warnings

import torch

from ncdiff_plugin.errors import InvalidOptionError

from ..rate import level_for_quality
from .noise import positional_noise
from .samplers import sample_ddim
from .schedule import cosine, timesteps

#: Scale of the starting noise (CDC's sampling temperature): below 1 trades
#: texture for fidelity.
DEFAULT_GAMMA = 0.8


def decode(model, unet, metadata, y_hat, header, device, *, steps: int, seed=None, eta=None, gamma=None,
           origins=None, kappa=None, **options):
    """The cdc decoder (see ``decoders``): ``eta`` is DDIM's eta, the fresh noise of each step
    (0: deterministic), ``gamma`` the scale of the starting noise.  ``kappa`` is eta's old name."""
    if kappa is not None:
        warnings.warn("the cdc decoder's kappa is now called eta (DDIM's eta); kappa names the nc decoder's noise",
                      DeprecationWarning, stacklevel=2)
        eta = kappa if eta is None else eta
    gamma = DEFAULT_GAMMA if gamma is None else float(gamma)
    if not 0.0 <= gamma <= 2.0:
        raise InvalidOptionError(f"gamma (the starting noise scale) must be in 0..2, got {gamma}")
    unet.to(device)
    generator = torch.Generator(device).manual_seed(0 if seed is None else int(seed))
    shape = (y_hat.shape[0], 3, *(16 * n for n in y_hat.shape[-2:]))
    # Noise by image position: a tile's window starts where the whole image would.
    noise = positional_noise(shape, origins or [(0, 0)] * shape[0], 0 if seed is None else seed, device)
    with torch.no_grad():
        features, _ = model.synthesis_features(y_hat)
        x = cdc_sample(unet, features, shape, level_for_quality(header.quality), steps=steps, gamma=gamma,
                        eta=0.0 if eta is None else float(eta), generator=generator, noise=noise)
    return x[..., : header.height, : header.width]


def cdc_sample(unet, features, shape, level: float, *, steps: int, gamma: float = DEFAULT_GAMMA,
                eta: float = 0.0, generator=None, noise=None):
    """x0 estimate in [0, 1] of a batch; ``features`` from ``synthesis_features``,
    ``shape`` the padded (B, 3, H, W); ``noise`` the starting noise (default: drawn from ``generator``)."""
    b = shape[0]
    device = features[0].device
    ts = timesteps(steps, device)
    levels = torch.full((b,), float(level), device=device)
    if noise is None:
        noise = torch.randn(shape, generator=generator, device=device, dtype=features[0].dtype)

    def denoise(x, t):
        return unet(x, features, t.expand(b), levels).clamp(-1, 1)

    x = sample_ddim(denoise, gamma * noise, ts, schedule=cosine, kappa=eta, generator=generator)
    return ((x + 1) / 2).clamp(0, 1)
