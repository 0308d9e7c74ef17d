"""The PyAV adapter (av_ncd) and ``ncd video``: keyframes into one .ncd, and back to video / PNG."""

import math
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

import ncdiff_plugin as ncd
from ncdiff_plugin import cli, container

from conftest import psnr

av = pytest.importorskip("av")
import av_ncd  # noqa: E402

REALSHORT = "/work/shared/data/video/realshort.mp4"
W, H, N, GOP, RATE = 64, 48, 24, 8, 24


def pattern(i: int) -> np.ndarray:
    """Red on the left to blue on the right through green, a vertical ramp, and a brighter
    square moving right.  Colours change smoothly (4:2:0 chroma and JPEG keep them well)."""
    x = np.linspace(0.0, 1.0, W)[None, :]
    y = np.linspace(0.0, 1.0, H)[:, None]
    arr = np.stack([
        20 + 200 * (1 - x) + 0 * y,
        40 + 150 * np.exp(-(((x - 0.5) / 0.2) ** 2)) + 0 * y,
        20 + 200 * x + 0 * y,
    ], axis=2) + 20 * y[:, :, None]
    left = (2 * i) % (W - 8)
    arr[8:20, left:left + 8] += 35
    return np.clip(arr, 0, 255).round().astype(np.uint8)


def keyframe_pts(path):
    with av.open(path) as box:
        stream = box.streams.video[0]
        return sorted(p.pts for p in box.demux(stream) if p.size and p.is_keyframe)


def decoded(path):
    """[(RGB array, pts seconds)] of every frame, and the stream's size."""
    with av.open(path) as box:
        stream = box.streams.video[0]
        out = [(f.to_ndarray(format="rgb24"), float(f.pts * f.time_base)) for f in box.decode(stream)]
        return out, (stream.codec_context.width, stream.codec_context.height)


@pytest.fixture(scope="session")
def video(tmp_path_factory) -> str:
    """24 frames of 64x48 H.264 at 24 fps, a keyframe every 8 frames (3 in all)."""
    path = str(tmp_path_factory.mktemp("video") / "pattern.mp4")
    with av.open(path, "w") as box:
        stream = box.add_stream("libx264", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.gop_size = GOP
        stream.codec_context.options = {"crf": "12", "preset": "veryfast", "sc_threshold": "0",
                                        "keyint_min": str(GOP)}
        for i in range(N):
            frame = av.VideoFrame.from_ndarray(pattern(i), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                box.mux(packet)
        for packet in stream.encode():
            box.mux(packet)
    return path


@pytest.fixture(scope="session")
def all_ncd(video, tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("ncd") / "all.ncd")
    av_ncd.encode_keyframes(video, path, codec="jpeg", quality=95, all_frames=True)
    return path


@pytest.fixture(scope="session")
def key_ncd(video, tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("ncd") / "keys.ncd")
    av_ncd.encode_keyframes(video, path, codec="jpeg", quality=95)
    return path


# -- reading and encoding -------------------------------------------------------


def test_keyframes_match_pyav(video):
    data = av_ncd.encode_keyframes(video, codec="jpeg")
    info = ncd.inspect(data)
    assert av_ncd.count_keyframes(video) == 3
    assert info["frame_count"] == av_ncd.count_keyframes(video)
    assert [f["pts"] for f in info["frames"]] == keyframe_pts(video)
    vi = av_ncd.probe(video)
    assert (vi.width, vi.height, vi.frames, vi.fps) == (W, H, N, Fraction(RATE))
    assert info["time_base"] == str(vi.time_base) and info["fps"] == "24"
    assert (info["width"], info["height"], info["codec"]) == (W, H, "jpeg")
    tick = int(1 / (vi.fps * vi.time_base))
    assert [f["pts"] for f in info["frames"]] == [0, GOP * tick, 2 * GOP * tick]
    assert all(f["duration"] == tick for f in info["frames"])


def test_same_file_as_encode_frames(video):
    """Frame-by-frame compression gives exactly the file encode_frames writes from all frames."""
    reader = av_ncd.read_frames(video, every=3)
    frames = list(reader)
    expected = ncd.encode_frames([f[0] for f in frames], 60, "jpeg", pts=[f[1] for f in frames],
                                 durations=[f[2] for f in frames], time_base=reader.info.time_base,
                                 fps=reader.info.fps)
    assert av_ncd.encode_keyframes(video, codec="jpeg", quality=60, every=3) == expected


def test_every_and_all(video):
    tick = int(1 / (Fraction(RATE) * av_ncd.probe(video).time_base))
    every5 = ncd.inspect(av_ncd.encode_keyframes(video, codec="jpeg", every=5))
    assert [f["pts"] for f in every5["frames"]] == [i * tick for i in range(0, N, 5)]
    assert every5["frame_count"] == math.ceil(N / 5)
    everything = ncd.inspect(av_ncd.encode_keyframes(video, codec="jpeg", all_frames=True))
    assert [f["pts"] for f in everything["frames"]] == [i * tick for i in range(N)]


def test_read_frames_colours(video):
    with av_ncd.read_frames(video, keyframes_only=False) as reader:
        assert reader.expected == N
        frames = list(reader)
    assert len(frames) == N
    img, pts, duration = frames[9]
    assert img.mode == "RGB" and img.size == (W, H)
    assert psnr(img, pattern(9)) > 35
    r, g, b = np.asarray(img)[40, 5].astype(int)  # the red third, below the square
    assert r > 150 and g < 80 and b < 80
    r, g, b = np.asarray(img)[40, W - 5].astype(int)  # the blue third
    assert b > 150 and r < 80 and g < 80


def test_bad_inputs(tmp_path, video):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n")
    with pytest.raises(ncd.CorruptFileError, match="not a video"):
        av_ncd.encode_keyframes(str(text))
    with pytest.raises(ncd.NCDError, match="no such file"):
        av_ncd.count_keyframes(str(tmp_path / "missing.mp4"))
    with pytest.raises(ncd.InvalidOptionError):
        av_ncd.read_frames(video, every=0)
    with pytest.raises(ncd.InvalidOptionError, match="over the limit"):
        av_ncd.encode_keyframes(video, codec="jpeg", all_frames=True, max_frames=10)
    with pytest.raises(ncd.InvalidOptionError, match="more than 2"):
        av_ncd.encode_keyframes(video, codec="jpeg", max_frames=2)
    with pytest.raises(ncd.InvalidOptionError, match="input"):
        av_ncd.encode_keyframes(video, video, codec="jpeg")
    assert os.path.getsize(video) > 0


def test_keyframes_stop_at_the_total_pixel_limit(video, monkeypatch):
    from ncdiff_plugin import options

    monkeypatch.setattr(options, "MAX_TOTAL_PIXELS", W * H * 3 // 2)  # refused over twice the limit: 4 frames
    with pytest.raises(ncd.ImageTooLargeError, match="MAX_TOTAL_PIXELS"):
        av_ncd.encode_keyframes(video, codec="jpeg", all_frames=True)


@pytest.mark.skipif(not os.path.exists(REALSHORT), reason="shared test video absent")
def test_realshort_keyframes():
    data = av_ncd.encode_keyframes(REALSHORT, codec="jpeg", quality=50)
    info = ncd.inspect(data)
    assert info["frame_count"] == av_ncd.count_keyframes(REALSHORT) >= 1
    assert [f["pts"] for f in info["frames"]] == keyframe_pts(REALSHORT)
    assert (info["width"], info["height"]) == (320, 240)


# -- restoring ------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_restore_all_frames(all_ncd, tmp_path, ext):
    out = str(tmp_path / f"restored{ext}")
    written = av_ncd.restore(all_ncd, out, batch=5)
    parsed = container.read(open(all_ncd, "rb"))
    assert written == [f.pts for f in parsed.frames]
    frames, size = decoded(out)
    assert size == (W, H) and len(frames) == N
    tb = parsed.header.time_base
    for (arr, t), f, i in zip(frames, parsed.frames, range(N)):
        assert abs(t - float(f.pts * tb)) <= 0.001  # Matroska keeps milliseconds
        assert psnr(arr, pattern(i)) > 30
    arr = frames[3][0].astype(int)
    assert arr[40, 5, 0] > 150 and arr[40, 5, 1:].max() < 80  # red stays red (channel order)
    if ext == ".mkv":  # FFV1: the decoded frames, losslessly
        ref = ncd.decode_frames(all_ncd)
        assert all(np.array_equal(arr, np.asarray(img)) for (arr, _), img in zip(frames, ref))


def test_restore_keyframes_at_their_times(key_ncd, video, tmp_path):
    out = str(tmp_path / "keys.mp4")
    written = av_ncd.restore(key_ncd, out)
    assert written == keyframe_pts(video)
    frames, _ = decoded(out)
    tb = av_ncd.probe(video).time_base
    assert [t for _, t in frames] == pytest.approx([float(p * tb) for p in written], abs=1e-3)
    assert [round(t * RATE) for _, t in frames] == [0, GOP, 2 * GOP]
    assert psnr(frames[1][0], pattern(GOP)) > 30


def test_restore_png_folder(key_ncd, tmp_path):
    folder = tmp_path / "frames"
    written = av_ncd.restore(key_ncd, str(folder) + "/")
    names = sorted(os.listdir(folder))
    assert names == [f"frame_{i:06d}.png" for i in range(3)]
    ref = ncd.decode_frames(key_ncd)
    for name, img, pts in zip(names, ref, written):
        with Image.open(folder / name) as png:
            assert np.array_equal(np.asarray(png), np.asarray(img))
            assert png.text["pts"] == str(pts)
    with pytest.raises(ncd.InvalidOptionError, match="not empty"):
        av_ncd.restore(key_ncd, str(folder), overwrite=False)
    assert av_ncd.restore(key_ncd, str(folder), overwrite=True) == written
    with pytest.raises(ncd.InvalidOptionError, match="video format"):
        av_ncd.restore(key_ncd, str(tmp_path / "out.avi"))
    av_ncd.restore(key_ncd, str(tmp_path / "x.mp4"))
    with pytest.raises(ncd.InvalidOptionError, match="exists"):
        av_ncd.restore(key_ncd, str(tmp_path / "x.mp4"), overwrite=False)


def test_restore_odd_size_and_no_pts(tmp_path):
    """H.264 pads odd sizes by a copy of the last column / row; frames without pts get 1/fps ticks."""
    rng = np.random.default_rng(0)
    base = np.asarray(Image.fromarray(pattern(0)).resize((33, 25)))
    imgs = [np.clip(base.astype(int) + rng.integers(-3, 4, base.shape), 0, 255).astype(np.uint8) for _ in range(3)]
    src = tmp_path / "odd.ncd"
    src.write_bytes(ncd.encode_frames(imgs, 95, "jpeg", fps=10))  # every pts is 0
    out = str(tmp_path / "odd.mp4")
    with pytest.warns(UserWarning, match="do not increase"):
        assert av_ncd.restore(str(src), out) == [0, 1, 2]
    frames, size = decoded(out)
    assert size == (34, 26) and [t for _, t in frames] == pytest.approx([0, 0.1, 0.2])
    assert psnr(frames[0][0][:25, :33], imgs[0]) > 28
    assert np.abs(frames[0][0][:25, 33].astype(int) - frames[0][0][:25, 32]).mean() < 6  # padding copies


def test_learned_codec_round_trip(video, tmp_path):
    reason = ncd.get_codecs()["learned"].unavailable_reason()
    if reason:
        pytest.skip(f"learned codec unavailable: {reason}")
    out = str(tmp_path / "keys.ncd")
    av_ncd.encode_keyframes(video, out, codec="learned", quality=75, device="cpu")
    info = ncd.inspect(out)
    assert info["codec"] == "learned" and info["frame_count"] == av_ncd.count_keyframes(video)
    restored = str(tmp_path / "keys.mkv")
    assert av_ncd.restore(out, restored, decoder="base", device="cpu", batch=2) == keyframe_pts(video)
    frames, _ = decoded(restored)
    ref = ncd.decode_frames(out, decoder="base", device="cpu")
    assert len(frames) == len(ref) == 3
    # FFV1 keeps the decoded RGB exactly: what the learned decoder produced, in channel order
    assert all(np.array_equal(arr, np.asarray(img)) for (arr, _), img in zip(frames, ref))
    print("learned codec PSNR of the keyframes:", [round(psnr(arr, pattern(i * GOP)), 2) for i, (arr, _) in enumerate(frames)])


# -- command line and plugin ------------------------------------------------------


def test_cli_keyframes_and_restore(video, tmp_path, capsys):
    out = str(tmp_path / "k.ncd")
    assert cli.main(["video", "keyframes", video, out, "--codec", "jpeg", "-q", "50"]) == 0
    stdout = capsys.readouterr().out
    assert "3 keyframes of 64x48" in stdout and "bpp per frame" in stdout
    assert ncd.inspect(out)["frame_count"] == 3
    before = open(out, "rb").read()
    assert cli.main(["video", "keyframes", video, out, "--codec", "jpeg", "--all"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ncd: error:") and "-f" in err and err.count("\n") == 1
    assert open(out, "rb").read() == before
    assert cli.main(["video", "keyframes", video, out, "--codec", "jpeg", "--every", "4", "-f", "--quiet"]) == 0
    assert ncd.inspect(out)["frame_count"] == 6 and capsys.readouterr().out == ""
    mp4 = str(tmp_path / "r.mp4")
    assert cli.main(["video", "restore", out, mp4, "--batch", "4", "--quiet"]) == 0
    assert len(decoded(mp4)[0]) == 6
    assert cli.main(["video", "restore", out, mp4]) == 1
    assert cli.main(["video", "bench", video, "--codec", "jpeg"]) == 0
    assert "keyframes/s" in capsys.readouterr().out


def test_cli_not_a_video(tmp_path, capsys):
    bad = tmp_path / "notes.mp4"
    bad.write_text("hello\n")
    out = tmp_path / "out.ncd"
    assert cli.main(["video", "keyframes", str(bad), str(out), "--codec", "jpeg"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ncd: error: not a video") and err.count("\n") == 1
    assert not out.exists() and os.listdir(tmp_path) == ["notes.mp4"]
    assert cli.main(["video", "restore", str(bad), str(tmp_path / "r.mp4")]) == 1
    assert capsys.readouterr().err.startswith("ncd: error:")
    assert os.listdir(tmp_path) == ["notes.mp4"]


def test_adapter_registered_and_cheap_to_import():
    assert "ncd video" in ncd.plugins.get_adapters()["pyav"]["description"]
    code = ("import sys, ncdiff_plugin, ncdiff_plugin.cli, av_ncd; ncdiff_plugin.plugins.load_plugins(); "
            "ncdiff_plugin.cli.build_parser(); print('av' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
