"""Robustness against files from strangers: fuzzing, limits, corruption, threads, weights, files.

The long fuzzing run is ``python -m ncdiff_fuzz --cases N``; here a
bounded, deterministic version runs through hypothesis.
"""

import concurrent.futures
import faulthandler
import io
import os
import random
import re
import struct
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import ncdiff_fuzz as fuzz
import ncdiff_plugin as ncd
from conftest import ROOT
from ncdiff_plugin import cli, container, options

TIMEOUT = 5.0  # seconds per entry point and case, as the long run


def _learned_available() -> bool:
    codec = ncd.get_codecs().get("learned")
    return codec is not None and codec.unavailable_reason() is None


LEARNED = _learned_available()
needs_learned = pytest.mark.skipif(not LEARNED, reason="the learned codec cannot run here")


# -- seeds and their reference results, built once ------------------------------------------

JPEG_SEEDS = [s for s in fuzz.seed_specs(["jpeg"])]
LEARNED_SEEDS = [s for s in fuzz.seed_specs(["learned"]) if s[3] == 1] if LEARNED else []
_cache: dict = {}


def _seed(name):
    if name not in _cache:
        spec = next(s for s in JPEG_SEEDS + LEARNED_SEEDS if s[0] == name)
        _cache[name] = fuzz.build_seed(*spec[1:])
    return _cache[name]


def _reference(name, workdir):
    key = ("ref", name)
    if key not in _cache:
        _cache[key] = fuzz.reference(_seed(name), workdir)
    return _cache[key]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("fuzz"))


# -- bounded fuzzing ----------------------------------------------------------------------------

# Mostly JPEG seeds (every mode and frame count), a few learned ones.
_NAMES = [s[0] for s in JPEG_SEEDS] * 4 + [s[0] for s in LEARNED_SEEDS]


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(_NAMES), case=st.integers(0, 2**32 - 1), stack=st.sampled_from([1, 1, 1, 2, 3]))
def test_mutated_files_end_in_documented_errors(workdir, name, case, stack):
    data = _seed(name)
    others = [_seed(n) for n in sorted(set(_NAMES)) if n != name and n.startswith(name.split("-")[0])]
    mutation = fuzz.random_mutation(data, random.Random(case), others, stack=stack)
    ref = _reference(name, workdir)
    faulthandler.dump_traceback_later(TIMEOUT * len(fuzz.ENTRY_POINTS) + 60, exit=True)  # hang watchdog
    try:
        result = fuzz.run_case(mutation, ref, workdir, TIMEOUT)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert result.verdict == "pass", (
        f"{name}, random_mutation(seed, random.Random({case}), stack={stack}): {mutation.description} "
        f"-> {result.verdict}: {result.summary()}"
    )


def test_fuzz_primitives_are_pure_and_resign_is_exact():
    data = _seed("jpeg-RGBA-3f")
    copy = bytes(data)
    spans = fuzz.chunk_spans(data)
    assert [fuzz.chunk_kind(data, s) for s in spans] == [b"NHDR", b"FRAM", b"DATA", b"ALPH"] * 1 + [
        b"FRAM", b"DATA", b"ALPH", b"FRAM", b"DATA", b"ALPH", b"NEND"]
    assert fuzz.swap_chunks(fuzz.swap_chunks(data, 2, 5), 2, 5) == data
    assert fuzz.drop_chunk(fuzz.duplicate_chunk(data, 3), 3) == data
    assert fuzz.resign(data) == data  # recomputing the sequence checksum of a valid file changes nothing
    assert fuzz.rewrite_header(data) == data
    assert fuzz.header_fields(data)["sequence_crc"] == container.read(data).header.sequence_crc
    for op in fuzz.OPERATORS:
        fuzz.random_mutation(data, random.Random(op), [_seed("jpeg-L-1f")], exclude=set(fuzz.OPERATORS) - {op})
    assert data == copy


def test_fuzz_runner_prints_its_figures():
    proc = subprocess.run([sys.executable, "-m", "ncdiff_fuzz", "--cases", "40", "--codecs", "jpeg", "--seed", "7"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "cases tried: 40" in proc.stdout and "failures: 0" in proc.stdout
    assert re.search(r"slowest case: #\d+, [\d.]+ s", proc.stdout)


# -- corruption: every single-bit flip ---------------------------------------------------------


@pytest.mark.parametrize("name", ["jpeg-L-1f", "jpeg-RGB-1f", "jpeg-LA-1f"])
def test_every_single_bit_flip_is_detected(name):
    """Each flip lands in the signature (NotNCDError), a length (TruncatedError /
    ChecksumError...) or a CRC-covered type, body or CRC (ChecksumError)."""
    data = _seed(name)
    assert len(data) < 1000
    seen = {}
    for bit in range(len(data) * 8):
        flipped = fuzz.flip_bit(data, bit)
        for read in (ncd.decode, ncd.inspect):
            try:
                read(flipped)
            except ncd.NCDError as exc:
                seen[type(exc).__name__] = seen.get(type(exc).__name__, 0) + 1
                if bit >= 8 * len(container.SIGNATURE):
                    assert not isinstance(exc, ncd.NotNCDError), bit
            else:
                pytest.fail(f"flipping bit {bit} (byte {bit // 8}) of {name} went undetected by {read.__name__}")
    assert seen.get("ChecksumError", 0) > 0.8 * sum(seen.values())
    assert seen["NotNCDError"] == 2 * 8 * len(container.SIGNATURE)


@needs_learned
def test_every_single_bit_flip_of_a_learned_file_is_detected():
    data = _seed("learned-L-1f")
    for bit in range(len(data) * 8):
        with pytest.raises(ncd.NCDError):
            container.read(fuzz.flip_bit(data, bit))


# -- chunk order: the sequence checksum (format 1.1) -------------------------------------------


def test_payload_moved_between_frames_is_detected():
    data = _seed("jpeg-RGB-3f")
    kinds = [fuzz.chunk_kind(data, s) for s in fuzz.chunk_spans(data)]
    first, second = [i for i, k in enumerate(kinds) if k == b"DATA"][:2]
    for bad in (fuzz.swap_chunks(data, first, second), fuzz.duplicate_chunk(data, first),
                fuzz.insert_chunk(data, second, fuzz.make_chunk(b"DATA", b"\xff\xd8"))):
        with pytest.raises(ncd.ChecksumError, match="sequence checksum"):
            ncd.inspect(bad)
        with pytest.raises(ncd.ChecksumError):
            Image.open(io.BytesIO(bad)).load()
    assert ncd.inspect(data)["format_version"] == "1.1"


def test_version_1_0_files_still_read_and_newer_minor_fields_ignored():
    data = _seed("jpeg-RGB-3f")
    fields = fuzz.header_fields(data)
    v10 = fuzz.rewrite_header(data, minor=0, sequence_crc=None)
    assert ncd.inspect(v10)["format_version"] == "1.0"
    assert np.array_equal(np.asarray(ncd.decode(v10, frame=2)), np.asarray(ncd.decode(data, frame=2)))
    # A 1.0 file has no sequence checksum to check: a swap is then caught only if a codec notices.
    assert container.read(v10).header.sequence_crc is None
    v19 = fuzz.rewrite_header(data, minor=9, extra=b"future")
    assert ncd.inspect(v19)["format_version"] == "1.9"
    with pytest.raises(ncd.CorruptFileError, match="trailing"):
        ncd.inspect(fuzz.rewrite_header(data, extra=b"x"))
    with pytest.raises(ncd.CorruptFileError, match="sequence checksum"):
        ncd.inspect(fuzz.rewrite_header(data, sequence_crc=None))  # minor 1 without its field
    assert fields["minor"] == 1


# -- limits -------------------------------------------------------------------------------------


def test_pillow_open_raises_decompression_bomb_error_from_the_header():
    data = fuzz.rewrite_header(_seed("jpeg-RGB-1f"), width=20_000, height=20_000)
    t = time.perf_counter()
    with pytest.raises(Image.DecompressionBombError) as info:
        Image.open(io.BytesIO(data))
    assert isinstance(info.value, ncd.ImageTooLargeError) and "MAX_IMAGE_PIXELS" in str(info.value)
    many = fuzz.rewrite_header(_seed("jpeg-RGB-1f"), frame_count=options.MAX_FRAMES + 1)
    with pytest.raises(ncd.ImageTooLargeError, match="MAX_FRAMES"):
        Image.open(io.BytesIO(many))
    assert time.perf_counter() - t < 1.0


def test_other_major_version_names_itself_through_pillow():
    data = fuzz.rewrite_header(_seed("jpeg-RGB-1f"), major=2)
    with pytest.raises(ncd.UnsupportedVersionError, match="upgrade"):
        Image.open(io.BytesIO(data))


@pytest.mark.parametrize("size", [(2**32 - 1, 2**32 - 1), (2**32 - 1, 1), (1, 2**32 - 1)])
def test_absurd_sizes_refused_from_the_header_without_allocation(size, monkeypatch):
    data = fuzz.rewrite_header(_seed("jpeg-L-1f"), width=size[0], height=size[1])
    for read in (ncd.decode, ncd.inspect, lambda d: Image.open(io.BytesIO(d))):
        with pytest.raises(ncd.ImageTooLargeError):
            read(data)
    # With ncdiff's limit off, the payload's own size check refuses it before any pixel is allocated
    # (and Image.open still applies Pillow's own limit).
    monkeypatch.setattr(options, "MAX_IMAGE_PIXELS", None)
    monkeypatch.setattr(options, "MAX_TOTAL_PIXELS", None)
    t = time.perf_counter()
    with pytest.raises(ncd.CorruptFileError, match="header says"):
        ncd.decode(data)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))
    assert time.perf_counter() - t < 1.0


def test_declared_frame_count_allocates_nothing_per_frame():
    data = fuzz.rewrite_header(_seed("jpeg-L-1f"), frame_count=options.MAX_FRAMES)
    t = time.perf_counter()
    with pytest.raises(ncd.CorruptFileError, match="holds 1"):
        ncd.decode_frames(data)
    im = Image.open(io.BytesIO(data))  # header only: opening is allowed
    assert im.n_frames == options.MAX_FRAMES
    with pytest.raises(ncd.CorruptFileError):
        im.load()
    assert time.perf_counter() - t < 1.0


class _NoSeekEnd(io.BufferedReader):
    """A stream that can tell its position but not its size (no SEEK_END), as some wrappers."""

    def seek(self, pos, whence=0):
        if whence == io.SEEK_END:
            raise io.UnsupportedOperation("cannot seek from the end")
        return super().seek(pos, whence)


@pytest.mark.parametrize("length", [2**31 - 1, 2**32 - 1, 100_000])
def test_chunk_lengths_checked_against_the_file(length):
    import tracemalloc

    data = _seed("jpeg-RGB-3f")
    for index in range(len(fuzz.chunk_spans(data))):
        bad = fuzz.set_chunk_length(data, index, length)
        with pytest.raises((ncd.TruncatedError, ncd.CorruptFileError)):
            ncd.inspect(bad)
        # Where the size cannot be known, what is read is bounded by the data present:
        # no allocation of the declared length.
        tracemalloc.start()
        try:
            with pytest.raises((ncd.TruncatedError, ncd.CorruptFileError, ncd.ChecksumError)):
                container.read(_NoSeekEnd(io.BytesIO(bad)))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 64 * 2**20, (index, peak)


# -- threads --------------------------------------------------------------------------------------


def _jobs(codec, n):
    imgs = [fuzz.seed_image(mode, v) for v, mode in zip(range(n), ["RGB", "L", "RGBA", "RGB"] * n)]
    return [(img, 30 + 7 * i) for i, img in enumerate(imgs)]


@pytest.mark.parametrize("codec", ["jpeg", pytest.param("learned", marks=needs_learned)])
def test_eight_threads_match_serial_runs(codec):
    jobs = _jobs(codec, 8 if codec == "jpeg" else 4)
    serial_files = [ncd.encode(img, quality=q, codec=codec) for img, q in jobs]
    serial_pixels = [np.asarray(ncd.decode(f)) for f in serial_files]

    def encode(job):
        return ncd.encode(job[0], quality=job[1], codec=codec)

    def decode(data):
        return np.asarray(ncd.decode(data))

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        # Encodes and decodes at once, interleaved.
        enc = [pool.submit(encode, job) for job in jobs]
        dec = [pool.submit(decode, f) for f in serial_files]
        files = [f.result() for f in enc]
        pixels = [f.result() for f in dec]
        again = list(pool.map(decode, files * (2 if codec == "jpeg" else 1)))
    assert files == serial_files
    for a, b in zip(pixels + again, serial_pixels * 3):
        assert np.array_equal(a, b)


@needs_learned
def test_learned_model_is_loaded_once_and_shared(monkeypatch):
    import ncdiff_learned
    from ncdiff_learned import weights

    loads = []
    original = weights.load_inference_model

    def counting(path):
        loads.append(threading.get_ident())
        time.sleep(0.2)  # widen the window in which a second load could start
        return original(path)

    monkeypatch.setattr(weights, "load_inference_model", counting)
    codec = ncdiff_learned.LearnedCodec()  # fresh: its model is not loaded yet
    barrier = threading.Barrier(8)

    def use(_):
        barrier.wait()
        model = codec._load()
        return id(model), codec.model_info()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(use, range(8)))
    assert len(loads) == 1
    assert len({s[0] for s in seen}) == 1 and len({s[1] for s in seen}) == 1
    # The registered codec too keeps one model across the API's calls.
    shared = ncd.get_codecs()["learned"]
    model = shared._load()
    ncd.decode(ncd.encode(fuzz.seed_image("RGB"), 40, "learned"))
    assert shared._load() is model


# -- weights --------------------------------------------------------------------------------------

_PACKAGES = ["ncdiff_plugin", "codecs", "adapters", "tools"]
_UNPICKLING = re.compile(
    r"^\s*(import|from)\s+(c?pickle|_pickle|dill|joblib|shelve|marshal|cloudpickle)\b"
    r"|\b(pickle|cPickle|_pickle|dill|joblib|marshal|cloudpickle)\.loads?\s*\("
    r"|\btorch\.(jit\.)?load\s*\(|\bshelve\.open\s*\(|allow_pickle\s*=\s*True|weights_only\s*=\s*False"
    r"|\bUnpickler\b",
    re.M,
)


def test_nothing_is_unpickled_anywhere_in_the_package():
    offenders, scanned = [], 0
    for top in _PACKAGES:
        for folder, _, names in os.walk(os.path.join(ROOT, top)):
            for name in names:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    scanned += 1
                    for m in _UNPICKLING.finditer(open(path, encoding="utf-8").read()):
                        offenders.append(f"{os.path.relpath(path, ROOT)}: {m.group(0).strip()}")
    assert scanned > 30 and not offenders, offenders


def test_only_safetensors_weights_are_shipped():
    weights_dir = os.path.join(ROOT, "codecs", "ncdiff_learned", "weights")
    pickled = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin", ".npy", ".npz", ".joblib")
    for folder, _, names in os.walk(os.path.join(ROOT, "codecs")):
        for name in names:
            assert not name.endswith(pickled), os.path.join(folder, name)
    assert any(n.endswith(".safetensors") for n in os.listdir(weights_dir))


@needs_learned
def test_a_pickle_posing_as_weights_is_never_unpickled(tmp_path):
    import pickle  # to build the hostile file only

    from ncdiff_learned import LearnedCodec

    marker = tmp_path / "unpickled"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "base.safetensors"
    evil.write_bytes(pickle.dumps({"state_dict": Evil()}))
    with pytest.raises(Exception):
        LearnedCodec(weights_path=str(evil)).model_info()
    assert not marker.exists()


@needs_learned
def test_tampered_weights_file_is_refused(tmp_path):
    """A weights file whose bytes differ from those a file was encoded with is refused, both ways."""
    from ncdiff_learned import LearnedCodec

    shared = ncd.get_codecs()["learned"]
    raw = bytearray(open(shared.weights_path, "rb").read())
    header_len = int.from_bytes(raw[:8], "little")
    raw[8 + header_len + 1000] ^= 0x01  # one low bit of one weight: still a loadable file
    tampered_path = tmp_path / "base.safetensors"
    tampered_path.write_bytes(bytes(raw))
    tampered = LearnedCodec(weights_path=str(tampered_path))
    assert tampered.model_info()[0] == shared.model_info()[0]  # same model id...
    assert tampered.model_info()[1] != shared.model_info()[1]  # ...other sha256

    genuine = container.read(ncd.encode(fuzz.seed_image("RGB"), 50, "learned"))
    with pytest.raises(ncd.WeightsMismatchError, match="installed weights"):
        tampered.decode_batch([genuine.frames[0].payloads], genuine.header)
    # A file made with the tampered weights names their hash, which the installed weights refuse.
    forged = container.Container(header=genuine.header, frames=[container.Frame(
        payloads=tampered.encode(fuzz.seed_image("RGB"), 50))])
    forged.header.weights_hash = tampered.model_info()[1]
    with pytest.raises(ncd.WeightsMismatchError):
        ncd.decode(container.write(forged))


_FORGED_SIZE_SCRIPT = textwrap.dedent('''
    import sys
    from PIL import Image
    import ncdiff_plugin as ncd
    from ncdiff_plugin import container
    img = Image.open(sys.argv[1]).convert("RGB").crop((100, 60, 148, 92))
    parsed = container.read(ncd.encode(img, quality=50, codec="learned"))
    cases = (((1200, 800), [b""] * 3), ((1200, 800), [bytes(8)] * 3), ((1200, 800), [bytes(range(256))] * 3),
             ((5000, 5000), parsed.frames[0].payloads))
    for size, streams in cases:
        parsed.header.width, parsed.header.height = size
        parsed.frames[0].payloads = streams
        try:
            ncd.decode(container.write(parsed))
            print("decoded", flush=True)
        except ncd.NCDError as exc:
            print(type(exc).__name__, flush=True)
''')


@needs_learned
def test_learned_forged_size_does_not_crash():
    """Well-formed learned files (every CRC valid) that declare a large image with streams that
    cannot fill it end in an NCDError or decode to garbage, never in a crash: CompressAI's rANS
    decoder does not check stream ends, so the codec pads them (LearnedCodec._padded)."""
    from conftest import SAMPLES

    proc = subprocess.run([sys.executable, "-c", _FORGED_SIZE_SCRIPT, os.path.join(SAMPLES, "kodim23-half.png")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"exit status {proc.returncode}: {proc.stderr[-500:]}"
    # Empty streams are refused; forged 8- and 256-byte streams decode to garbage (a forger who
    # recomputes every CRC can always do that) or fail as corrupt; the size over the codec's
    # limit is refused from the header.
    outcomes = proc.stdout.split()
    assert outcomes[0] == "CorruptFileError" and outcomes[3] == "ImageTooLargeError"
    assert set(outcomes[1:3]) <= {"decoded", "CorruptFileError"}


# -- the CLI's files -------------------------------------------------------------------------------


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "in.png"
    fuzz.seed_image("RGB").save(path)
    return path


def _leftovers(folder):
    return [n for n in os.listdir(folder) if n.startswith(".ncd-")]


def test_ctrl_c_while_encoding_leaves_the_old_output(png, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out.ncd"
    out.write_bytes(b"precious")

    def interrupted(fd):
        raise KeyboardInterrupt  # after the data was written to the temporary file, before the rename

    monkeypatch.setattr(os, "fsync", interrupted)
    assert cli.main(["encode", str(png), str(out), "--codec", "jpeg", "-f"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert out.read_bytes() == b"precious" and not _leftovers(tmp_path)


def test_ctrl_c_while_decoding_leaves_no_partial_output(png, tmp_path, monkeypatch):
    src = tmp_path / "in.ncd"
    src.write_bytes(ncd.encode(Image.open(png), codec="jpeg"))
    old, new = tmp_path / "old.png", tmp_path / "new.png"
    old.write_bytes(b"precious")
    real_save = Image.Image.save

    def half_then_interrupt(self, fp, format=None, **params):
        real_save(self, fp, format=format, **params)
        with open(fp, "r+b") as f:
            f.truncate(10)  # a partial file on disk...
        raise KeyboardInterrupt  # ...and Ctrl-C

    monkeypatch.setattr(Image.Image, "save", half_then_interrupt)
    assert cli.main(["decode", str(src), str(old), "-f"]) == 130
    assert cli.main(["decode", str(src), str(new)]) == 130
    assert old.read_bytes() == b"precious" and not new.exists() and not _leftovers(tmp_path)


def test_failed_write_leaves_nothing(png, tmp_path, monkeypatch, capsys):
    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "out.ncd"
    assert cli.main(["encode", str(png), str(out), "--codec", "jpeg"]) == 1
    assert "No space left" in capsys.readouterr().err
    assert not out.exists() and not _leftovers(tmp_path)


def test_outputs_get_ordinary_permissions(png, tmp_path):
    old = os.umask(0o022)
    try:
        out, back = tmp_path / "out.ncd", tmp_path / "back.png"
        assert cli.main(["encode", str(png), str(out), "--codec", "jpeg", "--quiet"]) == 0
        assert cli.main(["decode", str(out), str(back), "--quiet"]) == 0
    finally:
        os.umask(old)
    assert (out.stat().st_mode & 0o777) == 0o644 and (back.stat().st_mode & 0o777) == 0o644


def test_never_overwrites_its_input_by_any_name(png, tmp_path, monkeypatch, capsys):
    data = ncd.encode(Image.open(png), codec="jpeg")
    src = tmp_path / "in.ncd"
    src.write_bytes(data)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.ncd").symlink_to(src)
    (tmp_path / "link.png").symlink_to(png)
    os.link(src, tmp_path / "hard.ncd")
    monkeypatch.chdir(tmp_path)
    png_before = png.read_bytes()
    attempts = [
        ["decode", "in.ncd", "in.ncd", "-f"],
        ["decode", "in.ncd", "./in.ncd", "-f"],
        ["decode", "in.ncd", "sub/../in.ncd", "-f"],
        ["decode", "in.ncd", str(src), "-f"],
        ["decode", "in.ncd", "link.ncd", "-f"],
        ["decode", "link.ncd", "in.ncd", "-f"],
        ["decode", "in.ncd", "hard.ncd", "-f"],
        ["encode", "in.png", "link.png", "-f", "--codec", "jpeg"],
        ["encode", "link.png", "./in.png", "-f", "--codec", "jpeg"],
    ]
    for argv in attempts:
        assert cli.main(argv) == 1, argv
        assert "refusing to overwrite the input" in capsys.readouterr().err, argv
    assert src.read_bytes() == data and png.read_bytes() == png_before
    assert os.path.islink(tmp_path / "link.ncd") and os.path.islink(tmp_path / "link.png")
    assert not _leftovers(tmp_path)


def test_cli_error_is_one_line_even_for_multi_line_reasons(tmp_path, monkeypatch, capsys):
    src = tmp_path / "in.ncd"
    src.write_bytes(_seed("jpeg-L-1f"))
    jpeg = ncd.get_codecs()["jpeg"]
    monkeypatch.setattr(jpeg, "decode", lambda *a, **k: (_ for _ in ()).throw(ValueError("line one\nline two")))
    assert cli.main(["decode", str(src), str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ncd: error: ") and "line one line two" in err


# -- what each entry point raises ------------------------------------------------------------------


def test_codec_exceptions_become_ncd_errors(monkeypatch):
    data = _seed("jpeg-L-1f")
    jpeg = ncd.get_codecs()["jpeg"]
    for exc, expected in ((ArithmeticError("overflow"), ncd.CorruptFileError), (KeyError("k"), ncd.CorruptFileError),
                          (struct.error("bad"), ncd.CorruptFileError), (MemoryError(), ncd.ImageTooLargeError),
                          (RuntimeError("DefaultCPUAllocator: can't allocate memory"), ncd.ImageTooLargeError)):
        monkeypatch.setattr(jpeg, "decode", lambda *a, exc=exc, **k: (_ for _ in ()).throw(exc))
        with pytest.raises(expected):
            ncd.decode(data)
        with pytest.raises(expected):
            Image.open(io.BytesIO(data)).load()


def test_codec_check_header_runs_before_any_payload_is_decoded(monkeypatch):
    data = _seed("jpeg-RGB-3f")
    jpeg = ncd.get_codecs()["jpeg"]
    calls = []

    def refuse(header):
        raise ncd.ImageTooLargeError(f"{header.width}x{header.height} is too large for this decoder")

    monkeypatch.setattr(jpeg, "check_header", refuse)
    monkeypatch.setattr(jpeg, "decode", lambda *a, **k: calls.append(1))
    for read in (ncd.decode, ncd.decode_frames, lambda d: Image.open(io.BytesIO(d)).load()):
        with pytest.raises(ncd.ImageTooLargeError, match="too large for this decoder"):
            read(data)
    assert calls == []


def test_imdecode_follows_cv2():
    import cv2

    import cv_ncd

    data = _seed("jpeg-RGB-1f")
    for n in range(1, len(data)):
        assert cv_ncd.imdecode(np.frombuffer(data[:n], np.uint8)) is None
    with pytest.raises(cv2.error):  # as cv2.imdecode does for an empty buffer
        cv_ncd.imdecode(np.zeros(0, np.uint8))
