"""Noise schedules of the two diffusion decoders.

NC-Diffusion (the project's formulation): how much of the codec's own error is
left at time t,

    x_t = x0 + eta(t) * (x_base - x0) + kappa * sqrt(eta(t)) * eps,   t in [0, 1]

so x_0 is the image and x_1 is the base reconstruction (plus kappa-scaled noise
in the stochastic mode).  eta rises as t**power: small steps near the image,
where detail is restored, large ones near x_base.

CDC: the variance-preserving cosine schedule x_t = alpha(t) x0 + sigma(t) eps,
alpha = cos(pi t / 2), sigma = sin(pi t / 2), from the image (t = 0) to pure
noise (t = 1).
"""

import math

import torch


def eta(t, power: float):
    return t**power


def timesteps(steps: int, device="cpu") -> torch.Tensor:
    """K+1 times from 1 (x_base, or noise) down to 0 (the image)."""
    if steps < 1:
        raise ValueError("steps must be >= 1")
    return torch.linspace(1.0, 0.0, steps + 1, device=device)


def forward_sample(x0, x_base, t, power: float, kappa, noise):
    """x_t on the noise-constrained path for a batch: t, kappa of shape (B,); noise like x0."""
    e = eta(t, power)[:, None, None, None]
    k = torch.as_tensor(kappa, dtype=x0.dtype, device=x0.device).reshape(-1, 1, 1, 1)
    return x0 + e * (x_base - x0) + k * e.sqrt() * noise


def cosine(t):
    """(alpha, sigma) of the cosine schedule; t a float or a tensor."""
    if isinstance(t, torch.Tensor):
        return torch.cos(t * (math.pi / 2)), torch.sin(t * (math.pi / 2))
    return math.cos(t * math.pi / 2), math.sin(t * math.pi / 2)


def min_snr_weight(t: torch.Tensor, gamma: float = 5.0) -> torch.Tensor:
    """Weight of the x0 loss at time t: min-SNR-gamma (Hang et al. 2023), SNR capped at gamma,
    with the truncated-SNR floor of 1 (Salimans & Ho 2022) so that the first steps from pure
    noise, which every few-step decode takes, are still trained."""
    alpha, sigma = cosine(t)
    snr = alpha**2 / sigma.clamp_min(1e-6) ** 2
    return snr.clamp(1.0, gamma)
