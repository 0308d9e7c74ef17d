"""Training of the NC-Diffusion decoder on the frozen, shipped base codec.

For a crop x0 at a random quality the frozen codec gives the transmitted latent
y_hat and its reconstruction x_base; a random time t and noise level pick a
point x_t on the noise-constrained path, and the U-Net learns to predict x0.
"""

import torch

from ..diffusion.schedule import forward_sample
from ..diffusion.unet import NCUNet
from ..exact import ExactPath
from ..rate import LEVELS
from ..weights import BASE_WEIGHTS, load_model
from .loop import apply_gradients, train_loop

# Share of samples trained at t = 1 exactly: the first step of every decode.
T_ONE_SHARE = 0.25


@torch.no_grad()
def base_outputs(base, x, level):
    """(y_hat, x_base) of the frozen codec with hard quantisation, as at decode time."""
    out = base(x, level)
    return out["y_hat"], out["x_hat"].clamp(0, 1)


def load_frozen_base(device):
    base, metadata, digest = load_model(BASE_WEIGHTS)
    base.to(device).eval()
    for p in base.parameters():
        p.requires_grad_(False)
    # Training may use the fast float entropy-parameter path: it differs from
    # the exact one by at most 2**-16 and only matters for the bitstream.
    for m in base.modules():
        if isinstance(m, ExactPath):
            m.train()
    return base, digest


def init_unet(unet, args) -> None:
    """Starts from exported decoder weights (``--init``), e.g. the last release
    when the base codec under it changed; the optimizer starts fresh."""
    if getattr(args, "init", None):
        from ..weights import _float32, read_weights

        unet.load_state_dict(_float32(read_weights(args.init)[0]))
        print(f"initialised from {args.init}")


def train(args) -> str:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    base, digest = load_frozen_base(device)
    unet = NCUNet(freq_filter=not args.no_freq_filter, latent_channels=base.M)
    init_unet(unet, args)
    unet.to(device)
    args.base_sha256 = digest.hex()  # recorded in the checkpoint and the exported weights
    opt = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.0)
    unet.train()

    def step(x0, lr, progress):
        b = x0.shape[0]
        level = torch.rand(b, device=device) * (LEVELS - 1)
        y_hat, x_base = base_outputs(base, x0, level)
        t = torch.rand(b, device=device).clamp_min(1e-3)
        t = torch.where(torch.rand(b, device=device) < T_ONE_SHARE, torch.ones_like(t), t)
        kappa = torch.where(torch.rand(b, device=device) < 0.5, torch.zeros_like(t), torch.full_like(t, args.kappa))
        x_t = forward_sample(x0, x_base, t, args.eta_power, kappa, torch.randn_like(x0))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            x0_hat = unet(x_t, x_base, y_hat, t, level)
        mse = (x0_hat.float() - x0).pow(2).flatten(1).mean(1)
        loss = mse.mean()
        apply_gradients(opt, unet, loss)
        # PSNR of the prediction and of x_base on the samples at t = 1, where decoding starts.
        first = t == 1
        psnr = lambda m: (-10 * torch.log10(m[first].clamp_min(1e-10))).mean().item() if first.any() else float("nan")
        base_mse = (x_base - x0).pow(2).flatten(1).mean(1)
        return {"loss": loss.item(), "psnr_t1": psnr(mse.detach()), "base_psnr_t1": psnr(base_mse)}

    return train_loop(args, "nc", unet, {"net": opt}, step)
