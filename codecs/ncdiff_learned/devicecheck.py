"""Decode timings on one device and the cross-device check of its bitstreams.

``python -m ncdiff_learned.devicecheck [--device cuda] [--out DIR] [--image PNG] [--size WxH]``:

- encodes a 768x512 picture (``--image``, resized) on ``--device`` at three qualities and writes the files;
- times ``base``, ``nc`` (K = 1, 2, 4) and ``cdc`` (K = 17) decodes there (median
  of ``--repeat`` runs after a warm-up, the device synchronised around each);
- decodes the same files' latents on the CPU and checks they are bit-identical
  to the device's, and reports how far the CPU's ``base`` pixels are from the
  device's.

Prints one table; ``--out`` also gets it as JSON beside the files.
"""

import argparse
import json
import os
import statistics
import sys
import time

# Relative to the working directory (the README runs this from the repository root): an
# installed copy, as on the GPU machine, has no samples/ beside its modules.
SAMPLE = os.path.join("samples", "kodim23-half.png")
DECODES = (("base", None), ("nc", 1), ("nc", 2), ("nc", 4), ("cdc", 17))


def _picture(path: str, width: int, height: int):
    from PIL import Image

    if not os.path.isfile(path):
        raise FileNotFoundError(f"devicecheck needs a picture to encode: {path!r} does not exist "
                                f"(run it from the repository root, or pass --image)")
    with Image.open(path) as im:
        return im.convert("RGB").resize((width, height), Image.Resampling.BICUBIC)


def check(device: str, width=768, height=512, qualities=(5, 50, 95), repeat=5, decodes=DECODES, out=None,
          image_path=SAMPLE):
    import numpy as np
    import torch

    import ncdiff_plugin as ncd
    from ncdiff_plugin import container

    from . import CODEC

    def timed(fn):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        result = fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - t0, result

    image = _picture(image_path, width, height)
    report = {"device": torch.cuda.get_device_name(device) if device.startswith("cuda") else "cpu",
              "size": f"{width}x{height}", "decode_s": {}, "latents_identical_on_cpu": {}, "base_max_abs_diff": {}}
    files = {}
    for q in qualities:
        files[q] = ncd.encode(image, quality=q, codec="learned", device=device)
        if out:
            with open(os.path.join(out, f"devicecheck-q{q}.ncd"), "wb") as f:
                f.write(files[q])
    available = CODEC.decoders
    for decoder, steps in decodes:
        if decoder not in available:
            continue
        data = files[qualities[len(qualities) // 2]]
        run = lambda: ncd.decode(data, decoder=decoder, steps=steps, device=device)  # noqa: E731
        timed(run)  # warm-up: kernels, weights on the device
        times = [timed(run)[0] for _ in range(repeat)]
        report["decode_s"][decoder + (f" K={steps}" if steps else "")] = round(statistics.median(times), 4)
    for q, data in files.items():
        parsed = container.read(data)
        frame = parsed.frames[0].payloads
        on_device = CODEC.decode_latent(frame, parsed.header, device).cpu()
        on_cpu = CODEC.decode_latent(frame, parsed.header, "cpu")
        report["latents_identical_on_cpu"][f"q{q}"] = bool(torch.equal(on_device, on_cpu))
        a = np.asarray(ncd.decode(data, device=device), np.int16)
        b = np.asarray(ncd.decode(data, device="cpu"), np.int16)
        report["base_max_abs_diff"][f"q{q}"] = int(np.abs(a - b).max())
    if out:
        with open(os.path.join(out, "devicecheck.json"), "w") as f:
            json.dump(report, f, indent=2)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ncdiff_learned.devicecheck")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", help="folder for the files and devicecheck.json")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--image", default=SAMPLE, help=f"picture to encode, resized (default: {SAMPLE})")
    parser.add_argument("--size", default="768x512", help="WIDTHxHEIGHT encoded and timed (default: 768x512)")
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        width = height = 0
    if width <= 0 or height <= 0:
        parser.error(f"--size must be WIDTHxHEIGHT with positive sides, got {args.size!r}")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    report = check(args.device, width=width, height=height, repeat=args.repeat, out=args.out, image_path=args.image)
    print(f"device: {report['device']}, {report['size']}")
    for name, seconds in report["decode_s"].items():
        print(f"  decode {name:<10} {1000 * seconds:8.1f} ms")
    for q, same in report["latents_identical_on_cpu"].items():
        print(f"  {q}: latent on the CPU {'identical' if same else 'DIFFERENT'}, "
              f"base pixels max |diff| {report['base_max_abs_diff'][q]}")
    return 0 if all(report["latents_identical_on_cpu"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
