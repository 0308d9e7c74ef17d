"""Large photos through the learned codec in tiles: memory, time per megapixel, seams, region decode, tiling's bpp.

    python benchmarks/tiles.py photo ../shared/data/kodak big.png --size 8000x6000
    python benchmarks/tiles.py run big.png --out runs/tiles --reference ../shared/data/kodak/kodim01.png
    python benchmarks/tiles.py bpp ../shared/data/kodak --size 1536x1024

``photo`` builds a test photo: Kodak images enlarged 2x (Lanczos, as a camera's
48 MP sensor sees finer detail than Kodak's scans) in a mosaic placed so that
its edges avoid the tile grids measured.  ``run`` times each step in a process
of its own and reports its peak resident memory; ``bpp`` compares coding in
tiles with coding whole.  Every figure is printed as JSON.
"""

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from PIL import Image

import ncdiff_plugin as ncd

#: The seam measure: the squared error in a BAND-pixel band along each interior grid line.
BAND = 4


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_photo(kodak: str, out: str, width: int, height: int) -> None:
    sources = sorted(glob.glob(os.path.join(kodak, "kodim*.png")))
    tiles = [np.asarray(Image.open(p).convert("RGB").resize((1536, 1024), Image.LANCZOS))
             for p in sources if Image.open(p).size == (768, 512)]
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    # Offsets of 333 and 217 keep the mosaic's edges 13 pixels or more from every multiple of 64.
    k = 0
    for top in range(-217, height, 1024):
        for left in range(-333, width, 1536):
            part = tiles[k % len(tiles)]
            k += 1
            y0, x0 = max(top, 0), max(left, 0)
            y1, x1 = min(top + 1024, height), min(left + 1536, width)
            canvas[y0:y1, x0:x1] = part[y0 - top : y1 - top, x0 - left : x1 - left]
    Image.fromarray(canvas).save(out, compress_level=1)


def warm_up() -> None:
    """Loads the model and the decoders' networks so the timings below count the work only."""
    small = Image.new("RGB", (64, 64), (90, 120, 200))
    data = ncd.encode(small, codec="learned")
    ncd.decode(data)


def step(args) -> dict:
    """One measured step in this process (``run`` starts one process per step)."""
    warm_up()
    rss_before = peak_rss_mb()
    if args.what == "encode":
        img = Image.open(args.src)
        img.load()
        t = time.perf_counter()
        data = ncd.encode(img, quality=args.quality, codec="learned", **({"tile_offset": args.offset} if args.offset else {}))
        seconds = time.perf_counter() - t
        with open(args.dst, "wb") as f:
            f.write(data)
        info = ncd.inspect(data)
        return {"seconds": seconds, "bytes": len(data), "bpp": info["bpp"], "tiles": len(info["frames"][0]["tiles"]),
                "peak_rss_mb": peak_rss_mb(), "rss_after_warm_up_mb": rss_before}
    if args.what == "decode":
        options = {"decoder": args.decoder, "steps": args.steps}
        if args.region:
            options["region"] = tuple(int(v) for v in args.region.split(","))
        t = time.perf_counter()
        img = ncd.decode(args.src, **{k: v for k, v in options.items() if v is not None})
        seconds = time.perf_counter() - t
        peak = peak_rss_mb()
        np.save(args.dst, np.asarray(img))
        return {"seconds": seconds, "size": list(img.size), "peak_rss_mb": peak, "rss_after_warm_up_mb": rss_before}
    raise SystemExit(f"unknown step {args.what}")


def _child(*argv) -> dict:
    out = subprocess.run([sys.executable, __file__, "step", *map(str, argv)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def band_mse(original: np.ndarray, decoded: np.ndarray, lines_x, lines_y) -> float:
    """Mean squared error over the BAND-pixel bands centred on the given vertical and horizontal lines."""
    h, w = original.shape[:2]
    mask = np.zeros((h, w), dtype=bool)
    for x in lines_x:
        mask[:, max(x - BAND // 2, 0) : x + BAND // 2] = True
    for y in lines_y:
        mask[max(y - BAND // 2, 0) : y + BAND // 2, :] = True
    diff = original[mask].astype(np.float64) - decoded[mask].astype(np.float64)
    return float(np.mean(diff**2))


def seam_ratio(original: np.ndarray, on_grid: np.ndarray, shifted: np.ndarray, tile: int) -> dict:
    """Band error along the tile grid of ``on_grid``'s decode over the same bands of the decode whose grid is
    shifted by half a tile (``shifted``): 1 when the grid does not show."""
    h, w = original.shape[:2]
    xs, ys = range(tile, w, tile), range(tile, h, tile)
    a, b = band_mse(original, on_grid, xs, ys), band_mse(original, shifted, xs, ys)
    return {"band_mse_on_grid": a, "band_mse_shifted_grid": b, "ratio": a / b}


def run(args) -> dict:
    os.makedirs(args.out, exist_ok=True)
    tile = args.tile
    path = lambda name: os.path.join(args.out, name)  # noqa: E731
    report = {"photo": args.photo, "size": list(Image.open(args.photo).size), "quality": args.quality,
              "tile": tile, "torch_threads": os.environ.get("OMP_NUM_THREADS", "default")}
    mp = report["size"][0] * report["size"][1] / 1e6
    ref = Image.open(args.reference).convert("RGB")
    ref.save(path("reference.png"))
    enc_ref = min(_child("encode", path("reference.png"), path("reference.ncd"), args.quality)["seconds"] for _ in range(3))
    dec_ref = min(_child("decode", path("reference.ncd"), path("reference.npy"))["seconds"] for _ in range(3))
    ref_mp = ref.width * ref.height / 1e6
    report["reference"] = {"size": list(ref.size), "encode_s": enc_ref, "decode_s": dec_ref,
                           "s_per_mp": (enc_ref + dec_ref) / ref_mp}
    enc = _child("encode", args.photo, path("grid.ncd"), args.quality)
    dec = _child("decode", path("grid.ncd"), path("grid.npy"))
    report["encode"], report["decode"] = enc, dec
    report["s_per_mp"] = (enc["seconds"] + dec["seconds"]) / mp
    report["time_per_mp_vs_reference"] = report["s_per_mp"] / report["reference"]["s_per_mp"]
    w, h = report["size"]
    left, top = (w // 2 - 256) // 7 * 7, (h // 2 - 256) // 7 * 7  # off the grid on purpose
    region = f"{left},{top},512,512"
    reg = _child("decode", path("grid.ncd"), path("region.npy"), "--region", region)
    full = np.load(path("grid.npy"), mmap_mode="r")
    same = bool(np.array_equal(np.load(path("region.npy")), full[top : top + 512, left : left + 512]))
    report["region"] = {"box": [left, top, 512, 512], "seconds": reg["seconds"], "speedup": dec["seconds"] / reg["seconds"],
                        "identical_to_full_decode": same, "peak_rss_mb": reg["peak_rss_mb"]}
    original = np.asarray(Image.open(args.photo).convert("RGB"))
    _child("encode", args.photo, path("shifted.ncd"), args.quality, "--offset", tile // 2)
    _child("decode", path("shifted.ncd"), path("shifted.npy"))
    report["seams_base"] = seam_ratio(original, full, np.load(path("shifted.npy"), mmap_mode="r"), tile)
    if args.nc_crop:
        # nc on a crop (its CPU time on the whole photo is long): the same two grids.
        cw, ch = (int(v) for v in args.nc_crop.split("x"))
        crop = Image.fromarray(original[:ch, :cw])
        crop.save(path("crop.png"))
        for name, offset in (("crop-grid", 0), ("crop-shifted", tile // 2)):
            _child("encode", path("crop.png"), path(f"{name}.ncd"), args.quality, *(["--offset", offset] if offset else []))
            report[f"nc_{name}_decode"] = _child("decode", path(f"{name}.ncd"), path(f"{name}.npy"), "--decoder", "nc",
                                                 "--steps", args.nc_steps)
        report["seams_nc"] = dict(seam_ratio(original[:ch, :cw], np.load(path("crop-grid.npy")),
                                             np.load(path("crop-shifted.npy")), tile),
                                  crop=[cw, ch], steps=args.nc_steps)
    return report


def bpp(args) -> dict:
    """bpp of each image coded in tiles against coded whole (``tile=0``), at one size and several qualities."""
    w, h = (int(v) for v in args.size.split("x"))
    rows = []
    for p in sorted(glob.glob(os.path.join(args.images, "*.png")))[: args.limit]:
        img = Image.open(p).convert("RGB")
        if img.width < img.height:
            continue
        img = img.resize((w, h), Image.LANCZOS)
        for q in args.qualities:
            whole, tiled = ncd.encode(img, q, codec="learned", tile=0), ncd.encode(img, q, codec="learned", tile=args.tile)
            rows.append({"image": os.path.basename(p), "quality": q, "whole_bytes": len(whole), "tiled_bytes": len(tiled)})
    total_whole, total_tiled = sum(r["whole_bytes"] for r in rows), sum(r["tiled_bytes"] for r in rows)
    return {"size": [w, h], "tile": args.tile, "images": len(rows) // len(args.qualities), "qualities": args.qualities,
            "tiled_over_whole": total_tiled / total_whole, "rows": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("photo", help="build the test photo")
    p.add_argument("kodak")
    p.add_argument("out")
    p.add_argument("--size", default="8000x6000")
    p = sub.add_parser("run", help="encode, decode, region decode and seams of a photo")
    p.add_argument("photo")
    p.add_argument("--out", default="runs/tiles")
    p.add_argument("--reference", required=True, help="a small image (768x512) whose time per megapixel is the yardstick")
    p.add_argument("--quality", type=int, default=ncd.DEFAULT_QUALITY)
    p.add_argument("--tile", type=int, default=768, help="the codec's tile side (grid.TILE)")
    p.add_argument("--nc-crop", default="", help="WxH crop of the photo on which to measure nc's seams")
    p.add_argument("--nc-steps", type=int, default=1)
    p = sub.add_parser("bpp", help="bpp in tiles against whole")
    p.add_argument("images")
    p.add_argument("--size", default="1536x1024")
    p.add_argument("--tile", type=int, default=1024)
    p.add_argument("--limit", type=int, default=24)
    p.add_argument("--qualities", type=lambda s: [int(v) for v in s.split(",")], default=[5, 30, 75])
    p = sub.add_parser("step")
    p.add_argument("what")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("quality", nargs="?", type=int, default=ncd.DEFAULT_QUALITY)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--region")
    p.add_argument("--decoder")
    p.add_argument("--steps", type=int)
    args = parser.parse_args(argv)
    if args.command == "photo":
        w, h = (int(v) for v in args.size.split("x"))
        make_photo(args.kodak, args.out, w, h)
        print(json.dumps({"photo": args.out, "size": [w, h]}))
        return 0
    result = {"run": run, "bpp": bpp, "step": step}[args.command](args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
