"""Every reader of ``.ncd`` files as one entry point, and the classification of its outcome on a file."""

import contextlib
import hashlib
import io
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

from .mutations import Mutation

ENTRY_POINTS = ("decode", "decode_frames", "inspect", "pillow", "cv_decode", "cv_imdecode", "cli_info", "cli_decode")


class Documented(Exception):
    """Raised by an entry wrapper when the entry point refused the file as documented."""


class Unexpected(Exception):
    """Raised by an entry wrapper when an entry point misbehaved without an exception."""


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def _image_fp(img) -> str:
    return _digest(img.mode, img.size, img.tobytes())


def _meta_fp(info: dict) -> str:
    return _digest(*(bytes(info.get(k) or b"") for k in ("exif", "icc_profile", "xmp")))


def _ncd_error(exc) -> bool:
    from ncdiff_plugin.errors import NCDError

    return isinstance(exc, NCDError)


def _refused_as_documented(call, *args):
    """``call(*args)``, with an NCDError (a documented refusal) turned into Documented."""
    from ncdiff_plugin.errors import NCDError

    try:
        return call(*args)
    except NCDError as exc:
        raise Documented(exc) from None


def e_decode(data: bytes, workdir: str):
    from ncdiff_plugin import api

    img = _refused_as_documented(api.decode, data)
    return _image_fp(img), _meta_fp(img.info)


def e_decode_frames(data: bytes, workdir: str):
    from ncdiff_plugin import api

    imgs = _refused_as_documented(api.decode_frames, data)
    return (_digest(*[(_image_fp(i), i.info.get("pts"), i.info.get("duration")) for i in imgs]),
            _digest(*[_meta_fp(i.info) for i in imgs]))


_VOLATILE = ("chunks", "file_bytes", "bpp", "metadata")


def _structure_fp(info: dict):
    return _digest(json.dumps({k: v for k, v in info.items() if k not in _VOLATILE}, sort_keys=True)), \
        _digest(json.dumps(info["metadata"], sort_keys=True))


def e_inspect(data: bytes, workdir: str):
    from ncdiff_plugin import api

    info = _refused_as_documented(api.inspect, data)
    return _structure_fp(info)


def e_pillow(data: bytes, workdir: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != "NCD":
                raise Documented(f"opened as {im.format}")
            parts, meta = [], _meta_fp(im.info)
            for i in range(getattr(im, "n_frames", 1)):
                im.seek(i)
                im.load()
                parts.append((_image_fp(im), im.info.get("timestamp"), im.info.get("duration")))
            return _digest(im.size, im.mode, *parts), meta
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise Documented(exc) from None
    except Documented:
        raise
    except Exception as exc:
        if _ncd_error(exc):
            raise Documented(exc) from None
        raise


def e_cv_decode(data: bytes, workdir: str):
    import numpy as np

    import cv_ncd

    try:
        arr = cv_ncd.decode(np.frombuffer(data, np.uint8))
    except Exception as exc:
        import cv2

        if isinstance(exc, cv_ncd.error) and _ncd_error(exc) and isinstance(exc, cv2.error):
            raise Documented(exc) from None
        raise
    return _digest(arr.shape, arr.dtype.str, arr.tobytes()), ""


def e_cv_imdecode(data: bytes, workdir: str):
    import numpy as np

    import cv_ncd

    try:
        arr = cv_ncd.imdecode(np.frombuffer(data, np.uint8), cv_ncd.IMREAD_UNCHANGED)
    except Exception as exc:
        import cv2

        if not data and isinstance(exc, cv2.error):
            raise Documented(f"cv2 refuses an empty buffer: {exc}") from None
        raise
    if arr is None:
        return None
    return _digest(arr.shape, arr.dtype.str, arr.tobytes()), ""


def _run_cli(argv: List[str]):
    from ncdiff_plugin import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(argv)
    return rc, out.getvalue(), err.getvalue()


def _check_cli_error(rc, err, workdir, output=None):
    if rc != 1:
        raise Unexpected(f"exit status {rc}, stderr {err[-300:]!r}")
    lines = err.strip().splitlines()
    if len(lines) != 1 or not lines[0].startswith("ncd: error: "):
        raise Unexpected(f"stderr is not one 'ncd: error:' line: {err[-300:]!r}")
    if output and os.path.exists(output):
        raise Unexpected("a failed decode left its output file")
    leftovers = [n for n in os.listdir(workdir) if n.startswith(".ncd-")]
    if leftovers:
        raise Unexpected(f"temporary files left behind: {leftovers}")
    raise Documented(lines[0])


def _write_input(data: bytes, workdir: str) -> str:
    path = os.path.join(workdir, "in.ncd")
    with open(path, "wb") as f:
        f.write(data)
    return path


def e_cli_info(data: bytes, workdir: str):
    path = _write_input(data, workdir)
    rc, out, err = _run_cli(["info", path])
    if rc != 0:
        _check_cli_error(rc, err, workdir)
    rc, out, err = _run_cli(["info", path, "--json"])
    if rc != 0:
        raise Unexpected(f"'ncd info' succeeded but 'ncd info --json' exited {rc}: {err[-300:]!r}")
    return _structure_fp(json.loads(out))


def e_cli_decode(data: bytes, workdir: str):
    from PIL import Image

    path = _write_input(data, workdir)
    output = os.path.join(workdir, "out.png")
    if os.path.exists(output):
        os.unlink(output)
    rc, out, err = _run_cli(["decode", path, output, "--quiet"])
    if rc != 0:
        _check_cli_error(rc, err, workdir, output)
    try:
        with Image.open(output) as im:
            im.load()
            return _image_fp(im), _digest(im.info.get("icc_profile") or b"")
    finally:
        os.unlink(output)


ENTRY_FUNCS = {
    "decode": e_decode, "decode_frames": e_decode_frames, "inspect": e_inspect, "pillow": e_pillow,
    "cv_decode": e_cv_decode, "cv_imdecode": e_cv_imdecode, "cli_info": e_cli_info, "cli_decode": e_cli_decode,
}


@dataclass
class EntryResult:
    status: str  # error / none / same / meta / changed / fail / slow
    detail: str
    seconds: float


@dataclass
class CaseResult:
    verdict: str  # pass / review / fail
    entries: Dict[str, EntryResult] = field(default_factory=dict)
    seconds: float = 0.0
    slowest_entry: str = ""

    def summary(self) -> str:
        bad = [f"{n}: {r.status} ({r.detail})" for n, r in self.entries.items() if r.status in ("fail", "slow", "changed", "meta")]
        return "; ".join(bad) or "ok"


def run_entry(name: str, data: bytes, workdir: str):
    """(status, detail or fingerprints, seconds) of one entry point on one file."""
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = ENTRY_FUNCS[name](data, workdir)
        status, detail = ("none", "None") if result is None else ("ok", result)
    except Documented as exc:
        status, detail = "error", f"{type(exc.args[0]).__name__ if exc.args and isinstance(exc.args[0], BaseException) else 'refused'}: {str(exc)[:160]}"
    except Unexpected as exc:
        status, detail = "fail", str(exc)[:300]
    except Exception as exc:  # MemoryError, RecursionError... all are failures
        status, detail = "fail", f"{type(exc).__name__}: {str(exc)[:240]}"
    return status, detail, time.perf_counter() - t0


def reference(data: bytes, workdir: str, entries: Sequence[str] = ENTRY_POINTS) -> Dict[str, tuple]:
    """Fingerprints of every entry point's result on a valid file."""
    ref = {}
    for name in entries:
        status, detail, _ = run_entry(name, data, workdir)
        if status != "ok":
            raise RuntimeError(f"{name} fails on the unmutated seed: {status} {detail}")
        ref[name] = detail
    return ref


def run_case(mutation: Mutation, ref: Dict[str, tuple], workdir: str, timeout: float = 5.0,
             entries: Sequence[str] = ENTRY_POINTS) -> CaseResult:
    """Runs one mutated file through the entry points and classifies the outcome."""
    result = CaseResult(verdict="pass")
    for name in entries:
        status, detail, seconds = run_entry(name, mutation.data, workdir)
        if status == "ok":
            pix, meta = detail
            if pix != ref[name][0]:
                status, detail = "changed", "decoded to other pixels / structure"
            elif meta != ref[name][1]:
                status, detail = "meta", "same pixels, other metadata"
            else:
                status, detail = "same", ""
        if seconds > timeout and status != "fail":
            status, detail = "slow", f"{seconds:.2f} s (limit {timeout} s); outcome {status} {detail}"
        result.entries[name] = EntryResult(status, detail, seconds)
        result.seconds += seconds
        if not result.slowest_entry or seconds > result.entries[result.slowest_entry].seconds:
            result.slowest_entry = name
    statuses = {r.status for r in result.entries.values()}
    if statuses & {"fail", "slow"}:
        result.verdict = "fail"
    elif "changed" in statuses and not mutation.crafted:
        result.verdict = "review"
    elif "meta" in statuses and not (mutation.crafted or mutation.ancillary):
        result.verdict = "review"
    return result
