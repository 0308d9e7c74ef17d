"""NC-Diffusion decoding: from the base reconstruction back to the image in K steps."""

import torch

from ..rate import level_for_quality
from .samplers import sample_nc
from .schedule import eta, timesteps


def decode(model, unet, metadata, y_hat, header, device, *, steps: int, seed=None, kappa=None, guidance=0.0,
            freq_filter=True, **options):
    """The nc decoder (see ``decoders``): ``kappa`` scales fresh noise per step (0: deterministic),
    ``guidance`` weighs a latent-consistency step, ``freq_filter=False`` bypasses the trained filters."""
    from .guidance import latent_consistency_guide

    unet.to(device)
    generator = torch.Generator(device).manual_seed(0 if seed is None else int(seed))
    guide = None
    if guidance:
        scale = model.quantization_scale(header.quality, device)
        guide = latent_consistency_guide(model.g_a, y_hat, scale, float(guidance))
    with torch.no_grad():
        x_base = model.g_s(y_hat).clamp_(0, 1)
        x = nc_sample(unet, y_hat, x_base, level_for_quality(header.quality), steps=steps,
                       power=float(metadata["eta_power"]), kappa=0.0 if kappa is None else float(kappa),
                       generator=generator, guide=guide, freq_filter=bool(freq_filter))
    return x[..., : header.height, : header.width]


def nc_sample(unet, y_hat, x_base, level: float, *, steps: int, power: float = 1.5,
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
