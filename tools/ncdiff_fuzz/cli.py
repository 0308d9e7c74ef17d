"""The fuzzer's command line: ``python -m ncdiff_fuzz`` and ``ncd fuzz``."""

import argparse

from .mutations import OPERATORS
from .runner import _worker, replay, run


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cases", type=int, default=1000, help="number of cases (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="run seed: the same seed gives the same cases")
    p.add_argument("--start", type=int, default=0, help="first case number (default 0)")
    p.add_argument("--codecs", default="jpeg,learned", help="codecs of the seed files (default jpeg,learned)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds allowed per entry point and case (default 5)")
    p.add_argument("--learned-share", type=float, default=0.15, help="share of cases on learned seeds (default 0.15)")
    p.add_argument("--ops", default="", help=f"only these mutation operators (comma-separated: {', '.join(OPERATORS)})")
    p.add_argument("--case", type=int, help="replay one case in-process, with every entry point's outcome")
    p.add_argument("--dump", help="with --case: write the mutated file here")
    p.add_argument("-v", "--verbose", action="store_true", help="print every case")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.set_defaults(func=lambda args: run_args(p, args))


def run_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    codecs = [c.strip() for c in args.codecs.split(",") if c.strip()]
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    unknown = set(ops) - set(OPERATORS)
    if unknown:
        p.error(f"unknown operators {sorted(unknown)}; choose from {', '.join(OPERATORS)}")
    if args.worker:
        return _worker(args.worker, args.seed, args.timeout, args.learned_share, ops)
    if args.case is not None:
        return replay(args.case, args.seed, codecs, args.timeout, args.learned_share, args.dump, ops)
    figures = run(args.cases, args.seed, codecs, args.timeout, args.learned_share, args.start, args.verbose, ops)
    return 1 if figures["failures"] else 0


def main(argv=None) -> int:
    from . import __doc__ as doc

    p = argparse.ArgumentParser(prog="python -m ncdiff_fuzz", description=doc.split("\n\n")[0])
    add_arguments(p)
    args = p.parse_args(argv)
    return args.func(args)
