"""The learned codec in worker pools of every start method, after the parent has used it."""

import hashlib
import io
import os
import multiprocessing

import numpy as np
import pytest

import ncdiff_plugin as ncd


def round_trip(png: bytes):
    """(sha256 of the .ncd bytes, sha256 of the decoded pixels) of a PNG, coded with the learned codec."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        data = ncd.encode(im.convert("RGB"), quality=50, codec="learned")
    pixels = np.asarray(ncd.decode(data))
    return hashlib.sha256(data).hexdigest(), hashlib.sha256(pixels.tobytes()).hexdigest()


@pytest.fixture(scope="module")
def png(sample_rgb) -> bytes:
    out = io.BytesIO()
    sample_rgb.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_pool_children_match_the_parent(method, png):
    expected = round_trip(png)  # the parent has run torch's parallel kernels before the pool starts
    with multiprocessing.get_context(method).Pool(2) as pool:
        # A hang (the bug this guards against) fails here instead of stalling the suite.
        results = pool.map_async(round_trip, [png, png]).get(timeout=300)
    assert results == [expected, expected]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_threads_share_the_codec_without_leaking_descriptors(png, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    expected = round_trip(png)
    paths = []
    for i in range(4):
        with Image.open(io.BytesIO(png)) as im:
            im.save(tmp_path / f"{i}.ncd", quality=50, codec="learned")
        paths.append(tmp_path / f"{i}.ncd")

    def decode_file(path):
        with Image.open(path) as im:
            return hashlib.sha256(np.asarray(im).tobytes()).hexdigest()

    before = len(os.listdir("/proc/self/fd"))
    with ThreadPoolExecutor(2) as pool:
        trips = list(pool.map(round_trip, [png] * 4))
        decoded = list(pool.map(decode_file, paths * 2))
    assert trips == [expected] * 4 and decoded == [expected[1]] * 8
    assert len(os.listdir("/proc/self/fd")) == before
