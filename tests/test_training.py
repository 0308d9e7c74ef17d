"""Training of the base codec, run for real on the CPU for a few steps: the
step-scaled model, the probe, resumable checkpoints, --init, the equal-time
comparison and the GPU leg's carry-in / carry-out path (its CPU dry run)."""

import json
import os

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")

from conftest import SAMPLES  # noqa: E402
from ncdiff_learned.models import StepScaledCheckerboardHyperprior  # noqa: E402
from ncdiff_learned.rate import LAMBDAS  # noqa: E402
from ncdiff_learned.training import leg  # noqa: E402
from ncdiff_learned.training.cli import main as train_main  # noqa: E402
from ncdiff_learned.training.compare import read_probes  # noqa: E402
from ncdiff_learned.training.export import release_history, shift_top_step  # noqa: E402
from ncdiff_learned.weights import BASE_WEIGHTS, CARD_POINTS, load_model, write_card  # noqa: E402

# A few steps of the smallest model that is still the real architecture.
TINY = ["--recipe", "cpu", "--threads", "1", "--crop", "64", "--batch", "2", "-N", "16", "-M", "24",
        "--checkpoint-every", "1e9", "--log-every", "1", "--eval-images", "1"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Four smooth synthetic 'photos' (never Kodak), in a nested folder."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(4):
        coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        img = Image.fromarray(coarse).resize((160, 120), Image.Resampling.BICUBIC)
        os.makedirs(folder / f"set{i % 2}", exist_ok=True)
        img.save(folder / f"set{i % 2}" / f"p{i}.jpg", quality=95)
    return str(folder)


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory):
    """One small probe image (a crop of a sample)."""
    folder = tmp_path_factory.mktemp("probe")
    with Image.open(os.path.join(SAMPLES, "kodim23-half.png")) as im:
        im.convert("RGB").crop((0, 0, 128, 64)).save(folder / "probe.png")
    return str(folder)


def test_step_scaled_model_round_trip_and_rate_order():
    torch.manual_seed(0)
    model = StepScaledCheckerboardHyperprior(N=16, M=24).eval()
    model.update(force=True)
    x = torch.rand(1, 3, 40, 70)
    steps = [model.step_for_quality(q)[0] for q in (1, 30, 60, 100)]
    assert steps == sorted(steps, reverse=True) and steps[-1] == 1.0  # coarser steps at lower quality
    for q in (1, 55, 100):
        strings, y_sent = model.compress(x, q)
        y_got = model.decompress_latent(strings, 40, 70, q)
        assert torch.equal(y_sent, y_got)


def test_crop_sampler_downscales_no_further_than_the_crop(photos):
    from ncdiff_learned.training.data import CropSampler

    # The 160x120 photos at 0.75 are 120x90; at 0.5 they would be 80x60, under a 100-pixel crop,
    # so they are downscaled only to 100 rows instead of dropped.
    assert {tuple(img.shape) for img in CropSampler(photos, crop=64, scale=0.75).images} == {(3, 90, 120)}
    sampler = CropSampler(photos, crop=100, scale=0.5)
    assert {tuple(img.shape) for img in sampler.images} == {(3, 100, 133)} and len(sampler.images) == 4
    assert sampler.batch(2).shape == (2, 3, 100, 100)
    with pytest.raises(ValueError, match="at least 200 pixels"):
        CropSampler(photos, crop=200)


def test_train_probe_resume_export_and_init(photos, probe_dir, tmp_path, sample_rgb):
    work = str(tmp_path / "run")
    common = ["base", "--data", photos, "--workdir", work, "--eval-data", probe_dir, "--eval-every", "1e9", *TINY]
    assert train_main([*common, "--steps", "3", "--ema", "0.9", "--schedule", "cosine"]) == 0
    probes = read_probes(os.path.join(work, "base.log.jsonl"))
    assert [p["step"] for p in probes] == [0, 3]  # before the first step and at the end
    assert set(probes[-1]["eval"]) == {"q5", "q30", "q60", "q95"}
    assert all(bpp > 0 and 0 < db < 60 for bpp, db in probes[-1]["eval"].values())

    # Resuming continues the step count; exporting writes loadable weights and a card.
    weights = str(tmp_path / "w" / "base.safetensors")
    assert train_main([*common, "--steps", "5", "--ema", "0.9", "--export-to", weights]) == 0
    card = json.load(open(weights.replace(".safetensors", ".json")))
    assert card["steps"] == 5 and card["steps_total"] == 5 and card["history"] == []
    assert card["lambdas"] == list(LAMBDAS)  # the trade-offs the levels were trained for
    model, metadata, _ = load_model(weights)
    assert metadata["architecture"] == "StepScaledCheckerboardHyperprior" and (model.N, model.M) == (16, 24)

    # The exported weights code real bitstreams.
    x = torch.from_numpy(np.asarray(sample_rgb.crop((0, 0, 64, 48)), np.float32) / 255).permute(2, 0, 1)[None]
    strings, y_sent = model.compress(x, 50)
    assert torch.equal(model.decompress_latent(strings, 48, 64, 50), y_sent)
    assert model.synthesize(y_sent, 48, 64).shape == (1, 3, 48, 64)

    # --init continues those weights with a fresh optimizer; the card counts both runs.
    again = str(tmp_path / "w" / "again.safetensors")
    assert train_main(["base", "--data", photos, "--workdir", str(tmp_path / "run2"), "--steps", "2",
                       "--init", weights, "--export-to", again, *TINY]) == 0
    card2 = json.load(open(again.replace(".safetensors", ".json")))
    assert card2["init"] == card["model_id"] and card2["steps"] == 2 and card2["steps_total"] == 7
    assert card2["model_id"].endswith("-s7")

    # Weights never benched were no release: exporting over them leaves no line for them ...
    assert card2["history"] == []
    # ... while an earlier release (a card the bench filled) stays in the card's history.
    card_path = weights.replace(".safetensors", ".json")
    write_card(card_path, {**card, "kodak": {CARD_POINTS: [[1, 0.05, 22.0, 0.72]], "bd_rate_psnr_percent": {}}})
    assert train_main(["base", "--data", photos, "--workdir", str(tmp_path / "run3"), "--steps", "1",
                       "--init", weights, "--export-to", weights, *TINY]) == 0
    card3 = json.load(open(card_path))
    assert [h["model_id"] for h in card3["history"]] == [card["model_id"]]
    assert card3["history"][0]["kodak_points"] == [[1, 0.05, 22.0, 0.72]]

    # A release may lower the top level's step: quality 100 then spends more bits for more dB,
    # the levels below are untouched, and the card records the shift and the new digest.
    rate = lambda m, q: sum(len(b) for b in m.compress(x, q)[0])  # noqa: E731
    model, _, _ = load_model(weights)
    before = [model.step_for_quality(q)[0] for q in (1, 50, 100)]
    digest = shift_top_step(weights, 0.2)
    shifted, _, sha = load_model(weights)
    after = [shifted.step_for_quality(q)[0] for q in (1, 50, 100)]
    assert after[:2] == before[:2] and after[2] < before[2] and rate(shifted, 100) >= rate(model, 100)
    card4 = json.load(open(card_path))
    assert card4["sha256"] == digest == sha.hex() and card4["top_step_shift"] == 0.2
    with pytest.raises(ValueError, match="coarser"):
        shift_top_step(weights, -5.0)


def test_release_history_keeps_the_previous_release_points():
    points = [[1, 0.05, 22.0, 0.72], [100, 1.7, 35.0, 0.99]]
    # A card whose history already lists itself (as the shipped ones do), measured after export.
    card = {"model_id": "b", "steps_total": 9, "kodak": {CARD_POINTS: points, "bd_rate_psnr_percent": {"jpeg": -9}},
            "history": [{"model_id": "a"}, {"model_id": "b", "kodak_points": None}]}
    history = release_history(card)
    assert [h["model_id"] for h in history] == ["a", "b"]
    assert history[-1]["kodak_points"] == points and history[-1]["kodak_bd_rate_psnr_percent"] == {"jpeg": -9}


def test_level_balance_evens_the_levels_loss_for_the_shipped_codec(sample_rgb):
    from ncdiff_learned.training.base import lambdas, level_weights, rd_terms
    from ncdiff_learned.weights import BASE_WEIGHTS

    model = load_model(BASE_WEIGHTS)[0].eval()
    x = torch.from_numpy(np.asarray(sample_rgb.crop((0, 0, 128, 128)), np.float32) / 255).permute(2, 0, 1)[None]
    level = torch.tensor([0.0, float(len(LAMBDAS) - 1)])
    with torch.no_grad():
        bpp, mse = rd_terms(model, x.expand(2, -1, -1, -1), level)
    lmbda = lambdas(level)
    loss = lmbda * 255.0**2 * mse + bpp
    assert torch.equal(level_weights(lmbda, 0.0), torch.ones(2))  # power 0: the plain mean
    assert loss[1] / loss[0] > 20  # unweighted, the top level's loss dwarfs the lowest's
    weighted = level_weights(lmbda, 0.5) * loss
    assert 1 / 3 < weighted[1] / weighted[0] < 3


def test_base_takes_the_chosen_recipe_unless_a_flag_says_otherwise():
    import argparse

    from ncdiff_learned.training.cli import add_arguments, resolve

    parser = argparse.ArgumentParser()
    add_arguments(parser)

    def resolved(*argv):
        return resolve(parser.parse_args([*argv, "--data", "photos"]))

    cpu, gpu = resolved("base"), resolved("base", "--recipe", "gpu")
    assert (cpu.crop, cpu.batch, cpu.level_balance, cpu.schedule) == (256, 4, 0.5, "cosine")
    assert (gpu.crop, gpu.batch, gpu.level_balance) == (256, 16, 0.5)
    flagged = resolved("base", "--crop", "128", "--batch", "8", "--level-balance", "0")
    assert (flagged.crop, flagged.batch, flagged.level_balance) == (128, 8, 0.0)
    assert (resolved("nc").crop, resolved("nc").batch) == (128, 8)  # the decoders keep the machine's recipe


def test_init_refuses_another_architecture(photos, tmp_path):
    from ncdiff_learned.weights import BASE_WEIGHTS

    shipped = load_model(BASE_WEIGHTS)[1]["architecture"]
    other = "gain" if shipped.startswith("StepScaled") else "step"
    with pytest.raises(SystemExit, match="holds a"):
        train_main(["base", "--data", photos, "--workdir", str(tmp_path / "r"), "--steps", "1",
                    "--init", BASE_WEIGHTS, "--arch", other, *TINY])


def test_equal_time_comparison_prints_one_table(photos, probe_dir, tmp_path, capsys):
    report = tmp_path / "report"
    assert train_main(["base", "--data", photos, "--workdir", str(tmp_path / "cmp"), "--eval-data", probe_dir,
                       "--candidates", "gain,step", "--time-limit", "2", "--eval-every", "1",
                       "--report", str(report), *TINY]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("| gain") or line.startswith("| step")]
    assert len(table) == 2 and "+0.0%" in table[0]
    assert (report / "curves.png").stat().st_size > 0
    text = (report / "compare.md").read_text()
    assert "| candidate | train s | step |" in text and "CPU seconds" in text
    for name in ("gain", "step"):
        probes = read_probes(str(tmp_path / "cmp" / name / "base.log.jsonl"))
        assert probes[0]["wall_s"] == 0 and probes[-1]["wall_s"] >= 2


def test_gpu_leg_dry_run_carries_parts_between_legs(photos, tmp_path):
    """The GPU leg's command, on the CPU: parts out of one leg are the next leg's start."""
    first, second = tmp_path / "leg1", tmp_path / "leg2"
    flags = ["--recipe", "cpu", "--minutes", "0.02", "--part-mb", "8", "--threads", "1", "--crop", "64",
             "--batch", "2", "--steps", "2"]
    # Leg 1 starts from the shipped weights (no parts to carry in yet).
    assert leg.main(["--data", photos, "--carry", str(tmp_path / "empty"), "--out", str(first), *flags]) == 0
    parts = sorted(p for p in os.listdir(first) if p.startswith(leg.PART_PREFIX))
    assert len(parts) > 1 and all(os.path.getsize(first / p) <= 8_000_000 for p in parts)
    assert {"base.json", "base.log.jsonl"} <= set(os.listdir(first)) and "work" not in os.listdir(first)
    card1 = json.load(open(first / "base.json"))
    assert train_steps(first) >= 1
    # The leg's card continues the shipped card's release history (its folder had no card to replace).
    with open(BASE_WEIGHTS.replace(".safetensors", ".json")) as f:
        shipped = json.load(f)
    assert card1["history"] == release_history(shipped) and card1["history"][-1]["model_id"] == shipped["model_id"]

    assert leg.main(["--data", photos, "--carry", str(first), "--out", str(second), *flags]) == 0
    card2 = json.load(open(second / "base.json"))
    assert card2["init"] == card1["model_id"] and card2["steps_total"] == card1["steps_total"] + card2["steps"]
    assert card2["history"] == card1["history"]  # leg 1 was never benched: no release of its own
    joined = leg.join_parts(str(second), str(tmp_path / "joined.safetensors"))
    model, metadata, _ = load_model(joined)
    assert metadata["model_id"] == card2["model_id"]


def train_steps(folder) -> int:
    with open(folder / "base.log.jsonl") as f:
        return max(json.loads(line).get("step", 0) for line in f)
