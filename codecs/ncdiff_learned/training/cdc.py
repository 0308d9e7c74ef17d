"""Training of the CDC decoder on the frozen, shipped base codec.

For a crop x0 at a random quality the frozen codec gives the transmitted
latent y_hat and the synthesis transform's multi-scale features of it; a random
time t of the cosine schedule gives x_t = alpha x0 + sigma eps, and the U-Net
learns to predict x0 under min-SNR weighting.  Only the U-Net is trained: the
encoder, the entropy model and the feature extractor stay those of the base
codec, so the bitstream does not change.
"""

import torch

from ..diffusion.cdc_unet import CDCUNet
from ..diffusion.schedule import cosine, min_snr_weight
from ..rate import LEVELS
from .loop import apply_gradients, train_loop
from .nc import init_unet, load_frozen_base


@torch.no_grad()
def latent_features(base, x, level):
    """Features of the hard-quantised latent, as the decoder computes them from a file."""
    return base.synthesis_features(base.latent(x, level))


def train(args) -> str:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    base, digest = load_frozen_base(device)
    unet = CDCUNet(feature_channels=base.N)
    init_unet(unet, args)
    unet.to(device)
    args.base_sha256 = digest.hex()
    opt = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.0)
    unet.train()

    def step(x, lr, progress):
        b = x.shape[0]
        level = torch.rand(b, device=device) * (LEVELS - 1)
        features, x_base = latent_features(base, x, level)
        x0 = x * 2 - 1
        t = torch.rand(b, device=device).clamp(1e-3, 1.0)
        alpha, sigma = (v[:, None, None, None] for v in cosine(t))
        x_t = alpha * x0 + sigma * torch.randn_like(x0)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            x0_hat = unet(x_t, features, t, level)
        mse = (x0_hat.float() - x0).pow(2).flatten(1).mean(1)
        loss = (min_snr_weight(t, args.snr_gamma) * mse).mean()
        apply_gradients(opt, unet, loss)
        # PSNR (in [0, 1] units) of the one-step prediction from nearly pure noise, and of x_base.
        with torch.no_grad():
            psnr = lambda m: (-10 * torch.log10(m / 4 + 1e-10)).mean().item()
            late = t > 0.9
            base_mse = ((x_base * 2 - 1) - x0).pow(2).flatten(1).mean(1)
        return {"loss": loss.item(), "psnr_t>0.9": psnr(mse.detach()[late]) if late.any() else float("nan"),
                "base_psnr": psnr(base_mse)}

    return train_loop(args, "cdc", unet, {"net": opt}, step)
