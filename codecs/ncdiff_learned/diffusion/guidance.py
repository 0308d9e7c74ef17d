"""Zero-shot sample-guided enhancement: keep each x0 estimate consistent with
the transmitted latent, through the frozen encoder, with no training.

The consistent images are those the encoder maps into the same quantisation
cells: |g_a(x) * gain - y_hat * gain| <= 1/2 per element.  Each step moves the
estimate down the gradient of the squared distance to that set.
"""

import torch
import torch.nn.functional as F


def latent_consistency_guide(encode, y_target, scale, weight: float, iterations: int = 1):
    """A guide(x0, t) that nudges x0 towards the quantisation cells of y_target.

    ``encode(x) -> y`` is the frozen analysis transform on the padded image,
    ``scale`` the gain that makes one quantisation step equal to 1.
    """

    def guide(x0, t):
        x = x0.detach()
        for _ in range(iterations):
            with torch.enable_grad():
                x = x.requires_grad_(True)
                d = (encode(x) - y_target) * scale
                excess = F.relu(d.abs() - 0.5)
                loss = excess.pow(2).sum()
                (grad,) = torch.autograd.grad(loss, x)
            rms = grad.flatten(1).pow(2).mean(dim=1).sqrt().clamp_min(1e-12)[:, None, None, None]
            # Normalised step: 'weight' is the root-mean-square move per pixel, in [0, 1] units.
            x = (x - weight * grad / rms * (loss > 0).float()).detach()
        return x.clamp(0, 1)

    return guide
