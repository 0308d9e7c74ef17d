"""The ``ncd bench DATA_DIR`` command: its arguments and what running it does.

The ``ncd`` entry point wires these in; this module imports nothing heavy until ``run``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Callable, List

AUTO, NONE = "auto", "none"


def _comma_list(convert: Callable = str) -> Callable[[str], List]:
    def parse(text: str) -> List:
        try:
            items = [convert(item.strip()) for item in text.split(",") if item.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}") from None
        if not items:
            raise argparse.ArgumentTypeError("empty list")
        return items

    return parse


def _decoder_list(text: str) -> List[str]:
    """Comma-separated decoders; commas inside [options] do not split."""
    items, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += ch
    items = [i for i in items + [current.strip()] if i]
    if not items:
        raise argparse.ArgumentTypeError("empty list")
    return items


def _steps(text: str):
    """``K,K`` for every diffusion decoder, or ``NAME=K,K`` for one (NAME may be a spec with options)."""
    name, sep, counts = text.rpartition("=")
    return (name.strip() if sep else None, _comma_list(int)(counts))


def steps_by_decoder(values):
    """The ``--steps`` values as None, one list for every decoder, or a {name: list} mapping."""
    if not values:
        return None
    if all(name is None for name, _ in values):
        return [k for _, counts in values for k in counts]
    if any(name is None for name, _ in values):
        raise ValueError("--steps: give either K,K for every decoder or NAME=K,K for each, not both")
    return {name: counts for name, counts in values}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", metavar="DATA_DIR", help="folder of .png/.jpg test images (e.g. Kodak)")
    parser.add_argument("--codecs", type=_comma_list(), default=["ncd", "jpeg", "webp", "avif"],
                        help="codecs to compare: ncd, jpeg, webp, avif, or ncd-jpeg (the container's "
                             "JPEG fallback) (default: ncd,jpeg,webp,avif)")
    parser.add_argument("--qualities", type=_comma_list(int), default=[5, 15, 30, 50, 75, 95],
                        help="ncd quality points, 1-100; classical codecs use their own grids spanning "
                             "~0.1-2 bpp (default: 5,15,30,50,75,95)")
    parser.add_argument("--decoder", type=_decoder_list, default=["base"],
                        help="ncd decoders to measure from the same files: base, nc, cdc; a decoder may "
                             "carry decode options for an ablation, e.g. nc[freq_filter=0;guidance=0.05] "
                             "(default: base)")
    parser.add_argument("--steps", type=_steps, action="append", default=None, metavar="[NAME=]K[,K...]",
                        help="step counts of the nc/cdc decoders, one curve each; NAME=K,K for one decoder, "
                             "repeatable, e.g. --steps nc=1,2,4 --steps cdc=4,17,65 (default: the decoder's)")
    parser.add_argument("--anchors", default=AUTO, metavar="DIR",
                        help="folder of published curves (CompressAI JSON); 'auto' looks for "
                             "<root>/anchors/<name> beside <root>/data/<name>; 'none' disables (default: auto)")
    parser.add_argument("--out", default="bench-out", metavar="DIR",
                        help="where results.json, rd.png and bdrate.md go (default: bench-out)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="use only the first N images")
    parser.add_argument("--crop", type=int, default=None, metavar="N",
                        help="center-crop images to NxN for a quick run (MS-SSIM needs N >= 161)")
    parser.add_argument("--device", default=None, metavar="D",
                        help="torch device for the learned decoders, e.g. cpu, cuda (default: cuda if present)")
    parser.add_argument("--metrics", type=_comma_list(), default=["psnr", "ms_ssim"],
                        help="psnr, ms_ssim, haarpsi, vif, gmsd, hf_energy_ratio; lpips and fid with their "
                             "weights files (default: psnr,ms_ssim)")
    parser.add_argument("--lpips-weights", metavar="FILE",
                        help="safetensors with VGG16 features.* and LPIPS lin.0..lin.4, for --metrics lpips")
    parser.add_argument("--fid-weights", metavar="FILE",
                        help="safetensors of the FID Inception network (pytorch-fid's), for --metrics fid")
    parser.add_argument("--card", metavar="JSON",
                        help="also write the run into this model card's kodak section (points, BD-rates, "
                             "times, BD-rate against the previous release), e.g. the base weights' .json")
    parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")


def run(args: argparse.Namespace) -> int:
    from .anchors import guess_anchors_dir
    from .runner import run_bench

    if args.anchors == AUTO:
        anchors_dir = guess_anchors_dir(args.data_dir)
    elif args.anchors.lower() == NONE:
        anchors_dir = None
    else:
        anchors_dir = args.anchors
    try:
        if args.card:
            from .card import check_run

            check_run(args.card, args.data_dir, codecs=args.codecs, decoders=args.decoder, limit=args.limit,
                      crop=args.crop)
        result = run_bench(
            args.data_dir, codecs=args.codecs, ncd_qualities=args.qualities, decoders=args.decoder,
            ncd_steps=steps_by_decoder(args.steps), anchors_dir=anchors_dir, out_dir=args.out, limit=args.limit,
            crop=args.crop, device=args.device, metrics=args.metrics, progress=not args.no_progress,
            lpips_weights=args.lpips_weights, fid_weights=args.fid_weights,
        )
    except (FileNotFoundError, ValueError) as exc:  # bad arguments or inputs
        print(f"ncd bench: error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # nothing could run here
        print(f"ncd bench: error: {exc}", file=sys.stderr)
        return 1
    print(f"\nwrote {', '.join(result['files'].values())}")
    if args.card:
        from .card import fill_card

        # Rebuilt from the arguments that shape the numbers, so the card says how to get them again.
        command = shlex.join(["ncd", "bench", str(args.data_dir), "--codecs", ",".join(args.codecs),
                              "--qualities", ",".join(map(str, args.qualities)), "--decoder", ",".join(args.decoder),
                              "--anchors", str(args.anchors), "--out", str(args.out), "--card", str(args.card)])
        section = fill_card(args.card, result, command)
        print(f"wrote the kodak section of {args.card} (BD-rate against the previous release: "
              f"{section['bd_rate_psnr_percent_vs_previous_release']}%)")
    return 0
