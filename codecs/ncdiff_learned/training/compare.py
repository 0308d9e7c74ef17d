"""``ncd train base --candidates A,B,... --time-limit S``: the learning-speed instrument.

Trains each candidate recipe for the same training time with the same seed,
probing Kodak rate and PSNR at fixed intervals (``probe.RateProbe``), then
prints one table and writes ``compare.md`` and ``curves.png``.  Each candidate
keeps its own resumable workdir, so an interrupted comparison continues, and
the winner's checkpoint is where longer training starts.
"""

import argparse
import json
import os

from ncdiff_bench.bdrate import bd_rate
from ncdiff_plugin.extras import require

from . import base
from .probe import RateProbe
from .recipes import CANDIDATES


def read_probes(log_path: str):
    """The ``{"eval": ...}`` rows of a training log, in order."""
    with open(log_path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if "eval" in r]


def _final_points(probes):
    last = probes[-1]["eval"]
    qualities = sorted(last, key=lambda k: int(k[1:]))
    return qualities, [last[q][0] for q in qualities], [last[q][1] for q in qualities]


def summarize(names, probes_by_name) -> str:
    """The equal-time table: steps, speed, final probe points and BD-rate against the first candidate."""
    qualities, ref_bpp, ref_psnr = _final_points(probes_by_name[names[0]])
    head = ["candidate", "steps", "steps/s", *[f"{q} bpp / dB" for q in qualities], f"BD-rate vs {names[0]}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in names:
        probes = probes_by_name[name]
        last = probes[-1]
        _, bpp, psnr = _final_points(probes)
        bd = bd_rate(ref_bpp, ref_psnr, bpp, psnr)
        cells = [name, str(last["step"]), f"{last['step'] / max(last['wall_s'], 1e-9):.2f}",
                 *[f"{b:.3f} / {p:.2f}" for b, p in zip(bpp, psnr)], "n/a" if bd != bd else f"{bd:+.1f}%"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def curves_table(names, probes_by_name) -> str:
    """Every probe of every candidate: training time, step, and bpp / PSNR per quality."""
    qualities = _final_points(probes_by_name[names[0]])[0]
    lines = ["| candidate | train s | step | " + " | ".join(qualities) + " |", "|" + "---|" * (3 + len(qualities))]
    for name in names:
        for row in probes_by_name[name]:
            cells = [f"{row['eval'][q][0]:.3f} / {row['eval'][q][1]:.2f}" for q in qualities]
            lines.append(f"| {name} | {row['wall_s']:.0f} | {row['step']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_curves(names, probes_by_name, path: str) -> None:
    matplotlib = require("matplotlib", "plots")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    qualities = _final_points(probes_by_name[names[0]])[0]
    fig, (ax_t, ax_rd) = plt.subplots(1, 2, figsize=(13, 5), dpi=110)
    colours = matplotlib.colormaps["tab10"]
    styles = ("-", "--", "-.", ":")
    try:
        for i, name in enumerate(names):
            probes = probes_by_name[name]
            minutes = [r["wall_s"] / 60 for r in probes]
            for j, q in enumerate(qualities):
                ax_t.plot(minutes, [r["eval"][q][1] for r in probes], styles[j % 4], color=colours(i % 10),
                          label=f"{name} {q}" if j == 0 else None, linewidth=1.2)
            _, bpp, psnr = _final_points(probes)
            ax_rd.plot(bpp, psnr, "o-", color=colours(i % 10), label=name, markersize=3)
        ax_t.set_xlabel("training minutes")
        ax_t.set_ylabel("probe PSNR (dB); line style = quality " + ", ".join(qualities))
        ax_t.grid(True, alpha=0.3)
        ax_t.legend(fontsize=7)
        ax_rd.set_xlabel("probe bpp")
        ax_rd.set_ylabel("probe PSNR (dB)")
        ax_rd.set_title("at the end of the equal training time")
        ax_rd.grid(True, alpha=0.3)
        ax_rd.legend(fontsize=7)
        fig.savefig(path, bbox_inches="tight")
    finally:
        plt.close(fig)


def compare(args: argparse.Namespace) -> int:
    from .cli import resolve

    names = [n.strip() for n in args.candidates.split(",") if n.strip()]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        raise SystemExit(f"unknown candidate(s) {', '.join(unknown)}; choose from {', '.join(CANDIDATES)}")
    if args.model != "base" or not args.time_limit or not args.eval_data:
        raise SystemExit("--candidates compares base-codec recipes: give --time-limit (seconds each) and --eval-data")
    root = args.workdir or "runs/compare"
    probe = None
    for name in names:
        candidate = argparse.Namespace(**vars(args))
        candidate.candidates, candidate.export, candidate.export_to = None, False, None
        # Equal CPU time rather than wall-clock time.  Run nothing else meanwhile all the same:
        # two multi-threaded processes on two cores slow each other more than their CPU time shows.
        candidate.clock = "cpu"
        candidate.workdir = os.path.join(root, name)
        resolve(candidate, CANDIDATES[name])
        if probe is None:
            probe = RateProbe(args.eval_data, args.eval_images, device=candidate.device)
        print(f"== candidate {name}: {json.dumps(CANDIDATES[name])}")
        base.train(candidate, probe)
    write_report(args, names, root, threads=candidate.threads)
    return 0


def write_report(args, names, root: str, threads: int) -> None:
    """Prints the table and writes compare.md and curves.png into ``args.report`` (default: ``root``)."""
    probes = {name: read_probes(os.path.join(root, name, "base.log.jsonl")) for name in names}
    table = summarize(names, probes)
    print(table)
    report = args.report or root
    os.makedirs(report, exist_ok=True)
    plot_curves(names, probes, os.path.join(report, "curves.png"))
    with open(os.path.join(report, "compare.md"), "w") as f:
        f.write(f"# Equal-time comparison of base-codec recipes\n\n{args.time_limit:.0f} CPU seconds per thread of "
                f"training each ({threads} threads), seed {args.seed}, recipe `{args.recipe}`; probe: the first "
                f"{args.eval_images} images of `{args.eval_data}`, one forward pass per quality (hard "
                f"quantisation, rate from the likelihoods). BD-rate from the four end points of each "
                f"candidate against the first.\n\n")
        f.write("Candidates:\n\n" + "\n".join(f"- `{n}`: `{json.dumps(CANDIDATES[n])}`" for n in names) + "\n\n")
        f.write("## At the end\n\n" + table + "\n\n![curves](curves.png)\n\n## Every probe\n\n")
        f.write(curves_table(names, probes) + "\n")
    print(f"report: {os.path.join(report, 'compare.md')}")
