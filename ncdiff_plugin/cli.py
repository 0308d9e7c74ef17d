"""The ``ncd`` command line (also ``python -m ncdiff_plugin``)."""

import argparse
import json
import os
import sys
import time

from PIL import Image

from . import api, files
from .errors import NCDError
from .plugins import get_adapters, get_codecs, load_plugins


def _say(args, *lines):
    if not args.quiet:
        for line in lines:
            print(line)


def _cmd_encode(args) -> int:
    files.check_output(args.output, [args.input], args.force)
    with Image.open(args.input) as img:
        img.load()
    t0 = time.perf_counter()
    data = api.encode(img, quality=args.quality, codec=args.codec)
    elapsed = time.perf_counter() - t0
    files.write_bytes(args.output, data)
    info = api.inspect(data)
    w, h = info["width"], info["height"]
    _say(args, f"Saved file {args.output}: {w}x{h} {info['mode']}, codec {info['codec']} (quality {info['quality']}): "
               f"{len(data)} bytes, {8 * len(data) / (w * h):.4f} bpp, encoded in {elapsed:.3f} s")
    if args.verbose and not args.quiet:
        _print_info(info)
    return 0


def _cmd_decode(args) -> int:
    files.check_output(args.output, [args.input], args.force)
    ext = os.path.splitext(args.output)[1].lower()
    fmt = Image.registered_extensions().get(ext)
    if fmt is None:
        raise NCDError(f"cannot tell the output format from {args.output!r}: use an extension such as .png")
    with open(args.input, "rb") as f:
        data = f.read()
    t0 = time.perf_counter()
    img = api.decode(data, frame=args.frame, region=args.region, **decoder_options(args))
    elapsed = time.perf_counter() - t0
    with files.atomic_output(args.output) as tmp:
        save_opts = {k: img.info[k] for k in ("exif", "icc_profile") if k in img.info and fmt in ("PNG", "JPEG", "WEBP", "TIFF", "NCD")}
        img.save(tmp, format=fmt, **save_opts)
    _say(args, f"Decoded {args.input}: {img.width}x{img.height} {img.mode} in {elapsed:.3f} s -> {args.output}")
    if args.verbose and not args.quiet:
        _print_info(api.inspect(data))
    return 0


def _print_info(info: dict) -> None:
    for key in ("format_version", "width", "height", "mode", "quality", "codec", "plugin", "model_id",
                "weights_sha256", "frame_count", "time_base", "fps", "file_bytes", "bpp"):
        if info.get(key) not in (None, ""):
            print(f"  {key:15} {info[key]}")
    for key, size in info["metadata"].items():
        if size:
            print(f"  {key:15} {size} bytes")
    for f in info["frames"][:20]:
        alpha = f", alpha {f['alpha_bytes']} bytes" if f["alpha_bytes"] else ""
        tiles = f", {len(f['tiles'])} tiles" if len(f["tiles"]) > 1 else ""
        streams = f["streams"] if len(f["streams"]) <= 6 else f"{len(f['streams'])} of {sum(f['streams'])}"
        print(f"  frame {f['index']:<9} pts {f['pts']}, duration {f['duration']}, streams {streams} bytes{tiles}{alpha}")
    if len(info["frames"]) > 20:
        print(f"  ... {len(info['frames']) - 20} more frames")
    print("  chunks:")
    for c in info["chunks"]:
        print(f"    {c['type']}  offset {c['offset']:>9}  length {c['length']:>9}")


def _cmd_info(args) -> int:
    info = api.inspect(args.file)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"{args.file}:")
        _print_info(info)
    return 0


def _cmd_plugins(args) -> int:
    pm = load_plugins()
    codecs, adapters = get_codecs(), get_adapters()
    out = {
        "plugins": [name for name, plugin in pm.list_name_plugin() if plugin is not None],
        "codecs": {cid: {"plugin": c.plugin, "description": c.description, "available": c.unavailable_reason() is None,
                         "reason": c.unavailable_reason()} for cid, c in codecs.items()},
        "adapters": adapters,
    }
    print(json.dumps(out, indent=2))
    return 0


def add_decoder_arguments(p: argparse.ArgumentParser) -> None:
    """The decode options of learned files, shared by every command that decodes."""
    p.add_argument("--decoder", help="decoder of learned files (default: base)")
    p.add_argument("--steps", type=int, help="diffusion steps of the decoder")
    p.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    p.add_argument("--seed", type=int, help="seed of stochastic decoders")
    p.add_argument("--kappa", type=float, help="nc: fresh noise per step, 0 = deterministic (default)")
    p.add_argument("--eta", type=float, help="cdc: DDIM's eta, fresh noise per step, 0 = deterministic (default)")
    p.add_argument("--guidance", type=float, help="nc: latent-consistency guidance step (default 0: off)")
    p.add_argument("--gamma", type=float, help="cdc: scale of the starting noise (default 0.8)")


def decoder_options(args: argparse.Namespace) -> dict:
    """The options ``add_decoder_arguments`` defines, as keyword arguments of ``ncd.decode``."""
    names = ("decoder", "steps", "device", "seed", "kappa", "eta", "guidance", "gamma")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _region(text: str):
    try:
        left, top, width, height = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LEFT,TOP,WIDTH,HEIGHT in pixels, got {text!r}") from None
    return left, top, width, height


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="print more details")
    common.add_argument("--quiet", action="store_true", help="print nothing on success")
    parser = argparse.ArgumentParser(prog="ncd", description="ncdiff: learned image compression")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("encode", parents=[common], help="compress an image into .ncd")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("-q", "--quality", type=int, default=api.DEFAULT_QUALITY,
                   help=f"1..100 (default {api.DEFAULT_QUALITY})")
    p.add_argument("--codec", default="auto", help="auto (default), learned or jpeg")
    p.add_argument("-f", "--force", action="store_true", help="overwrite OUTPUT if it exists")
    p.set_defaults(func=_cmd_encode)

    p = sub.add_parser("decode", parents=[common], help="decompress .ncd into an image file")
    p.add_argument("input")
    p.add_argument("output", help="output image; the format follows the extension (.png, .jpg...)")
    add_decoder_arguments(p)
    p.add_argument("--frame", type=int, default=0, help="frame to decode (default 0)")
    p.add_argument("--region", type=_region, metavar="L,T,W,H",
                   help="decode only this rectangle: left, top, width, height in pixels")
    p.add_argument("-f", "--force", action="store_true", help="overwrite OUTPUT if it exists")
    p.set_defaults(func=_cmd_decode)

    p = sub.add_parser("info", parents=[common], help="show the header and chunks of an .ncd file")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("plugins", parents=[common], help="list plugins, codecs and adapters as JSON")
    p.set_defaults(func=_cmd_plugins)

    load_plugins().hook.register_commands(subparsers=sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("ncd: interrupted", file=sys.stderr)
        return 130
    except (NCDError, OSError, ValueError, Image.DecompressionBombError) as exc:
        reason = " ".join(str(exc).split())  # one line, whatever the message holds
        print(f"ncd: error: {reason}", file=sys.stderr)
        return 1
