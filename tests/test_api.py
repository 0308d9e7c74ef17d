"""The Python API with the JPEG fallback codec: modes, metadata, frames, options."""

import io

import numpy as np
import pytest
from PIL import Image

import ncdiff_plugin as ncd
from conftest import psnr


def test_rgb_round_trip_and_quality(sample_rgb):
    small = ncd.encode(sample_rgb, quality=10, codec="jpeg")
    large = ncd.encode(sample_rgb, quality=90, codec="jpeg")
    assert len(small) < len(large)
    low, high = ncd.decode(small), ncd.decode(large)
    assert low.mode == high.mode == "RGB" and high.size == sample_rgb.size
    assert psnr(sample_rgb, low) < psnr(sample_rgb, high)
    assert psnr(sample_rgb, high) > 32


def test_grayscale(sample_rgb):
    gray = sample_rgb.convert("L")
    out = ncd.decode(ncd.encode(gray, quality=90, codec="jpeg"))
    assert out.mode == "L" and psnr(gray, out) > 32


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_lossless(sample_rgb, mode):
    img = sample_rgb.convert(mode[:-1])
    alpha = Image.linear_gradient("L").resize(img.size)
    img.putalpha(alpha)
    data = ncd.encode(img, quality=60, codec="jpeg")
    out = ncd.decode(data)
    assert out.mode == mode
    assert np.array_equal(np.asarray(out.getchannel("A")), np.asarray(alpha))
    assert ncd.inspect(data)["frames"][0]["alpha_bytes"] > 0


def test_numpy_input(sample_rgb, coloured):
    arr = np.asarray(coloured)
    out = np.asarray(ncd.decode(ncd.encode(arr, quality=95, codec="jpeg")))
    # Red stays red: arrays are RGB.
    assert out[16, 5, 0] > 200 and out[16, 5, 2] < 60
    assert out[16, 40, 2] > 200 and out[16, 40, 0] < 60
    gray = ncd.decode(ncd.encode(arr[:, :, 0], quality=95, codec="jpeg"))
    assert gray.mode == "L"
    with pytest.raises(ncd.UnsupportedModeError, match="uint8"):
        ncd.encode(arr.astype(np.float32), codec="jpeg")
    with pytest.raises(ncd.UnsupportedModeError, match="shape"):
        ncd.encode(np.zeros((4, 4, 2), np.uint8), codec="jpeg")


def test_palette_converted_with_warning(sample_rgb):
    pal = sample_rgb.convert("P")
    with pytest.warns(UserWarning, match="converting mode P"):
        data = ncd.encode(pal, quality=80, codec="jpeg")
    assert ncd.decode(data).mode == "RGB"


def test_deep_modes_refused(sample_rgb):
    deep = sample_rgb.convert("L").convert("I;16")
    with pytest.raises(ncd.UnsupportedModeError, match="I;16"):
        ncd.encode(deep, codec="jpeg")
    with pytest.raises(ncd.UnsupportedModeError, match="mode F"):
        ncd.encode(sample_rgb.convert("L").convert("F"), codec="jpeg")


@pytest.mark.parametrize("quality", [0, 101, 5.5, "50", None, True])
def test_bad_quality(sample_rgb, quality):
    with pytest.raises(ncd.InvalidOptionError, match="quality"):
        ncd.encode(sample_rgb, quality=quality, codec="jpeg")


def test_unknown_codec_option(sample_rgb):
    with pytest.raises(ncd.InvalidOptionError, match="unknown codec 'nope'"):
        ncd.encode(sample_rgb, codec="nope")


def test_exif_icc_xmp_round_trip(sample_rgb):
    exif = Image.Exif()
    exif[0x010F] = "ncdiff-camera"  # Make
    exif[0x0112] = 6  # Orientation
    icc = b"\x00\x00\x02\x0cfake-icc-profile-bytes"
    xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>"
    data = ncd.encode(sample_rgb, codec="jpeg", exif=exif, icc_profile=icc, xmp=xmp)
    out = ncd.decode(data)
    assert out.getexif()[0x010F] == "ncdiff-camera" and out.getexif()[0x0112] == 6
    assert out.info["icc_profile"] == icc and out.info["xmp"] == xmp
    # Defaults come from the image's own info; b"" drops them.
    again = ncd.decode(ncd.encode(out, codec="jpeg"))
    assert again.info["icc_profile"] == icc
    dropped = ncd.decode(ncd.encode(out, codec="jpeg", exif=b"", icc_profile=b"", xmp=b""))
    assert "icc_profile" not in dropped.info and "exif" not in dropped.info


def test_frames_with_timestamps(sample_rgb):
    frames = [sample_rgb, sample_rgb.transpose(Image.Transpose.FLIP_LEFT_RIGHT), sample_rgb.rotate(180)]
    data = ncd.encode_frames(frames, quality=80, codec="jpeg", pts=[0, 3003, 6006], durations=[3003] * 3,
                             time_base=__import__("fractions").Fraction(1, 90000), fps=30000 / 1001)
    info = ncd.inspect(data)
    assert info["frame_count"] == 3 and info["time_base"] == "1/90000"
    assert [f["pts"] for f in info["frames"]] == [0, 3003, 6006]
    decoded = ncd.decode_frames(data)
    assert [im.info["pts"] for im in decoded] == [0, 3003, 6006]
    for ref, im in zip(frames, decoded):
        assert psnr(ref, im) > 30
    assert psnr(frames[2], ncd.decode(data, frame=2)) > 30
    with pytest.raises(ncd.InvalidOptionError, match="frame 3 out of range"):
        ncd.decode(data, frame=3)


def test_frames_must_share_size(sample_rgb):
    with pytest.raises(ncd.InvalidOptionError, match="frame 1"):
        ncd.encode_frames([sample_rgb, sample_rgb.crop((0, 0, 10, 10))], codec="jpeg")


def test_decode_accepts_paths_and_files(sample_rgb, tmp_path):
    data = ncd.encode(sample_rgb, codec="jpeg")
    path = tmp_path / "a.ncd"
    path.write_bytes(data)
    assert ncd.decode(str(path)).size == ncd.decode(path).size == ncd.decode(io.BytesIO(data)).size


def test_inspect_reads_no_pixels(sample_rgb, monkeypatch):
    data = ncd.encode(sample_rgb, codec="jpeg", quality=40)
    monkeypatch.setattr(ncd.get_codecs()["jpeg"], "decode", lambda *a, **k: pytest.fail("decoded pixels"))
    info = ncd.inspect(data)
    assert info["width"] == 96 and info["quality"] == 40 and info["file_bytes"] == len(data)
    assert info["bpp"] == pytest.approx(8 * len(data) / (96 * 64), abs=1e-3)
