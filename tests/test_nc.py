"""NC-Diffusion decoder: sampler, frequency filter, guidance, decoding invariants.

Two groups: invariants of a freshly initialised U-Net, exported through the real
checkpoint / export path (at initialisation the U-Net's correction and every
frequency filter are the identity), and the shipped, trained nc weights.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ncdiff_plugin as ncd  # noqa: E402
from ncdiff_learned.codec import LearnedCodec  # noqa: E402
from ncdiff_learned.diffusion.frequency_filter import AdaptiveFrequencyFilter  # noqa: E402
from ncdiff_learned.diffusion.guidance import latent_consistency_guide  # noqa: E402
from ncdiff_learned.diffusion.samplers import sample_nc  # noqa: E402
from ncdiff_learned.diffusion.schedule import eta, forward_sample, timesteps  # noqa: E402
from ncdiff_plugin import container  # noqa: E402


def test_schedule_ends():
    ts = timesteps(4)
    assert ts[0] == 1 and ts[-1] == 0 and torch.all(ts[1:] < ts[:-1])
    x0, xb = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    ones, zeros = torch.ones(2), torch.zeros(2)
    assert torch.equal(forward_sample(x0, xb, ones, 1.5, 0.0, torch.randn_like(x0)), xb)
    assert torch.equal(forward_sample(x0, xb, zeros, 1.5, 0.3, torch.randn_like(x0)), x0)


@pytest.mark.parametrize("steps", [1, 2, 4, 8])
@pytest.mark.parametrize("kappa", [0.0, 0.1])
def test_sampler_with_oracle_denoiser_lands_on_the_image(steps, kappa):
    x0, xb = torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)
    out = sample_nc(lambda x, t: x0, xb, timesteps(steps), schedule=lambda t: eta(t, 1.5), kappa=kappa,
                    generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out, x0)


def test_sampler_with_identity_denoiser_stays_at_x_base():
    xb = torch.rand(1, 3, 8, 8)
    out = sample_nc(lambda x, t: x, xb, timesteps(4), schedule=lambda t: eta(t, 1.5))
    assert torch.equal(out, xb)


def test_frequency_filter_identity_at_init_and_adaptive_after():
    filt = AdaptiveFrequencyFilter(16, 32, bands=4)
    x, emb = torch.randn(2, 16, 12, 20), torch.randn(2, 32)
    assert torch.allclose(filt(x, emb), x, atol=1e-5)
    torch.nn.init.normal_(filt.gain[-1].weight, std=0.1)
    y = filt(x, emb)
    assert not torch.allclose(y, x, atol=1e-3)
    # Gains depend on the embedding (time / quality), not only on the input.
    assert not torch.allclose(filt(x, emb * 0), y, atol=1e-4)


def test_guidance_reduces_latent_inconsistency():
    torch.manual_seed(0)
    encode = torch.nn.Conv2d(3, 4, 4, stride=4)
    x_true = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        y_target = torch.round(encode(x_true) * 4) / 4
    scale = torch.full((1, 4, 1, 1), 4.0)
    start = (x_true + 0.2 * torch.randn_like(x_true)).clamp(0, 1)

    def inconsistency(x):
        with torch.no_grad():
            return torch.relu(((encode(x) - y_target) * scale).abs() - 0.5).pow(2).sum().item()

    guided = latent_consistency_guide(encode, y_target, scale, weight=0.01, iterations=5)(start, 1.0)
    assert inconsistency(guided) < inconsistency(start)


@pytest.fixture(scope="module")
def nc_codec(tmp_path_factory):
    """The learned codec with the shipped base weights and an untrained nc decoder."""
    from ncdiff_learned.diffusion.unet import NCUNet
    from ncdiff_learned.training.export import export_nc
    from ncdiff_learned.training.checkpoint import save_checkpoint
    from ncdiff_learned.weights import BASE_WEIGHTS, read_weights

    folder = tmp_path_factory.mktemp("nc")
    ckpt = str(folder / "nc.ckpt.safetensors")
    base_sha = read_weights(BASE_WEIGHTS)[1].hex()
    config = {"base_sha256": base_sha, "eta_power": 1.5, "kappa": 0.05, "no_freq_filter": False}
    save_checkpoint(ckpt, NCUNet(), {}, {"step": 0, "wall_s": 0.0, "config": config})
    weights = export_nc(ckpt, str(folder / "nc.safetensors"))
    return LearnedCodec(BASE_WEIGHTS, {"nc": weights})


@pytest.fixture(scope="module")
def learned_file(sample_rgb):
    return ncd.encode(sample_rgb.crop((0, 0, 72, 40)), quality=30, codec="learned")


def _decode(codec, data, **options):
    parsed = container.read(data)
    return np.asarray(codec.decode(parsed.frames[0].payloads, parsed.header, **options))


def test_nc_listed_only_with_weights(nc_codec, tmp_path):
    assert "nc" in nc_codec.decoders
    assert "nc" not in LearnedCodec(nc_codec.weights_path, {"nc": str(tmp_path / "none.safetensors")}).decoders


def test_untrained_nc_is_the_identity_on_x_base(nc_codec, learned_file):
    base = _decode(nc_codec, learned_file, decoder="base")
    nc = _decode(nc_codec, learned_file, decoder="nc", steps=4)
    assert nc.shape == base.shape == (40, 72, 3)
    assert np.array_equal(nc, base)


def test_stochastic_mode_is_seeded(nc_codec, learned_file):
    a = _decode(nc_codec, learned_file, decoder="nc", steps=2, kappa=0.1, seed=1)
    b = _decode(nc_codec, learned_file, decoder="nc", steps=2, kappa=0.1, seed=1)
    c = _decode(nc_codec, learned_file, decoder="nc", steps=2, kappa=0.1, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.dtype == np.uint8 and a.shape == (40, 72, 3)


@pytest.mark.parametrize("steps", [0, 65])
def test_steps_out_of_range(nc_codec, learned_file, steps):
    with pytest.raises(ncd.InvalidOptionError, match="steps"):
        _decode(nc_codec, learned_file, decoder="nc", steps=steps)


def test_batch_decoding_matches_single(nc_codec, sample_rgb):
    frames = [sample_rgb.crop((0, 0, 64, 64)), sample_rgb.crop((20, 0, 84, 64))]
    parsed = container.read(ncd.encode_frames(frames, quality=40, codec="learned"))
    payloads = [f.payloads for f in parsed.frames]
    batched = nc_codec.decode_batch(payloads, parsed.header, decoder="nc", steps=2)
    single = [nc_codec.decode(p, parsed.header, decoder="nc", steps=2) for p in payloads]
    for a, b in zip(batched, single):
        assert np.abs(np.asarray(a, int) - np.asarray(b, int)).max() <= 1


def test_nc_refuses_weights_of_another_base(nc_codec, tmp_path):
    import shutil

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    other = tmp_path / "nc.safetensors"
    shutil.copy(nc_codec.decoder_weights["nc"], other)
    with safe_open(str(other), "pt") as f:
        meta = dict(f.metadata())
    meta["base_sha256"] = "0" * 64
    save_file(load_file(str(other)), str(other), metadata=meta)
    codec = LearnedCodec(nc_codec.weights_path, {"nc": str(other)})
    with pytest.raises(ncd.WeightsMismatchError, match="other base weights"):
        codec._load_network("nc")


def test_retrains_of_equal_length_get_distinct_ids(nc_codec, tmp_path):
    """A decoder retrained with --init counts the whole chain, so its id names the chain's steps."""
    import json

    from ncdiff_learned.diffusion.unet import NCUNet
    from ncdiff_learned.training.checkpoint import save_checkpoint
    from ncdiff_learned.training.export import export_nc

    init = nc_codec.decoder_weights["nc"]
    base_sha = json.load(open(init.replace(".safetensors", ".json")))["base_sha256"]
    cards = []
    for i in range(2):
        ckpt = str(tmp_path / f"run{i}.ckpt.safetensors")
        config = {"base_sha256": base_sha, "eta_power": 1.5, "kappa": 0.05, "init": init}
        save_checkpoint(ckpt, NCUNet(), {}, {"step": 3, "wall_s": 10.0, "config": config})
        init = export_nc(ckpt, str(tmp_path / f"nc{i}.safetensors"))
        cards.append(json.load(open(init.replace(".safetensors", ".json"))))
    assert [c["steps_total"] for c in cards] == [3, 6]
    assert [c["wall_time_total_s"] for c in cards] == [10, 20]
    assert cards[0]["model_id"].endswith("-s3") and cards[1]["model_id"].endswith("-s6")
    assert cards[1]["init"] == cards[0]["model_id"]


# -- the shipped nc weights ------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_file(sample_rgb):
    return ncd.encode(sample_rgb, quality=15, codec="learned")


def test_shipped_nc_is_installed_and_tied_to_the_shipped_base():
    from ncdiff_learned.codec import CODEC

    assert "nc" in CODEC.decoders
    unet, metadata = CODEC._load_network("nc")
    assert metadata["base_sha256"] == CODEC.model_info()[1].hex()
    assert unet.freq_filter  # the shipped model has its frequency filters


@pytest.mark.parametrize("steps", [1, 2, 4, 8])
def test_shipped_nc_deterministic_mode(shipped_file, sample_rgb, steps):
    from conftest import psnr

    a = ncd.decode(shipped_file, decoder="nc", steps=steps)
    b = ncd.decode(shipped_file, decoder="nc", steps=steps)
    assert a.size == sample_rgb.size and a.mode == "RGB"
    assert np.array_equal(np.asarray(a), np.asarray(b))
    base = ncd.decode(shipped_file, decoder="base")
    # A trained restoration: not the base image, and still near the original. The shipped
    # nc, minutes of retraining on each new base, loses 1.7 dB at 4 steps and 2.1 at 8 on this
    # crop (3.3 and 4.2 on the base before); a broken path (a wrong scale, a lost residual)
    # falls to the noise level, far below this bound (a flat grey image scores 13.1 dB here,
    # the base 28.2).
    assert not np.array_equal(np.asarray(a), np.asarray(base))
    assert psnr(a, sample_rgb) > psnr(base, sample_rgb) - 6.0


def test_default_nc_decode_is_the_one_step_decode(shipped_file, sample_rgb):
    from conftest import psnr

    default = ncd.decode(shipped_file, decoder="nc")
    assert np.array_equal(np.asarray(default), np.asarray(ncd.decode(shipped_file, decoder="nc", steps=1)))
    # One step is the nc decode that beats base (+0.07 dB on this crop with the shipped weights).
    assert psnr(default, sample_rgb) > psnr(ncd.decode(shipped_file, decoder="base"), sample_rgb)


def test_shipped_nc_stochastic_mode_is_seeded(shipped_file):
    a, b, c = (np.asarray(ncd.decode(shipped_file, decoder="nc", steps=4, kappa=0.05, seed=s)) for s in (7, 7, 8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_shipped_nc_filter_bypass_and_guidance_change_the_result(shipped_file):
    plain = np.asarray(ncd.decode(shipped_file, decoder="nc", steps=2))
    bypass = np.asarray(ncd.decode(shipped_file, decoder="nc", steps=2, freq_filter=False))
    guided = np.asarray(ncd.decode(shipped_file, decoder="nc", steps=2, guidance=0.01))
    assert not np.array_equal(plain, bypass) and not np.array_equal(plain, guided)
