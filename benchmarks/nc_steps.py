"""What each step of a deterministic nc decode adds, with the shipped weights.

    python benchmarks/nc_steps.py ../shared/data/kodak/kodim05.png --qualities 5,15 --steps 2,4

On the deterministic path ``x_t = x0 + eta(t) (x_base - x0)`` the U-Net sees both
``x_t`` and ``x_base``, so from the second step on the image is already fixed by its
input: ``(x_t - eta x_base) / (1 - eta)``, which is exactly the previous step's
prediction.  For every later step this prints the PSNR of the U-Net's prediction
beside that of the x0 its input implies, and their mean distance (in 1/255): a
prediction below the implied one is error the step adds.  Printed as JSON lines.
"""

import argparse
import json

import numpy as np
import torch
from PIL import Image

from ncdiff_learned.decoders import DECODERS
from ncdiff_learned.diffusion.schedule import eta, timesteps
from ncdiff_learned.rate import level_for_quality
from ncdiff_learned.weights import BASE_WEIGHTS, load_model, load_network


def psnr(x, x0) -> float:
    return round(float(-10 * torch.log10((x.clamp(0, 1) - x0).pow(2).mean())), 2)


@torch.no_grad()
def walk(base, unet, power, x0, quality, steps):
    """Per-step rows of one deterministic decode of ``x0`` at ``quality``."""
    level = torch.tensor([level_for_quality(quality)])
    out = base(x0, level)
    y_hat, x_base = out["y_hat"], out["x_hat"].clamp(0, 1)
    ts = timesteps(steps)
    x, rows = x_base, []
    for i in range(steps):
        e, e_next = float(eta(ts[i], power)), float(eta(ts[i + 1], power))
        x0_hat = unet(x, x_base, y_hat, ts[i].expand(1), level)
        row = {"t": round(float(ts[i]), 3), "prediction_db": psnr(x0_hat, x0)}
        if e < 1:
            implied = (x - e * x_base) / (1 - e)
            row.update(implied_db=psnr(implied, x0), distance_255=round(float((x0_hat - implied).abs().mean()) * 255, 2))
        rows.append(row)
        x = x0_hat if e_next == 0 else x0_hat + e_next / e * (x - x0_hat)
    return {"quality": quality, "steps": steps, "base_db": psnr(x_base, x0), "final_db": psnr(x, x0), "per_step": rows}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("image")
    p.add_argument("--crop", default="256,128,256,256", help="left,top,width,height (a multiple of 64)")
    p.add_argument("--qualities", default="5,15")
    p.add_argument("--steps", default="2,4")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    left, top, w, h = (int(v) for v in args.crop.split(","))
    rgb = np.array(Image.open(args.image).convert("RGB"))[top : top + h, left : left + w]
    x0 = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    base = load_model(BASE_WEIGHTS)[0]
    entry = DECODERS["nc"]
    unet, metadata, _ = load_network(entry.weights, entry.network)
    power = float(metadata["eta_power"])
    for q in (int(v) for v in args.qualities.split(",")):
        for k in (int(v) for v in args.steps.split(",")):
            print(json.dumps(walk(base, unet, power, x0, q, k)))


if __name__ == "__main__":
    main()
