"""Samplers: small pure functions sharing one signature (k-diffusion style).

    sampler(denoise, x, ts, *, eta, kappa=0.0, generator=None, guide=None) -> x0

``denoise(x_t, t) -> x0 estimate``; ``x`` is the starting state (x_base for the
noise-constrained path); ``ts`` the decreasing times; ``eta(t)`` the path.
"""

import torch


def _noise(x, generator):
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype) if generator is not None \
        else torch.randn_like(x)


@torch.no_grad()
def sample_nc(denoise, x, ts, *, eta, kappa: float = 0.0, generator=None, guide=None):
    """Walks the noise-constrained path from x_base (t=1) to the image (t=0).

    Each step predicts x0, then moves to the next time along the residual the
    prediction implies: the posterior mean x0 + eta'/eta (x_t - x0) of the
    residual-shifting process, plus fresh noise of variance
    kappa^2 eta' (eta - eta') / eta when kappa > 0.  With kappa = 0 it is
    deterministic; otherwise reproducible for a given generator.
    """
    t0 = ts[0]
    if kappa > 0:
        x = x + kappa * float(eta(t0)) ** 0.5 * _noise(x, generator)
    for i in range(len(ts) - 1):
        t, t_next = ts[i], ts[i + 1]
        x0 = denoise(x, t)
        if guide is not None:
            x0 = guide(x0, t)
        e, e_next = float(eta(t)), float(eta(t_next))
        if e_next <= 0.0:
            return x0
        x = x0 + (e_next / e) * (x - x0)
        if kappa > 0:
            x = x + kappa * (e_next * (e - e_next) / e) ** 0.5 * _noise(x, generator)
    return x
