"""The inference runtime (no CompressAI package import) against the training model: same bits, same pixels."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")

from conftest import SAMPLES  # noqa: E402
from ncdiff_learned import runtime  # noqa: E402
from ncdiff_learned.weights import BASE_WEIGHTS, load_inference_model, load_model  # noqa: E402


@pytest.fixture(scope="module")
def models():
    return load_inference_model(BASE_WEIGHTS)[0], load_model(BASE_WEIGHTS)[0]


def _image(width, height, seed):
    photo = np.asarray(Image.open(f"{SAMPLES}/kodim05-half.png").convert("RGB").resize((width, height)), np.float32)
    noise = np.random.default_rng(seed).normal(0, 6, photo.shape)
    return torch.from_numpy(np.clip((photo + noise) / 255, 0, 1).astype(np.float32)).permute(2, 0, 1)[None]


@pytest.mark.parametrize("size,quality", [((384, 256), 1), ((200, 130), 37), ((64, 64), 75), ((320, 192), 100)])
def test_runtime_codes_exactly_as_the_training_model(models, size, quality):
    fast, reference = models
    assert isinstance(fast, runtime.BaseCodec)
    x = _image(*size, seed=quality)
    strings, y_hat = fast.compress(x, quality)
    expected, expected_y = reference.compress(x, quality)
    assert strings == expected and torch.equal(y_hat, expected_y)
    decoded = fast.decompress_latent(strings, size[1], size[0], quality)
    assert torch.equal(decoded, reference.decompress_latent(strings, size[1], size[0], quality))
    assert torch.equal(decoded, y_hat)
    with torch.no_grad():
        assert torch.equal(fast.synthesize(decoded, size[1], size[0]), reference.synthesize(decoded, size[1], size[0]))
        for a, b in zip(fast.synthesis_features(decoded)[0], reference.synthesis_features(decoded)[0]):
            assert torch.equal(a, b)
    assert fast.step_for_quality(quality) == reference.step_for_quality(quality)


def test_coding_does_not_import_the_compressai_package():
    script = (
        "import sys, ncdiff_plugin as ncd\n"
        "from PIL import Image\n"
        f"img = Image.open('{SAMPLES}/kodim23-half.png').crop((0, 0, 160, 96))\n"
        "data = ncd.encode(img, 50, codec='learned')\n"
        "ncd.decode(data); ncd.decode(data, decoder='nc', steps=1); ncd.decode(data, decoder='cdc', steps=1)\n"
        "ncd.decode(ncd.encode(img, 50, codec='learned', tile=64))\n"
        "print(sorted(m for m in ('compressai', 'torch_geometric', 'scipy.stats') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
