"""CDC decoder: schedule, DDIM sampler, U-Net conditioning, and decoding with the shipped weights."""

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")

import ncdiff_plugin as ncd  # noqa: E402
from ncdiff_learned.codec import CODEC  # noqa: E402
from ncdiff_learned.diffusion.cdc_unet import CDCUNet  # noqa: E402
from ncdiff_learned.diffusion.samplers import sample_ddim  # noqa: E402
from ncdiff_learned.diffusion.schedule import cosine, min_snr_weight, timesteps  # noqa: E402


def test_shipped_cdc_is_installed_and_tied_to_the_shipped_base():
    assert "cdc" in CODEC.decoders
    _, metadata = CODEC._load_network("cdc")
    assert metadata["base_sha256"] == CODEC.model_info()[1].hex()


def test_cosine_schedule_and_min_snr_weight():
    alpha, sigma = cosine(torch.tensor([0.0, 0.5, 1.0]))
    assert torch.allclose(alpha**2 + sigma**2, torch.ones(3))
    assert alpha[0] == 1 and sigma[0] == 0 and abs(float(alpha[2])) < 1e-6
    w = min_snr_weight(torch.linspace(0.001, 1.0, 50), gamma=5.0)
    assert float(w.min()) == 1.0 and float(w.max()) == 5.0
    assert torch.all(w[1:] <= w[:-1])  # noisier times never weigh more


@pytest.mark.parametrize("steps", [1, 4, 17])
@pytest.mark.parametrize("kappa", [0.0, 0.5])
def test_ddim_with_oracle_denoiser_lands_on_the_image(steps, kappa):
    x0 = torch.rand(1, 3, 8, 8) * 2 - 1
    start = 0.8 * torch.randn(1, 3, 8, 8)
    out = sample_ddim(lambda x, t: x0, start, timesteps(steps), schedule=cosine, kappa=kappa,
                      generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out, x0, atol=1e-5)


def test_ddim_keeps_the_noise_it_infers():
    # With kappa = 0 and a denoiser that always says "zero", DDIM only rescales the
    # starting noise by sigma(t_next) / sigma(t): after the last step it is gone.
    start = torch.randn(1, 3, 4, 4)
    ts = timesteps(3)
    # Stop one step before the end: sigma(1/3) / sigma(1) of the start is left.
    out = sample_ddim(lambda x, t: torch.zeros_like(x), start, ts[:-1], schedule=cosine)
    assert torch.allclose(out, start * cosine(float(ts[-2]))[1], atol=1e-6)


def test_unet_uses_every_feature_scale():
    torch.manual_seed(0)
    unet = CDCUNet(channels=(16, 16, 16), feature_channels=8, context=8, emb_dim=32).eval()
    x = torch.randn(1, 3, 32, 48)
    feats = [torch.randn(1, 8, 4, 6), torch.randn(1, 8, 8, 12), torch.randn(1, 8, 16, 24)]
    t, level = torch.ones(1), torch.zeros(1)
    with torch.no_grad():
        ref = unet(x, feats, t, level)
        assert ref.shape == x.shape
        for i in range(3):
            changed = list(feats)
            changed[i] = feats[i] + 1
            assert not torch.allclose(unet(x, changed, t, level), ref)
        assert not torch.allclose(unet(x, feats, t * 0.5, level), ref)


def test_synthesis_features_end_in_the_base_reconstruction():
    model = CODEC._load()
    y_hat = torch.round(torch.randn(1, model.M, 2, 3) * 3)
    with torch.no_grad():
        feats, x_base = model.synthesis_features(y_hat)
        assert [f.shape[-1] for f in feats] == [6, 12, 24] and x_base.shape == (1, 3, 32, 48)
        assert torch.equal(x_base, model.synthesize(y_hat, 32, 48))


@pytest.fixture(scope="module")
def learned_file(sample_rgb):
    return ncd.encode(sample_rgb.crop((0, 0, 72, 40)), quality=30, codec="learned")


def test_decodes_seeded_with_the_shape_and_mode_of_the_file(learned_file):
    a = ncd.decode(learned_file, decoder="cdc", steps=4, seed=1)
    b = ncd.decode(learned_file, decoder="cdc", steps=4, seed=1)
    c = ncd.decode(learned_file, decoder="cdc", steps=4, seed=2)
    assert a.size == (72, 40) and a.mode == "RGB"
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))


def test_same_file_decodes_with_every_decoder_near_the_original(sample_rgb, learned_file):
    from conftest import psnr

    original = sample_rgb.crop((0, 0, 72, 40))
    for decoder in CODEC.decoders:
        out = ncd.decode(learned_file, decoder=decoder, steps=None if decoder == "base" else 2)
        assert out.size == original.size
        # A trained decoder lands near the image, not merely in range.
        assert psnr(out, original) > 20, decoder


def test_gray_file_decodes_gray(sample_rgb):
    data = ncd.encode(sample_rgb.convert("L"), quality=50, codec="learned")
    assert ncd.decode(data, decoder="cdc", steps=2).mode == "L"


@pytest.mark.parametrize("options, match", [({"steps": 0}, "steps"), ({"steps": 1001}, "steps"),
                                             ({"gamma": -1}, "gamma")])
def test_bad_options_are_refused(learned_file, options, match):
    with pytest.raises(ncd.InvalidOptionError, match=match):
        ncd.decode(learned_file, decoder="cdc", **options)


def test_pillow_and_opencv_options(learned_file, monkeypatch):
    import cv_ncd
    from ncdiff_plugin import options

    expected = np.asarray(ncd.decode(learned_file, decoder="cdc", steps=3, seed=5))
    monkeypatch.setattr(options, "DECODER", "cdc")
    monkeypatch.setattr(options, "STEPS", 3)
    monkeypatch.setattr(options, "SEED", 5)
    with Image.open(io.BytesIO(learned_file)) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), expected)
    bgr = cv_ncd.decode(np.frombuffer(learned_file, np.uint8), decoder="cdc", steps=3, seed=5)
    assert np.array_equal(bgr[:, :, ::-1], expected)


def test_cli_decodes_with_cdc(tmp_path, learned_file):
    src, dst = tmp_path / "a.ncd", tmp_path / "a.png"
    src.write_bytes(learned_file)
    run = subprocess.run([sys.executable, "-m", "ncdiff_plugin", "decode", str(src), str(dst), "--decoder", "cdc",
                          "--steps", "2", "--seed", "3", "--gamma", "0.5"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    expected = ncd.decode(learned_file, decoder="cdc", steps=2, seed=3, gamma=0.5)
    with Image.open(dst) as im:
        assert np.array_equal(np.asarray(im), np.asarray(expected))
