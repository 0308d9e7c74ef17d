"""``make demo``: compress the sample images and print what it costs and gives.

Usage: python -m ncdiff_plugin.demo [SAMPLES_DIR] [OUT_DIR] [-q Q ...]
"""

import argparse
import os
import time

import numpy as np
from PIL import Image

from . import api


def psnr(a: Image.Image, b: Image.Image) -> float:
    x = np.asarray(a.convert("RGB"), dtype=np.float64)
    y = np.asarray(b.convert("RGB"), dtype=np.float64)
    mse = np.mean((x - y) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ncdiff_plugin.demo")
    parser.add_argument("samples", nargs="?", default="samples")
    parser.add_argument("out", nargs="?", default="demo-out")
    parser.add_argument("-q", "--quality", type=int, nargs="+", default=[10, 40, 75])
    parser.add_argument("--codec", nargs="+", default=["auto", "jpeg"])
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    names = sorted(f for f in os.listdir(args.samples) if f.lower().endswith((".png", ".jpg", ".jpeg")))
    print(f"{'file':<18}{'codec':<9}{'quality':>7}{'bytes':>9}{'bpp':>8}{'PSNR dB':>9}{'enc s':>8}{'dec s':>8}")
    for name in names:
        with Image.open(os.path.join(args.samples, name)) as img:
            img.load()
        for codec in args.codec:
            for q in args.quality:
                t0 = time.perf_counter()
                data = api.encode(img, quality=q, codec=codec)
                t1 = time.perf_counter()
                out = api.decode(data)
                t2 = time.perf_counter()
                used = api.inspect(data)["codec"]
                stem = f"{os.path.splitext(name)[0]}-{used}-q{q}"
                with open(os.path.join(args.out, stem + ".ncd"), "wb") as f:
                    f.write(data)
                out.save(os.path.join(args.out, stem + ".png"))
                bpp = 8 * len(data) / (img.width * img.height)
                print(f"{name:<18}{used:<9}{q:>7}{len(data):>9}{bpp:>8.3f}{psnr(img, out):>9.2f}{t1 - t0:>8.2f}{t2 - t1:>8.2f}")
    print(f"decoded images and .ncd files written to {args.out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
