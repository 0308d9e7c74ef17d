"""ncd batch (local workers and a real local Ray) and the Ray Data adapter."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import ncdiff_plugin as ncd
from batch_ncd import MANIFEST, Settings, run_batch

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """12 small real photos in nested folders, and a file that is not an image."""
    root = tmp_path_factory.mktemp("photos")
    full = Image.open(os.path.join(os.path.dirname(__file__), "..", "samples", "kodim05-half.png")).convert("RGB")
    for i in range(12):
        folder = root / ("a" if i < 4 else "a/b" if i < 8 else "c")
        folder.mkdir(parents=True, exist_ok=True)
        left, top = 29 * i % 320, 19 * i % 208
        full.crop((left, top, left + 64, top + 48)).save(folder / f"p{i:02d}.png")
    return root


def _outputs(dst):
    found = {}
    for folder, _, names in os.walk(dst):
        for name in names:
            if name.endswith(".ncd"):
                with open(os.path.join(folder, name), "rb") as f:
                    found[os.path.relpath(os.path.join(folder, name), dst)] = f.read()
    return found


def _manifest(dst):
    with open(os.path.join(dst, MANIFEST)) as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


LEARNED = Settings(quality=50, codec="learned")


def test_workers_and_ray_write_identical_files(photos, tmp_path, local_ray):
    local = run_batch([str(photos)], str(tmp_path / "local"), LEARNED, workers=2, progress=False)
    on_ray = run_batch([str(photos)], str(tmp_path / "ray"), LEARNED, workers=2, ray_address=None, progress=False)
    assert local["done"] == on_ray["done"] == 12 and on_ray["ray"]
    a, b = _outputs(tmp_path / "local"), _outputs(tmp_path / "ray")
    assert len(a) == 12 and a == b
    assert os.path.join("a", "b", "p04.ncd") in a
    records = _manifest(tmp_path / "ray")
    assert sorted(r["source"] for r in records) == sorted(
        os.path.relpath(os.path.join(d, n), photos).replace(os.sep, "/") for d, _, ns in os.walk(photos) for n in ns)
    assert all(r["error"] is None and r["bpp"] > 0 and r["codec"] == "learned" for r in records)
    # What a file holds is what the API would write for that photo.
    with Image.open(photos / "c" / "p09.png") as im:
        assert a[os.path.join("c", "p09.ncd")] == ncd.encode(im, quality=50, codec="learned")


def test_bad_input_is_reported_and_rerun_skips_what_is_done(photos, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "broken.jpg").write_bytes(b"not a jpeg at all")
    for name in ("p00.png", "p01.png"):
        (src / name).write_bytes((photos / "a" / name).read_bytes())
    first = run_batch([str(src)], str(tmp_path / "out"), Settings(quality=40, codec="jpeg"), progress=False)
    assert (first["done"], first["failed"]) == (2, 1)
    broken = [r for r in _manifest(tmp_path / "out") if r["source"] == "broken.jpg"]
    assert broken[0]["output"] is None and "not an image" in broken[0]["error"]
    again = run_batch([str(src)], str(tmp_path / "out"), Settings(quality=40, codec="jpeg"), progress=False)
    assert (again["done"], again["skipped"], again["failed"]) == (0, 2, 1)
    with pytest.raises(ncd.InvalidOptionError, match="other settings"):
        run_batch([str(src)], str(tmp_path / "out"), Settings(quality=41, codec="jpeg"), progress=False)


def test_decode_direction_writes_pngs(photos, tmp_path):
    run_batch([str(photos / "a" / "b")], str(tmp_path / "ncd"), Settings(quality=40, codec="jpeg"), progress=False)
    summary = run_batch([str(tmp_path / "ncd")], str(tmp_path / "png"), Settings(decode=True), progress=False)
    assert summary["done"] == 4
    with Image.open(tmp_path / "png" / "p05.png") as im:
        assert im.format == "PNG" and im.size == (64, 48)


def test_killed_run_resumes_without_redoing_or_partial_files(photos, tmp_path):
    dst = tmp_path / "out"
    cmd = [sys.executable, "-m", "ncdiff_plugin", "batch", str(photos), str(dst), "--codec", "learned", "-q", "50",
           "--chunk", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if os.path.exists(dst / MANIFEST) and len(_manifest(dst)) >= 3:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    before = {path: os.stat(os.path.join(dst, path)).st_mtime_ns for path in _outputs(dst)}
    assert 3 <= len(before) < 12
    # What a kill between creating an output's temporary file and renaming it leaves, whatever the timing above.
    (dst / "c").mkdir(exist_ok=True)
    (dst / "c" / ".ncd-0123456789ab.ncd").write_bytes(b"\x8bNCD cut short")
    (dst / ".ncd-notes.txt").write_text("a user's file that only looks like ours")
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    after = _outputs(dst)
    assert len(after) == 12
    assert all(os.stat(os.path.join(dst, p)).st_mtime_ns == t for p, t in before.items())  # nothing redone
    leftovers = [n for _, _, names in os.walk(dst) for n in names if n.startswith(".ncd-") and n != ".ncd-batch.json"]
    assert leftovers == [".ncd-notes.txt"]
    sources = [r["source"] for r in _manifest(dst)]
    assert len(sources) == len(set(sources)) == 12
    clean = run_batch([str(photos)], str(tmp_path / "clean"), LEARNED, progress=False)
    assert clean["done"] == 12 and _outputs(tmp_path / "clean") == after


def test_ray_data_adapter_round_trip(photos, local_ray):
    from ray_ncd import NCDDecoder, NCDEncoder

    arrays = [np.asarray(Image.open(photos / "a" / f"p0{i}.png").convert("RGB")) for i in range(4)]
    ds = ray.data.from_items([{"image": a, "name": f"p{i}"} for i, a in enumerate(arrays)])
    encoded = ds.map_batches(NCDEncoder, fn_constructor_kwargs={"quality": 50, "codec": "learned"}, concurrency=1,
                             batch_size=2, batch_format="numpy")
    rows = sorted(encoded.take_all(), key=lambda r: r["name"])
    assert [set(r) for r in rows] == [{"name", "ncd"}] * 4
    for row, arr in zip(rows, arrays):
        assert bytes(row["ncd"]) == ncd.encode(arr, quality=50, codec="learned")
    decoded = sorted(encoded.map_batches(NCDDecoder, concurrency=1, batch_size=2, batch_format="numpy").take_all(),
                     key=lambda r: r["name"])
    for row, data in zip(decoded, rows):
        # The latent is exact on any thread count; Ray's workers start with one OpenMP thread,
        # and the float synthesis may round a few pixels the other way there.
        diff = np.abs(row["image"].astype(int) - np.asarray(ncd.decode(bytes(data["ncd"]))).astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
