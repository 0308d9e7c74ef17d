"""The noise-constrained path: how much of the codec's own error is left at time t.

Forward process (the project's formulation of NC-Diffusion):

    x_t = x0 + eta(t) * (x_base - x0) + kappa * sqrt(eta(t)) * eps,   t in [0, 1]

so x_0 is the image and x_1 is the base reconstruction (plus kappa-scaled noise in
the stochastic mode).  eta rises as t**power: small steps near the image, where
detail is restored, large ones near x_base.
"""

import torch


def eta(t, power: float):
    return t**power


def timesteps(steps: int, device="cpu") -> torch.Tensor:
    """K+1 times from 1 (x_base) down to 0 (the image)."""
    if steps < 1:
        raise ValueError("steps must be >= 1")
    return torch.linspace(1.0, 0.0, steps + 1, device=device)


def forward_sample(x0, x_base, t, power: float, kappa, noise):
    """x_t for a batch: t, kappa of shape (B,); noise like x0."""
    e = eta(t, power)[:, None, None, None]
    k = torch.as_tensor(kappa, dtype=x0.dtype, device=x0.device).reshape(-1, 1, 1, 1)
    return x0 + e * (x_base - x0) + k * e.sqrt() * noise
