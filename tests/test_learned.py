"""The learned base codec with the shipped weights, on small images."""

import hashlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

import ncdiff_plugin as ncd
from conftest import psnr

torch = pytest.importorskip("torch")
import ncdiff_learned  # noqa: E402
from ncdiff_plugin import container  # noqa: E402

CODEC = ncdiff_learned.CODEC


def test_shipped_weights_load_and_match_card():
    import json
    import os

    assert CODEC.unavailable_reason() is None
    card_path = os.path.splitext(CODEC.weights_path)[0] + ".json"
    card = json.load(open(card_path))
    digest = hashlib.sha256(open(CODEC.weights_path, "rb").read()).hexdigest()
    assert card["sha256"] == digest
    model_id, weights_hash = CODEC.model_info()
    assert model_id == card["model_id"] and weights_hash.hex() == digest
    assert os.path.getsize(CODEC.weights_path) < 24 * 1024 * 1024


def test_auto_picks_learned(sample_rgb):
    data = ncd.encode(sample_rgb, quality=50)
    info = ncd.inspect(data)
    assert info["codec"] == "learned" and info["model_id"] == CODEC.model_info()[0]
    assert len(info["frames"][0]["streams"]) == 3


@pytest.mark.parametrize("size", [(96, 64), (33, 17), (70, 129)])
def test_any_size_round_trip(sample_rgb, size):
    img = sample_rgb.resize(size)
    out = ncd.decode(ncd.encode(img, quality=80, codec="learned"))
    assert out.size == size and out.mode == "RGB"
    assert psnr(img, out) > 15


def test_rate_monotonic_in_quality(sample_rgb):
    sizes = [len(ncd.encode(sample_rgb, quality=q, codec="learned")) for q in (1, 20, 40, 60, 80, 100)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_quality_improves_fidelity(sample_rgb):
    low = ncd.decode(ncd.encode(sample_rgb, quality=5, codec="learned"))
    high = ncd.decode(ncd.encode(sample_rgb, quality=95, codec="learned"))
    assert psnr(sample_rgb, high) > psnr(sample_rgb, low)


def test_grayscale_and_alpha(sample_rgb):
    gray = sample_rgb.convert("L")
    out = ncd.decode(ncd.encode(gray, quality=70, codec="learned"))
    assert out.mode == "L" and out.size == gray.size
    rgba = sample_rgb.convert("RGBA")
    alpha = Image.linear_gradient("L").resize(rgba.size)
    rgba.putalpha(alpha)
    out = ncd.decode(ncd.encode(rgba, quality=70, codec="learned"))
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out.getchannel("A")), np.asarray(alpha))


def test_decode_is_deterministic(sample_rgb):
    data = ncd.encode(sample_rgb, quality=50, codec="learned")
    assert np.array_equal(np.asarray(ncd.decode(data)), np.asarray(ncd.decode(data)))


def test_weights_mismatch_refused(sample_rgb):
    data = ncd.encode(sample_rgb, quality=50, codec="learned")
    parsed = container.read(data)
    parsed.header.weights_hash = bytes(32)
    with pytest.raises(ncd.WeightsMismatchError, match="installed weights"):
        ncd.decode(container.write(parsed))


def test_unknown_decoder_refused(sample_rgb):
    data = ncd.encode(sample_rgb, quality=50, codec="learned")
    with pytest.raises(ncd.InvalidOptionError, match="decoder"):
        ncd.decode(data, decoder="magic")


def test_corrupt_stream_is_an_ncd_error(sample_rgb):
    data = ncd.encode(sample_rgb, quality=50, codec="learned")
    parsed = container.read(data)
    parsed.frames[0].payloads = parsed.frames[0].payloads[:2]
    with pytest.raises(ncd.CorruptFileError, match="3 payload streams"):
        ncd.decode(container.write(parsed))


# Device independence: the decoded latent must not depend on the thread count
# (or device) of either side.  Each run is a fresh process with its own
# torch.set_num_threads, printing a digest of the symbols it decoded.
_LATENT_SCRIPT = textwrap.dedent('''
    import hashlib, sys, torch
    torch.set_num_threads(int(sys.argv[1]))
    import numpy as np
    from PIL import Image
    import ncdiff_plugin as ncd, ncdiff_learned
    from ncdiff_plugin import container
    codec = ncdiff_learned.CODEC
    mode = sys.argv[2]
    if mode == "encode":
        img = Image.open(sys.argv[3]).convert("RGB")
        x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1)[None]
        out = []
        for q in map(int, sys.argv[5].split(",")):
            with open(f"{sys.argv[4]}-q{q}.ncd", "wb") as f:
                f.write(ncd.encode(img, quality=q, codec="learned"))
            _, y_hat = codec._load().compress(x, q)  # the latent the encoder meant to send
            out.append(hashlib.sha256(y_hat.numpy().tobytes()).hexdigest()[:16])
        print(" ".join(out))
    else:
        out = []
        for q in map(int, sys.argv[5].split(",")):
            parsed = container.read(open(f"{sys.argv[4]}-q{q}.ncd", "rb").read())
            y = codec.decode_latent(parsed.frames[0].payloads, parsed.header, device="cpu")
            out.append(hashlib.sha256(y.numpy().tobytes()).hexdigest()[:16])
        print(" ".join(out))
''')

QUALITIES = ",".join(str(q) for q in range(1, 101, 9))


def _run(*args):
    proc = subprocess.run([sys.executable, "-c", _LATENT_SCRIPT, *map(str, args)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


@pytest.mark.parametrize("image", ["kodim05-half.png", "kodim15-half.png"])
def test_latent_identical_across_thread_counts(tmp_path, image):
    from conftest import SAMPLES

    src = Image.open(f"{SAMPLES}/{image}").convert("RGB").crop((0, 0, 128, 128))
    src.save(tmp_path / "src.png")
    sent_one = _run(1, "encode", tmp_path / "src.png", tmp_path / "one", QUALITIES)
    sent_two = _run(2, "encode", tmp_path / "src.png", tmp_path / "two", QUALITIES)
    one_by_one, one_by_two = _run(1, "decode", "", tmp_path / "one", QUALITIES), _run(2, "decode", "", tmp_path / "one", QUALITIES)
    two_by_one, two_by_two = _run(1, "decode", "", tmp_path / "two", QUALITIES), _run(2, "decode", "", tmp_path / "two", QUALITIES)
    assert one_by_one == one_by_two == sent_one
    assert two_by_one == two_by_two == sent_two
    assert len(one_by_one.split()) == len(QUALITIES.split(","))


def test_auto_sends_photos_of_any_size_to_the_learned_codec(sample_rgb):
    from ncdiff_plugin.api import select_codec

    for size in ((8000, 6000), (12000, 9000), (1, 1)):  # 48 and 108 megapixels: coded in tiles
        assert select_codec("auto", "RGB", size) is CODEC
    # Coded whole on demand, an image over the codec's largest tile is refused with the way out.
    big = Image.new("RGB", (1500, 1500))
    with pytest.raises(ncd.ImageTooLargeError, match="tiles"):
        ncd.encode(big, quality=50, codec="learned", tile=0)
    with pytest.raises(ncd.InvalidOptionError, match="multiple of 64"):
        ncd.encode(sample_rgb, quality=50, codec="learned", tile=100)


def test_devicecheck_dry_run_on_cpu(tmp_path):
    """The GPU check's path (encode on a device, time decodes, re-decode on the CPU), run on the CPU."""
    from conftest import SAMPLES
    from ncdiff_learned.devicecheck import check

    report = check("cpu", width=128, height=64, qualities=(5, 95), repeat=1, decodes=(("base", None),),
                   out=str(tmp_path), image_path=f"{SAMPLES}/kodim23-half.png")
    assert report["latents_identical_on_cpu"] == {"q5": True, "q95": True}
    assert report["base_max_abs_diff"] == {"q5": 0, "q95": 0}
    assert report["decode_s"]["base"] > 0 and (tmp_path / "devicecheck-q5.ncd").stat().st_size > 0


def test_devicecheck_names_a_missing_picture_and_a_bad_size(tmp_path, capsys):
    """An installed copy has no samples/ beside it: the check says which file it needs, before any work."""
    from ncdiff_learned.devicecheck import main

    missing = str(tmp_path / "nowhere.png")
    with pytest.raises(FileNotFoundError, match="nowhere.png"):
        main(["--device", "cpu", "--image", missing, "--size", "64x64"])
    for size in ("768", "0x512", "axb"):
        with pytest.raises(SystemExit):
            main(["--device", "cpu", "--size", size])
        assert "--size must be WIDTHxHEIGHT" in capsys.readouterr().err
