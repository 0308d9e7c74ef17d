"""The runner: cases in a worker subprocess, so that a crash or a hang is recorded, not fatal."""

import contextlib
import faulthandler
import json
import os
import random
import select
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Dict, Optional, Sequence, Tuple

from .entry_points import ENTRY_POINTS, reference, run_case
from .mutations import OPERATORS, Mutation, random_mutation
from .seeds import build_seeds

def make_case(seeds: Dict[str, bytes], seed: int, index: int, learned_share: float = 0.15,
              ops: Sequence[str] = ()) -> Tuple[str, Mutation]:
    """The deterministic case ``index`` of run ``seed``: (seed file name, mutation).

    ``ops`` restricts the mutation operators (names of :data:`OPERATORS`)."""
    rng = random.Random(f"ncd-fuzz:{seed}:{index}")
    names = sorted(seeds)
    learned = [n for n in names if n.startswith("learned-")]
    other = [n for n in names if n not in learned]
    pool = learned if learned and (not other or rng.random() < learned_share) else other
    name = rng.choice(pool)
    others = [seeds[n] for n in names if n != name]
    exclude = [n for n in OPERATORS if n not in ops] if ops else ()
    return name, random_mutation(seeds[name], rng, others, exclude=exclude)


def _worker(folder: str, seed: int, timeout: float, learned_share: float, ops: Sequence[str] = ()) -> int:
    """Reads case numbers on stdin, writes one JSON result per line."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints (C or Python) must not corrupt the protocol
    sys.stdout = sys.stderr
    seeds = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".ncd"):
            with open(os.path.join(folder, name), "rb") as f:
                seeds[name[:-4]] = f.read()
    workdir = tempfile.mkdtemp(prefix="ncd-fuzz-work-")
    refs = {name: reference(data, workdir) for name, data in seeds.items()}
    out.write(json.dumps({"ready": True}) + "\n")
    hard_limit = timeout * len(ENTRY_POINTS) + 10
    for line in sys.stdin:
        index = int(line)
        name, mutation = make_case(seeds, seed, index, learned_share, ops)
        faulthandler.dump_traceback_later(hard_limit, exit=True)
        try:
            res = run_case(mutation, refs[name], workdir, timeout)
        finally:
            faulthandler.cancel_dump_traceback_later()
        out.write(json.dumps({
            "case": index, "verdict": res.verdict, "seconds": res.seconds, "slowest_entry": res.slowest_entry,
            "summary": res.summary(), "statuses": {n: r.status for n, r in res.entries.items()},
            "slowest_entry_seconds": res.entries[res.slowest_entry].seconds if res.slowest_entry else 0.0,
            "details": {n: r.detail for n, r in res.entries.items() if r.status in ("error", "fail", "slow")},
        }) + "\n")
    return 0


class _Worker:
    def __init__(self, folder, seed, timeout, learned_share, log, ops=()):
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONFAULTHANDLER="1")
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ncdiff_fuzz", "--worker", folder, "--seed", str(seed),
             "--timeout", str(timeout), "--learned-share", str(learned_share), "--ops", ",".join(ops)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, text=True, bufsize=1,
        )
        ready = self.read(600)
        if not isinstance(ready, dict) or not ready.get("ready"):
            raise RuntimeError("the fuzz worker did not start (see its log)")

    def read(self, limit):
        """The next result; "timeout" when none came in ``limit`` s, "exited" when the worker died."""
        ready, _, _ = select.select([self.proc.stdout], [], [], limit)
        if not ready:
            return "timeout"
        line = self.proc.stdout.readline()
        if not line:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            return "exited"
        return json.loads(line)

    def kill(self):
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()


def _crash_report(path: str, offset: int) -> str:
    """The fatal error and Python stack the worker's faulthandler wrote since ``offset``."""
    with open(path, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    keep = [line for line in text.splitlines() if line.startswith(("Fatal Python error", "Timeout", "Thread", "Current thread", "  File"))]
    return "\n".join(keep[:14])


def run(cases: int, seed: int = 0, codecs: Sequence[str] = ("jpeg", "learned"), timeout: float = 5.0,
        learned_share: float = 0.15, start: int = 0, verbose: bool = False, ops: Sequence[str] = ()) -> dict:
    """Runs cases [start, start + cases) in a worker subprocess; prints and returns the figures."""
    from ncdiff_plugin.plugins import get_codecs

    available = [c for c in codecs if c in get_codecs() and get_codecs()[c].unavailable_reason() is None]
    skipped = sorted(set(codecs) - set(available))
    t_start = time.perf_counter()
    folder = tempfile.mkdtemp(prefix="ncd-fuzz-seeds-")
    seeds = build_seeds(available)
    for name, data in seeds.items():
        with open(os.path.join(folder, name + ".ncd"), "wb") as f:
            f.write(data)
    print(f"ncd fuzz: seed {seed}, cases {start}..{start + cases - 1}, codecs {','.join(available)}"
          f"{' (unavailable: ' + ','.join(skipped) + ')' if skipped else ''}, timeout {timeout} s per entry point"
          f"{', operators ' + ','.join(ops) if ops else ''}")
    print("seed files: " + ", ".join(f"{n} ({len(d)} B)" for n, d in sorted(seeds.items())))
    log_path = os.path.join(folder, "worker.log")
    log = open(log_path, "ab")
    worker = _Worker(folder, seed, timeout, learned_share, log, ops)
    hard_limit = timeout * len(ENTRY_POINTS) + 20
    counts = {"pass": 0, "review": 0, "fail": 0}
    crafted_accepted = 0
    per_entry: Dict[str, Dict[str, int]] = {n: {} for n in ENTRY_POINTS}
    per_seed: Dict[str, int] = {}
    failures, reviews = [], []
    slowest = (0.0, None, "", "")
    slowest_completed = (0.0, None, "", "")
    for index in range(start, start + cases):
        name, mutation = make_case(seeds, seed, index, learned_share, ops)
        per_seed[name] = per_seed.get(name, 0) + 1
        log.flush()
        log_offset = os.path.getsize(log_path)
        worker.proc.stdin.write(f"{index}\n")
        worker.proc.stdin.flush()
        t0 = time.perf_counter()
        res = worker.read(hard_limit)
        wall = time.perf_counter() - t0
        if not isinstance(res, dict):
            worker.kill()
            log.flush()
            report = _crash_report(log_path, log_offset)
            if res == "timeout" or report.startswith("Timeout"):
                how = f"hang (no answer in {wall:.0f} s; the watchdog stopped it)"
            else:
                code = worker.proc.returncode
                how = f"crash after {wall:.1f} s (worker exit status {code}" + (f", signal {-code})" if code and code < 0 else ")")
            failures.append((index, name, mutation.description, how + ("\n" + textwrap.indent(report, "      ") if report else "")))
            counts["fail"] += 1
            if wall > slowest[0]:
                slowest = (wall, index, name, mutation.description + f" [{how}]")
            worker = _Worker(folder, seed, timeout, learned_share, log, ops)
            continue
        counts[res["verdict"]] += 1
        for entry, status in res["statuses"].items():
            per_entry[entry][status] = per_entry[entry].get(status, 0) + 1
        if res["verdict"] == "pass" and mutation.crafted and "changed" in res["statuses"].values():
            crafted_accepted += 1
        if res["verdict"] == "fail":
            failures.append((index, name, mutation.description, res["summary"]))
        elif res["verdict"] == "review":
            reviews.append((index, name, mutation.description, res["summary"]))
        if res["seconds"] > slowest[0]:
            slowest = (res["seconds"], index, name, f"{mutation.description} [slowest entry point: "
                                                    f"{res['slowest_entry']}, {res['slowest_entry_seconds']:.3f} s]")
        if res["seconds"] > slowest_completed[0]:
            slowest_completed = (res["seconds"], index, name, slowest[3] if slowest[1] == index else
                                 f"{mutation.description} [slowest entry point: {res['slowest_entry']}, "
                                 f"{res['slowest_entry_seconds']:.3f} s]")
        if verbose:
            print(f"  #{index} {name}: {mutation.description} -> {res['verdict']} {res['summary']}")
        done = index - start + 1
        if done % 500 == 0:
            print(f"  ... {done} cases, {counts['fail']} failures, {counts['review']} to review, "
                  f"{time.perf_counter() - t_start:.0f} s", flush=True)
    worker.proc.stdin.close()
    worker.kill()
    log.close()
    elapsed = time.perf_counter() - t_start
    print(f"cases tried: {cases}")
    print(f"failures: {counts['fail']}")
    print(f"to review (undetected corruption that decoded to other pixels): {counts['review']}")
    print(f"accepted crafted files (re-signed CRCs, decoded to other pixels): {crafted_accepted}")
    if slowest[1] is not None:
        print(f"slowest case: #{slowest[1]}, {slowest[0]:.3f} s over the {len(ENTRY_POINTS)} entry points, "
              f"{slowest[2]}: {slowest[3]}")
    if slowest_completed[1] is not None and slowest_completed[1] != slowest[1]:
        print(f"slowest case that completed: #{slowest_completed[1]}, {slowest_completed[0]:.3f} s, "
              f"{slowest_completed[2]}: {slowest_completed[3]}")
    print("cases per seed file: " + ", ".join(f"{n} {c}" for n, c in sorted(per_seed.items())))
    print("outcomes per entry point:")
    for entry, stats in per_entry.items():
        print(f"  {entry:13} " + ", ".join(f"{k} {v}" for k, v in sorted(stats.items())))
    for title, rows in (("FAILURES", failures), ("TO REVIEW", reviews)):
        if rows:
            print(f"{title} (reproduce one with: python -m ncdiff_fuzz --seed {seed} --case N):")
            for index, name, desc, summary in rows[:50]:
                print(f"  #{index} {name}: {desc}\n      {summary}")
            if len(rows) > 50:
                print(f"  ... {len(rows) - 50} more")
    print(f"wall time: {elapsed:.0f} s")
    return {"cases": cases, "failures": counts["fail"], "review": counts["review"], "crafted_accepted": crafted_accepted,
            "slowest": slowest[:3], "slowest_completed": slowest_completed[:3], "failure_list": failures,
            "review_list": reviews}


def replay(index: int, seed: int = 0, codecs: Sequence[str] = ("jpeg", "learned"), timeout: float = 5.0,
           learned_share: float = 0.15, dump: Optional[str] = None, ops: Sequence[str] = ()) -> int:
    """Runs one case in this process and prints every entry point's outcome."""
    from ncdiff_plugin.plugins import get_codecs

    available = [c for c in codecs if c in get_codecs() and get_codecs()[c].unavailable_reason() is None]
    seeds = build_seeds(available)
    name, mutation = make_case(seeds, seed, index, learned_share, ops)
    print(f"case #{index} (seed {seed}): {name}: {mutation.description}"
          f"{' [crafted]' if mutation.crafted else ''}{' [ancillary]' if mutation.ancillary else ''}")
    if dump:
        with open(dump, "wb") as f:
            f.write(mutation.data)
        print(f"mutated file written to {dump}")
    with tempfile.TemporaryDirectory() as workdir:
        ref = reference(seeds[name], workdir)
        res = run_case(mutation, ref, workdir, timeout)
    for entry, r in res.entries.items():
        print(f"  {entry:13} {r.status:8} {r.seconds:7.3f} s  {r.detail}")
    print(f"verdict: {res.verdict}")
    return 0 if res.verdict != "fail" else 1
