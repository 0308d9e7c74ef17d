"""``make demo``: compress the sample images, compare with JPEG and AVIF at the
same bytes, and draw what each decoder gives.

For every sample and quality, the learned file's size sets the budget: JPEG and
AVIF are encoded at the quality whose file is largest without exceeding it (the
smallest they can make, if even that is larger), and the table prints both.
One side-by-side picture per sample shows the original, JPEG and AVIF at the
learned file's bytes, and the ``base``, ``nc`` and ``cdc`` decodes of that file,
each labelled with bpp and PSNR.

Usage: python -m ncdiff_bench.demo [SAMPLES_DIR] [OUT_DIR] [-q Q ...] [--picture-quality Q]
"""

import argparse
import io
import os
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from ncdiff_plugin import api, get_codecs
from . import metrics

#: Pillow's codecs the learned one is held against: (format, save options).
CLASSICAL = {"JPEG": ("JPEG", {}), "AVIF": ("AVIF", {"speed": 4})}


def psnr(a: Image.Image, b: Image.Image) -> float:
    return metrics.psnr(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))


def classical_at_bytes(img: Image.Image, name: str, budget: int):
    """(bytes, decoded image, quality) of Pillow's ``name`` at the highest quality
    whose file fits in ``budget`` bytes, or at quality 1 when none does."""
    fmt, options = CLASSICAL[name]

    def encode(q):
        buf = io.BytesIO()
        img.convert("RGB").save(buf, fmt, quality=q, **options)
        return buf.getvalue()

    lo, hi, best = 1, 100, None
    while lo <= hi:  # file size grows with quality: bisect on it
        mid = (lo + hi) // 2
        data = encode(mid)
        if len(data) <= budget:
            best, lo = (data, mid), mid + 1
        else:
            hi = mid - 1
    data, q = best if best else (encode(1), 1)
    with Image.open(io.BytesIO(data)) as out:
        return data, out.convert("RGB"), q


def side_by_side(panels, path: str, columns: int = 3) -> None:
    """Labelled images in a grid: ``panels`` is a list of (label, image)."""
    font = ImageFont.load_default(size=14)
    w, h = panels[0][1].size
    band = 40
    rows = -(-len(panels) // columns)
    sheet = Image.new("RGB", (w * columns, (h + band) * rows), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, image) in enumerate(panels):
        left, top = (i % columns) * w, (i // columns) * (h + band)
        sheet.paste(image.convert("RGB"), (left, top + band))
        for j, line in enumerate(label.split("\n")):
            draw.text((left + 4, top + 2 + 18 * j), line, fill="black", font=font)
    sheet.save(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ncdiff_bench.demo")
    parser.add_argument("samples", nargs="?", default="samples")
    parser.add_argument("out", nargs="?", default="demo-out")
    parser.add_argument("-q", "--quality", type=int, nargs="+", default=[10, 40, 75])
    parser.add_argument("--picture-quality", type=int, default=10,
                        help="quality of the side-by-side pictures (low rates show the decoders apart)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    names = sorted(f for f in os.listdir(args.samples) if f.lower().endswith((".png", ".jpg", ".jpeg")))
    rivals = [n for n in CLASSICAL if features.check(CLASSICAL[n][0].lower().replace("jpeg", "jpg"))]
    head = f"{'file':<18}{'q':>4}{'codec':>8}{'bytes':>8}{'bpp':>7}{'PSNR':>7}{'enc s':>7}{'dec s':>7}"
    print(head + "".join(f"{n + ' bpp':>10}{n + ' PSNR':>10}" for n in rivals) + f"{'vs JPEG dB':>11}")
    ahead = []
    for name in names:
        with Image.open(os.path.join(args.samples, name)) as img:
            img.load()
        pixels = img.width * img.height
        for q in sorted(set(args.quality) | {args.picture_quality}):
            t0 = time.perf_counter()
            data = api.encode(img, quality=q)
            t1 = time.perf_counter()
            base = api.decode(data)
            t2 = time.perf_counter()
            used = api.inspect(data)["codec"]
            stem = f"{os.path.splitext(name)[0]}-{used}-q{q}"
            with open(os.path.join(args.out, stem + ".ncd"), "wb") as f:
                f.write(data)
            base.save(os.path.join(args.out, stem + ".png"))
            learned_psnr = psnr(img, base)
            classical = {n: classical_at_bytes(img, n, len(data)) for n in rivals}
            row = f"{name:<18}{q:>4}{used:>8}{len(data):>8}{8 * len(data) / pixels:>7.3f}{learned_psnr:>7.2f}"
            row += f"{t1 - t0:>7.2f}{t2 - t1:>7.2f}"
            for n in rivals:
                size, out, _ = classical[n]
                row += f"{8 * len(size) / pixels:>10.3f}{psnr(img, out):>10.2f}"
            gap = learned_psnr - psnr(img, classical["JPEG"][1])
            # Ahead of JPEG: more dB for no more bytes (JPEG at its budget may still be larger).
            ahead.append(gap > 0 and len(classical["JPEG"][0]) >= 0.9 * len(data))
            print(row + f"{gap:>+11.2f}")
            if q == args.picture_quality:
                picture(img, data, classical, pixels, learned_psnr, base,
                        os.path.join(args.out, f"{os.path.splitext(name)[0]}-side-by-side.png"))
    print(f"learned codec ahead of JPEG at equal bytes in {sum(ahead)} of {len(ahead)} cases")
    print(f"decoded images, .ncd files and side-by-side pictures written to {args.out}/")
    return 0


def picture(img, data, classical, pixels, learned_psnr, base, path) -> None:
    """The side-by-side picture of one sample at one learned file."""
    bpp = 8 * len(data) / pixels
    panels = [("original", img)]
    for n, (size, out, q) in classical.items():
        panels.append((f"{n} q{q}\n{8 * len(size) / pixels:.3f} bpp {psnr(img, out):.2f} dB", out))
    panels.append((f"ncd base\n{bpp:.3f} bpp {learned_psnr:.2f} dB", base))
    if api.inspect(data)["codec"] == "learned":
        for decoder in get_codecs()["learned"].decoders[1:]:  # after base, which is already drawn
            out = api.decode(data, decoder=decoder)
            panels.append((f"ncd {decoder}\n{bpp:.3f} bpp {psnr(img, out):.2f} dB", out))
    side_by_side(panels, path)


if __name__ == "__main__":
    raise SystemExit(main())
