"""The benchmark behind ``ncd bench``: metrics, BD-rate, Pillow codecs, anchors, runner, CLI."""

import argparse
import json
import math
import os
import shutil

import numpy as np
import pytest
from PIL import Image, ImageFilter, features

from ncdiff_bench import bd_psnr, bd_rate, load_anchors, run_bench
from ncdiff_bench import metrics
from ncdiff_bench.anchors import guess_anchors_dir
from ncdiff_bench.classical import CLASSICAL_CODECS, classical_entry
from ncdiff_bench.cli import add_arguments
from ncdiff_bench.cli import run as cli_run
from ncdiff_bench.images import center_crop, list_images

SAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "samples")


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    # The piq metrics are tiny here; on a busy 2-core machine a second torch thread only
    # waits for the first (10-20x slower). Restored afterwards for other test modules.
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def texture(size=96, seed=0) -> np.ndarray:
    """A detailed synthetic RGB image: smoothed noise with a bright square (an edge)."""
    rng = np.random.default_rng(seed)
    noise = Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    img = np.asarray(noise.filter(ImageFilter.GaussianBlur(0.7))).astype(np.int16)
    img[size // 4: size // 2, size // 4: size // 2] += 60
    return np.clip(img, 0, 255).astype(np.uint8)


# --- metrics -------------------------------------------------------------------------------

def test_identical_images_score_perfectly():
    img = texture()
    assert metrics.psnr(img, img) == math.inf
    assert metrics.hf_energy_ratio(img, img) == pytest.approx(1.0)
    assert metrics.haarpsi(img, img) == pytest.approx(1.0, abs=1e-4)
    assert metrics.vif(img, img) == pytest.approx(1.0, abs=1e-4)
    assert metrics.gmsd(img, img) == pytest.approx(0.0, abs=1e-4)


def test_psnr_of_known_noise():
    # Gaussian noise of sigma 5 on mid-grey (no clipping): MSE ~ 25 (+1/12 from rounding)
    # -> PSNR = 10 log10(255^2 / 25.08) ~ 34.1 dB.
    rng = np.random.default_rng(1)
    orig = np.full((128, 128, 3), 128, np.uint8)
    noisy = np.clip(np.round(orig + rng.normal(0, 5, orig.shape)), 0, 255).astype(np.uint8)
    assert 33.7 < metrics.psnr(orig, noisy) < 34.5
    # Noise adds fine detail the original lacks... relative to a textured original, more HF energy.
    img = texture()
    noisier = np.clip(np.round(img + rng.normal(0, 20, img.shape)), 0, 255).astype(np.uint8)
    assert metrics.hf_energy_ratio(img, noisier) > 1.1


def test_blur_lowers_high_frequency_ratio_and_scores():
    img = texture()
    blurred = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(2)))
    assert metrics.hf_energy_ratio(img, blurred) < 0.2
    assert metrics.haarpsi(img, blurred) < 0.9
    assert metrics.gmsd(img, blurred) > 0.05
    # Less blur keeps more detail: the ratio orders blur strengths.
    slight = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(0.5)))
    assert metrics.hf_energy_ratio(img, blurred) < metrics.hf_energy_ratio(img, slight) < 1.0


def test_ms_ssim_needs_161_pixels():
    small = texture(128)
    assert math.isnan(metrics.ms_ssim(small, small))
    big = texture(192)
    assert metrics.ms_ssim(big, big) == pytest.approx(1.0, abs=1e-5)
    blurred = np.asarray(Image.fromarray(big).filter(ImageFilter.GaussianBlur(1.5)))
    assert 0.3 < metrics.ms_ssim(big, blurred) < 0.98


def test_compute_returns_requested_metrics_and_rejects_unknown():
    img = texture(64)
    out = metrics.compute(img, img, ["psnr", "hf_energy_ratio"])
    assert set(out) == {"psnr", "hf_energy_ratio"}
    with pytest.raises(ValueError, match="lpips"):
        metrics.compute(img, img, ["psnr", "lpips"])
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.psnr(img, img[:32])


# --- BD-rate -------------------------------------------------------------------------------

ANCHOR_BPP = [0.15, 0.3, 0.55, 1.0, 1.8]
ANCHOR_PSNR = [27.0, 29.5, 32.0, 35.0, 38.5]


def test_bd_rate_of_uniformly_cheaper_curve_is_minus_20_percent():
    test_bpp = [0.8 * b for b in ANCHOR_BPP]  # same quality for 80 % of the bits everywhere
    assert bd_rate(ANCHOR_BPP, ANCHOR_PSNR, test_bpp, ANCHOR_PSNR) == pytest.approx(-20.0, abs=1e-9)
    # The other way round, the anchor needs 1/0.8 = 125 % of the test's bits.
    assert bd_rate(test_bpp, ANCHOR_PSNR, ANCHOR_BPP, ANCHOR_PSNR) == pytest.approx(25.0, abs=1e-9)
    assert bd_rate(ANCHOR_BPP, ANCHOR_PSNR, ANCHOR_BPP, ANCHOR_PSNR) == pytest.approx(0.0, abs=1e-12)


def test_bd_rate_below_a_rate_averages_only_the_low_rates():
    # 20% cheaper up to 0.55 bpp, 40% dearer above: the low-rate BD-rate sees only the first part.
    test_bpp = [0.8 * b if b <= 0.55 else 1.4 * b for b in ANCHOR_BPP]
    low = bd_rate(ANCHOR_BPP, ANCHOR_PSNR, test_bpp, ANCHOR_PSNR, max_rate=0.44)
    assert low == pytest.approx(-20.0, abs=1.0)  # pchip slopes near the cap see the dearer points a little
    assert bd_rate(ANCHOR_BPP, ANCHOR_PSNR, test_bpp, ANCHOR_PSNR) > low + 10
    # Below both curves' lowest rate there is nothing to average.
    assert math.isnan(bd_rate(ANCHOR_BPP, ANCHOR_PSNR, test_bpp, ANCHOR_PSNR, max_rate=0.05))


def test_bd_psnr_of_uniformly_better_curve_is_plus_1_db():
    better = [p + 1.0 for p in ANCHOR_PSNR]
    assert bd_psnr(ANCHOR_BPP, ANCHOR_PSNR, ANCHOR_BPP, better) == pytest.approx(1.0, abs=1e-9)
    assert bd_rate(ANCHOR_BPP, ANCHOR_PSNR, ANCHOR_BPP, better) < 0


def test_bd_rate_undefined_cases_are_nan():
    assert math.isnan(bd_rate(ANCHOR_BPP[:3], ANCHOR_PSNR[:3], ANCHOR_BPP[:3], ANCHOR_PSNR[:3]))
    far = [p + 30 for p in ANCHOR_PSNR]  # no PSNR overlap
    assert math.isnan(bd_rate(ANCHOR_BPP, ANCHOR_PSNR, ANCHOR_BPP, far))
    # A lossless (infinite PSNR) point and unsorted input are tolerated.
    test_bpp = [0.8 * b for b in ANCHOR_BPP][::-1] + [5.0]
    test_psnr = ANCHOR_PSNR[::-1] + [math.inf]
    assert bd_rate(ANCHOR_BPP, ANCHOR_PSNR, test_bpp, test_psnr) == pytest.approx(-20.0, abs=1e-9)


# --- classical codecs ----------------------------------------------------------------------

@pytest.mark.parametrize("name", CLASSICAL_CODECS)
def test_classical_codec_round_trip_and_rate_control(name):
    if name == "avif" and not features.check("avif"):
        pytest.skip("this Pillow has no AVIF")
    entry = classical_entry(name)
    with Image.open(os.path.join(SAMPLES, "kodim23-half.png")) as photo:
        img = center_crop(photo.convert("RGB"), 64)
    sizes = []
    for quality in (90, 50, 10):
        data = entry.encode(img, quality)
        decoded = entry.variants[0].decode(data)
        assert decoded.mode == "RGB" and decoded.size == img.size
        sizes.append(len(data))
        if quality == 90:
            assert metrics.psnr(np.asarray(img), np.asarray(decoded)) > 30
    assert sizes[0] > sizes[1] > sizes[2], sizes
    assert len(entry.qualities) >= 8 and list(entry.qualities) == sorted(entry.qualities)


def test_unknown_classical_codec():
    with pytest.raises(ValueError, match="heic"):
        classical_entry("heic")


# --- anchors and images --------------------------------------------------------------------

def test_anchors_are_read_tolerantly(tmp_path):
    good = {"name": "Good", "results": {"bpp": [0.5, 0.1], "psnr-rgb": [33.0, 27.0], "ms-ssim-rgb": [0.98, 0.9]}}
    old_keys = {"name": "Old", "results": {"bpp": [0.1, 0.5], "psnr": [26.0, 32.0]}}
    (tmp_path / "a.json").write_text(json.dumps(good))
    (tmp_path / "b.json").write_text(json.dumps(old_keys))
    (tmp_path / "c.json").write_text("{not json")
    (tmp_path / "d.json").write_text(json.dumps({"name": "Short", "results": {"bpp": [0.1], "psnr-rgb": []}}))
    with pytest.warns(UserWarning, match="skipping anchor"):
        curves = load_anchors(tmp_path)
    assert [c.label for c in curves] == ["Good", "Old"]
    assert curves[0].bpp == [0.1, 0.5] and curves[0].psnr == [27.0, 33.0]  # sorted by rate
    assert curves[0].ms_ssim == [0.9, 0.98] and curves[1].ms_ssim is None
    assert all(c.kind == "anchor" for c in curves)


def test_anchors_folder_is_guessed_beside_data(tmp_path):
    (tmp_path / "data" / "kodak").mkdir(parents=True)
    assert guess_anchors_dir(tmp_path / "data" / "kodak") is None
    (tmp_path / "anchors" / "kodak").mkdir(parents=True)
    assert guess_anchors_dir(tmp_path / "data" / "kodak") == (tmp_path / "anchors" / "kodak").resolve()


def test_images_are_listed_sorted_and_cropped(tmp_path):
    for name in ("b.png", "a.jpg", "c.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["a.jpg", "b.png"]
    assert [p.name for p in list_images(tmp_path, limit=1)] == ["a.jpg"]
    img = Image.fromarray(np.arange(10 * 6 * 3, dtype=np.uint8).reshape(6, 10, 3))
    crop = center_crop(img, 4)
    assert crop.size == (4, 4)
    assert np.array_equal(np.asarray(crop), np.asarray(img)[1:5, 3:7])


# --- runner and CLI ------------------------------------------------------------------------

@pytest.fixture
def sample_dir(tmp_path):
    """Two real photos (384x256 halves of Kodak images shipped in samples/)."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("kodim05-half.png", "kodim15-half.png"):
        shutil.copy(os.path.join(SAMPLES, name), data / name)
    return data


def _strict_json(path):
    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(path.read_text(), parse_constant=no_constants)


def test_run_bench_jpeg_vs_webp(sample_dir, tmp_path, capsys):
    out = tmp_path / "out"
    result = run_bench(sample_dir, codecs=("jpeg", "webp"), crop=128, out_dir=out, progress=False)

    saved = _strict_json(out / "results.json")
    assert saved["images"] == ["kodim05-half.png", "kodim15-half.png"]
    assert saved["machine"]["cpu"] and saved["machine"]["cpu_count"] >= 1
    assert len(saved["rows"]) == 2 * (10 + 10)
    row = saved["rows"][0]
    assert row["width"] == row["height"] == 128
    assert row["bpp"] == pytest.approx(row["bytes"] * 8 / 128**2)
    assert row["enc_s"] >= 0 and row["dec_s"] >= 0 and row["device"] == "cpu"
    assert row["ms_ssim"] is None  # undefined (NaN) below 161 px, stored as null

    curves = {c["label"]: c for c in saved["curves"]}
    assert set(curves) == {"jpeg", "webp"}
    for curve in curves.values():
        rates = [p["bpp"] for p in curve["points"]]
        assert rates == sorted(rates) and rates[0] < 1.0 < rates[-1]
        psnrs = [p["psnr"] for p in curve["points"]]
        assert psnrs == sorted(psnrs) and 20 < psnrs[0] and psnrs[-1] < 50
        assert all(p["images"] == 2 for p in curve["points"])

    # WebP beats baseline JPEG on photos: JPEG needs more bits for the same PSNR.
    bd = {(r["test"], r["reference"]): r for r in saved["bd"]}
    assert bd[("jpeg", "webp")]["bd_rate_percent"] > 5
    assert bd[("webp", "jpeg")]["bd_rate_percent"] < -5
    assert bd[("jpeg", "webp")]["bd_psnr_db"] < 0 < bd[("webp", "jpeg")]["bd_psnr_db"]

    assert (out / "rd.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(out / "rd.png") as plot:
        assert plot.width > 400
    assert "| jpeg" in (out / "curves.md").read_text()
    markdown = (out / "bdrate.md").read_text()
    assert "| jpeg" in markdown and "webp" in markdown and "BD-rate" in markdown

    printed = capsys.readouterr().out
    assert "PSNR" in printed and "BD-rate %" in printed
    assert result["files"]["results"] == str(out / "results.json")


def test_cli_runs_and_reports_bad_input(sample_dir, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="ncd bench")
    add_arguments(parser)
    args = parser.parse_args([str(sample_dir), "--codecs", "jpeg,webp", "--limit", "1", "--crop", "64",
                              "--anchors", "none", "--out", str(tmp_path / "o"), "--no-progress",
                              "--metrics", "psnr,hf_energy_ratio"])
    assert args.codecs == ["jpeg", "webp"] and args.qualities == [5, 15, 30, 50, 75, 95]
    assert cli_run(args) == 0
    saved = _strict_json(tmp_path / "o" / "results.json")
    assert saved["images"] == ["kodim05-half.png"] and "hf_energy_ratio" in saved["rows"][0]

    missing = parser.parse_args([str(tmp_path / "nowhere"), "--codecs", "jpeg", "--anchors", "none"])
    assert cli_run(missing) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args([str(sample_dir), "--steps", "two"])


def test_decoder_specs_and_per_decoder_steps():
    from ncdiff_bench.cli import _decoder_list, _steps, steps_by_decoder
    from ncdiff_bench.learned import ncd_entry, parse_decoder

    assert _decoder_list("base,nc[freq_filter=0;guidance=0.05],cdc") == ["base", "nc[freq_filter=0;guidance=0.05]", "cdc"]
    assert parse_decoder("nc[freq_filter=0;guidance=0.05;x=on]") == ("nc", {"freq_filter": 0, "guidance": 0.05, "x": "on"})
    for bad in ("nc[", "nc[guidance]", "n c"):
        with pytest.raises(ValueError):
            parse_decoder(bad)
    assert steps_by_decoder([_steps("1,2")]) == [1, 2]
    assert steps_by_decoder([_steps("nc=1,2,4"), _steps("cdc=4,17")]) == {"nc": [1, 2, 4], "cdc": [4, 17]}
    with pytest.raises(ValueError):
        steps_by_decoder([_steps("1"), _steps("nc=2")])
    entry = ncd_entry([50], decoders=["base", "nc", "nc[freq_filter=0]", "nc[kappa=0.1]", "cdc"],
                      steps={"nc": [1, 2], "nc[kappa=0.1]": [4], "cdc": [4]})
    assert [v.label for v in entry.variants] == ["base", "nc K=1", "nc K=2", "nc[freq_filter=0] K=1",
                                                 "nc[freq_filter=0] K=2", "nc[kappa=0.1] K=4", "cdc K=4"]
    assert steps_by_decoder([_steps("nc[kappa=0.1]=4")]) == {"nc[kappa=0.1]": [4]}


@pytest.fixture(scope="module")
def random_backbones(tmp_path_factory):
    """LPIPS and FID weights files of randomly initialised networks: the code path of the
    pretrained ones, which cannot be downloaded here."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from safetensors.torch import save_file

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("backbones")
    vgg = torchvision.models.vgg16(weights=None).features
    lpips = {f"features.{k}": v for k, v in vgg.state_dict().items()}
    for i, c in enumerate((64, 128, 256, 512, 512)):
        lpips[f"lin.{i}"] = torch.rand(1, c, 1, 1)
    save_file(lpips, str(folder / "lpips.safetensors"))
    inception = torchvision.models.inception_v3(weights=None, num_classes=1008, aux_logits=False, init_weights=False)
    save_file({k: v.contiguous() for k, v in inception.state_dict().items()}, str(folder / "fid.safetensors"))
    return str(folder / "lpips.safetensors"), str(folder / "fid.safetensors")


def test_lpips_and_fid_from_weights_files(random_backbones, sample_dir, tmp_path):
    from ncdiff_bench.backbones import frechet_distance, load_lpips

    lpips_path, fid_path = random_backbones
    lpips = load_lpips(lpips_path)
    img = np.asarray(Image.open(os.path.join(SAMPLES, "kodim23-half.png")).convert("RGB"))[:64, :96]
    noisy = np.clip(img + np.random.default_rng(0).normal(0, 20, img.shape), 0, 255).astype(np.uint8)
    assert lpips(img, img) == pytest.approx(0.0, abs=1e-6) and lpips(img, noisy) > 0

    rng = np.random.default_rng(1)
    a = rng.normal(size=(300, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + 1.0) == pytest.approx(8.0, rel=1e-6)  # mean shift of 1 in 8 dims

    saved = run_bench(sample_dir, codecs=("jpeg",), crop=64, limit=1, out_dir=tmp_path / "o", progress=False,
                      metrics=("psnr", "lpips", "fid"), lpips_weights=lpips_path, fid_weights=fid_path)
    row = saved["rows"][0]
    assert row["lpips"] >= 0 and "fid" in row and "not_computed" in saved["settings"]
    assert saved["settings"]["not_computed"] == {}
    with pytest.raises(ValueError, match="lpips-weights"):
        run_bench(sample_dir, codecs=("jpeg",), crop=64, limit=1, out_dir=tmp_path / "p", metrics=("lpips",))
    with pytest.raises(ValueError, match="not an LPIPS weights file"):
        load_lpips(fid_path)


def test_bench_decodes_the_same_files_with_every_learned_decoder(sample_dir, tmp_path):
    pytest.importorskip("torch")
    saved = run_bench(sample_dir, codecs=("ncd",), ncd_qualities=(15,), decoders=("base", "nc", "cdc"),
                      ncd_steps={"nc": [1], "cdc": [2]}, crop=64, limit=1, out_dir=tmp_path / "o", progress=False,
                      metrics=("psnr", "haarpsi", "hf_energy_ratio"), device="cpu")
    assert not saved["skipped"]
    rows = {r["variant"]: r for r in saved["rows"]}
    assert set(rows) == {"base", "nc K=1", "cdc K=2"}
    assert len({r["bytes"] for r in rows.values()}) == 1  # one bitstream, three decoders
    for row in rows.values():
        assert 15 < row["psnr"] < 60 and 0 < row["haarpsi"] <= 1 and row["hf_energy_ratio"] > 0


def _card_run_args(data_dir, tmp_path, card, *extra):
    parser = argparse.ArgumentParser(prog="ncd bench")
    add_arguments(parser)
    return parser.parse_args([str(data_dir), "--codecs", "ncd,jpeg", "--qualities", "5,15,30,50", "--anchors", "none",
                              "--metrics", "psnr", "--device", "cpu", "--out", str(tmp_path / "o"), "--no-progress",
                              "--card", str(card), *extra])


def test_bench_writes_its_run_into_the_model_card(tmp_path, capsys):
    pytest.importorskip("torch")
    from ncdiff_bench.card import kodak_section
    from ncdiff_learned.weights import BASE_WEIGHTS, CARD_POINTS

    kodak = tmp_path / "kodak"  # the card records Kodak: a one-image folder of that name
    kodak.mkdir()
    shutil.copy(os.path.join(SAMPLES, "kodim05-half.png"), kodak / "kodim05-half.png")
    card = tmp_path / "base.json"
    shipped = json.loads(open(os.path.splitext(BASE_WEIGHTS)[0] + ".json").read())
    card.write_text(json.dumps({**shipped, "kodak": None, "history": [{"model_id": "earlier"}]}))

    assert cli_run(_card_run_args(kodak, tmp_path, card)) == 0
    section = json.loads(card.read_text())["kodak"]
    results = _strict_json(tmp_path / "o" / "results.json")
    measured = next(c for c in results["curves"] if c["label"] == "ncd base")["points"]
    assert [p[:3] for p in section[CARD_POINTS]] == [[p["quality"], round(p["bpp"], 4), round(p["psnr"], 2)]
                                                     for p in measured]
    bd = next(r for r in results["bd"] if r["reference"] == "jpeg")
    assert section["bd_rate_psnr_percent"] == {"pillow jpeg": round(bd["bd_rate_percent"], 1)}
    assert section["command"].startswith("ncd ") and "--card" in section["command"]
    assert section["bd_rate_psnr_percent_vs_previous_release"] is None  # the history kept no points
    assert "previous release: None%" in capsys.readouterr().out
    # A previous release that needed 30% more bits at every PSNR: this one is 1/1.3 - 1 = -23.1% against it
    # (from the unrounded points: the card's rounding alone can move the result by 0.05).
    earlier = [[p["quality"], p["bpp"] * 1.3, p["psnr"]] for p in measured]
    assert kodak_section(results, "", earlier)["bd_rate_psnr_percent_vs_previous_release"] == -23.1
    assert section["time_768x512_s"]["encode"] > 0


def test_bench_refuses_a_card_run_that_would_not_describe_the_release(sample_dir, tmp_path, capsys):
    card = tmp_path / "base.json"
    card.write_text("{}")
    assert cli_run(_card_run_args(sample_dir, tmp_path, card)) == 2
    assert "Kodak" in capsys.readouterr().err
    kodak = sample_dir.rename(tmp_path / "kodak")
    assert cli_run(_card_run_args(kodak, tmp_path, card, "--crop", "64")) == 2
    assert cli_run(_card_run_args(kodak, tmp_path, tmp_path / "missing.json")) == 2
    assert card.read_text() == "{}" and not (tmp_path / "o").exists()


def test_shipped_card_gives_the_committed_kodak_bench():
    from ncdiff_bench.card import kodak_section
    from ncdiff_learned.weights import BASE_WEIGHTS

    root = os.path.dirname(SAMPLES)
    results = json.loads(open(os.path.join(root, "docs", "bench", "base", "results.json")).read())
    card = json.loads(open(os.path.splitext(BASE_WEIGHTS)[0] + ".json").read())["kodak"]
    section = kodak_section(results, card["command"])
    for key in section:
        if key != "bd_rate_psnr_percent_vs_previous_release":  # needs the previous release's points
            assert section[key] == card[key], key
