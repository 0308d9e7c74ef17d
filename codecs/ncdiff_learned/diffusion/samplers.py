"""Samplers: small pure functions sharing one signature (k-diffusion style).

    sampler(denoise, x, ts, *, schedule, kappa=0.0, generator=None, guide=None) -> x0

``denoise(x_t, t) -> x0 estimate``; ``x`` the starting state at ``ts[0]``;
``ts`` the decreasing times; ``schedule(t)`` the sampler's path (see
``schedule.py``); ``kappa`` how much fresh noise each step adds (0:
deterministic; the nc decoder's ``kappa``, DDIM's eta for cdc); ``guide(x0, t) -> x0`` an optional correction of every
estimate.
"""

import torch


def _noise(x, generator):
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype) if generator is not None \
        else torch.randn_like(x)


@torch.no_grad()
def sample_nc(denoise, x, ts, *, schedule, kappa: float = 0.0, generator=None, guide=None):
    """Walks the noise-constrained path from x_base (t=1) to the image (t=0).

    ``schedule(t)`` is eta(t), the share of the codec's error left at t.  Each
    step predicts x0, then moves to the next time along the residual the
    prediction implies: the posterior mean x0 + eta'/eta (x_t - x0) of the
    residual-shifting process, plus fresh noise of variance
    kappa^2 eta' (eta - eta') / eta when kappa > 0.  With kappa = 0 it is
    deterministic; otherwise reproducible for a given generator.
    """
    t0 = ts[0]
    if kappa > 0:
        x = x + kappa * float(schedule(t0)) ** 0.5 * _noise(x, generator)
    for i in range(len(ts) - 1):
        t, t_next = ts[i], ts[i + 1]
        x0 = denoise(x, t)
        if guide is not None:
            x0 = guide(x0, t)
        e, e_next = float(schedule(t)), float(schedule(t_next))
        if e_next <= 0.0:
            return x0
        x = x0 + (e_next / e) * (x - x0)
        if kappa > 0:
            x = x + kappa * (e_next * (e - e_next) / e) ** 0.5 * _noise(x, generator)
    return x


@torch.no_grad()
def sample_ddim(denoise, x, ts, *, schedule, kappa: float = 0.0, generator=None, guide=None):
    """DDIM (Song et al. 2021) for an x0-predicting model, from noise (t=1) to the image (t=0).

    ``schedule(t)`` is (alpha(t), sigma(t)) of a variance-preserving process.
    Each step predicts x0, infers the noise it implies and re-noises to the
    next time; ``kappa`` is DDIM's eta (0: deterministic, 1: DDPM-like).
    """
    for i in range(len(ts) - 1):
        t, t_next = ts[i], ts[i + 1]
        x0 = denoise(x, t)
        if guide is not None:
            x0 = guide(x0, t)
        (a, s), (a_next, s_next) = schedule(float(t)), schedule(float(t_next))
        if s_next <= 1e-6:
            return x0
        eps = (x - a * x0) / max(s, 1e-6)
        # Fresh-noise share of the next sigma (DDIM's sigma_t), zero when kappa = 0.
        fresh = min(kappa * (s_next / max(s, 1e-6)) * max(1.0 - (a / a_next) ** 2, 0.0) ** 0.5, s_next)
        x = a_next * x0 + (s_next**2 - fresh**2) ** 0.5 * eps
        if fresh > 0:
            x = x + fresh * _noise(x, generator)
    return x
