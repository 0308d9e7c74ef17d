"""``ncd batch SRC... DST``: a whole collection of images to .ncd files, or back to PNGs."""

import argparse
import json

from ncdiff_plugin import DEFAULT_QUALITY

from .jobs import Settings
from .run import MANIFEST, run_batch


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("sources", nargs="+", metavar="SRC", help="folders (searched recursively), globs or files")
    p.add_argument("dst", metavar="DST", help="folder of the outputs, at the same relative paths, and manifest.jsonl")
    p.add_argument("--decode", action="store_true", help="decode .ncd files to PNGs instead of encoding images")
    p.add_argument("-q", "--quality", type=int, default=DEFAULT_QUALITY, help=f"1..100 (default {DEFAULT_QUALITY})")
    p.add_argument("--codec", default="auto", help="auto (default), learned or jpeg")
    p.add_argument("--decoder", help="decoder of learned files, for --decode and --psnr (default: base)")
    p.add_argument("--steps", type=int, help="diffusion steps of the decoder")
    p.add_argument("--seed", type=int, help="seed of stochastic decoders")
    p.add_argument("--psnr", action="store_true", help="decode each new file again and record its PSNR")
    p.add_argument("--workers", type=int, default=1, help="worker processes, or Ray actors with --ray (default 1)")
    p.add_argument("--threads", type=int, help="torch threads per worker (default: the cores shared among workers)")
    p.add_argument("--chunk", type=int, default=4, help="images handed to a worker at a time (default 4)")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run the workers on Ray: a local Ray, or the cluster at ADDRESS (ncdiff[ray])")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings(decode=args.decode, quality=args.quality, codec=args.codec, decoder=args.decoder,
                        steps=args.steps, seed=args.seed, measure_psnr=args.psnr)
    ray_address = False if args.ray is None else (args.ray or None)
    summary = run_batch(args.sources, args.dst, settings, workers=args.workers, threads=args.threads,
                        chunk=args.chunk, ray_address=ray_address, progress=not (args.no_progress or args.quiet))
    if not args.quiet:
        print(json.dumps(summary))
        if summary["failed"]:
            print(f"{summary['failed']} file(s) failed: see the lines with an error in {args.dst}/{MANIFEST}")
    return 1 if summary["failed"] else 0
