"""The Pillow format registered by ``import ncdiff_plugin``."""

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

import ncdiff_plugin as ncd
from conftest import psnr


def test_registered():
    assert Image.registered_extensions()[".ncd"] == "NCD"
    assert Image.MIME["NCD"] == "image/x-ncd"
    assert "NCD" in Image.OPEN and "NCD" in Image.SAVE


def test_save_by_extension_and_open(sample_rgb, tmp_path):
    path = tmp_path / "x.ncd"
    sample_rgb.save(path, quality=40, codec="jpeg")
    with Image.open(path) as im:
        assert im.format == "NCD" and im.size == (96, 64) and im.mode == "RGB"
        assert im.info["codec"] == "jpeg" and im.info["quality"] == 40
        assert psnr(sample_rgb, im) > 28
    assert Image.open(path).get_format_mimetype() == "image/x-ncd"


def test_open_is_header_only(sample_rgb, monkeypatch):
    buf = io.BytesIO()
    sample_rgb.save(buf, format="NCD", codec="jpeg")
    calls = []
    jpeg = ncd.get_codecs()["jpeg"]
    original = jpeg.decode
    monkeypatch.setattr(jpeg, "decode", lambda *a, **k: calls.append(1) or original(*a, **k))
    buf.seek(0)
    im = Image.open(buf)
    assert im.size == (96, 64) and calls == []
    im.load()
    assert calls == [1]


def test_quality_changes_size(sample_rgb):
    sizes = []
    for q in (10, 90):
        buf = io.BytesIO()
        sample_rgb.save(buf, format="NCD", quality=q, codec="jpeg")
        sizes.append(buf.tell())
    assert sizes[0] < sizes[1]


def test_exif_and_icc_survive(sample_rgb, tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 3  # rotate 180
    icc = b"\x00\x00\x01\x00not-a-real-profile"
    path = tmp_path / "meta.ncd"
    sample_rgb.save(path, format="NCD", codec="jpeg", exif=exif, icc_profile=icc)
    with Image.open(path) as im:
        assert im.info["icc_profile"] == icc
        assert im.getexif()[0x0112] == 3
        upright = ImageOps.exif_transpose(im)
        assert upright.size == (96, 64)


def test_rgba_and_convert_thumbnail(sample_rgb):
    rgba = sample_rgb.convert("RGBA")
    rgba.putalpha(128)
    buf = io.BytesIO()
    rgba.save(buf, format="NCD", codec="jpeg")
    buf.seek(0)
    with Image.open(buf) as im:
        assert im.mode == "RGBA"
        assert np.all(np.asarray(im)[:, :, 3] == 128)
        gray = im.convert("L")
        assert gray.size == (96, 64)
        im.thumbnail((48, 48))
        assert max(im.size) == 48


def test_not_ncd_is_unidentified():
    from PIL import UnidentifiedImageError

    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(b"not an image at all"))


def test_corrupt_file_fails_at_load(sample_rgb):
    buf = io.BytesIO()
    sample_rgb.save(buf, format="NCD", codec="jpeg")
    data = bytearray(buf.getvalue())
    data[-30] ^= 1
    im = Image.open(io.BytesIO(bytes(data)))  # header is intact
    with pytest.raises(ncd.ChecksumError):
        im.load()


def test_multi_frame_save_all_seek_tell(sample_rgb, tmp_path):
    frames = [sample_rgb, sample_rgb.rotate(90, expand=False), sample_rgb.convert("L").convert("RGB")]
    path = tmp_path / "anim.ncd"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=[40, 50, 60], codec="jpeg", quality=90)
    with Image.open(path) as im:
        assert im.n_frames == 3 and im.is_animated
        seen = []
        for i in range(im.n_frames):
            im.seek(i)
            assert im.tell() == i
            seen.append((im.info["timestamp"], im.info["duration"], psnr(frames[i], im)))
        assert [s[:2] for s in seen] == [(0, 40), (40, 50), (90, 60)]
        assert all(s[2] > 30 for s in seen)
        with pytest.raises(EOFError):
            im.seek(3)


def test_decode_options_are_module_settings(sample_rgb, monkeypatch):
    from ncdiff_plugin import options

    buf = io.BytesIO()
    sample_rgb.save(buf, format="NCD", codec="jpeg")
    seen = {}
    jpeg = ncd.get_codecs()["jpeg"]
    original = jpeg.decode
    monkeypatch.setattr(jpeg, "decode", lambda p, h, **kw: seen.update(kw) or original(p, h, **kw))
    monkeypatch.setattr(options, "STEPS", 3)
    monkeypatch.setattr(options, "SEED", 7)
    buf.seek(0)
    Image.open(buf).load()
    assert seen == {"steps": 3, "seed": 7}


def test_missing_codec_fails_at_load_naming_plugin(sample_rgb):
    from ncdiff_plugin import container

    parsed = container.read(ncd.encode(sample_rgb, codec="jpeg"))
    parsed.header.codec_id, parsed.header.plugin = "exotic", "ncdiff-exotic"
    im = Image.open(io.BytesIO(container.write(parsed)))
    assert im.size == (96, 64)  # opening needs no codec
    with pytest.raises(ncd.UnknownCodecError, match="ncdiff-exotic"):
        im.load()


def test_imageio_reads_ncd(sample_rgb, tmp_path):
    iio = pytest.importorskip("imageio.v3")
    path = tmp_path / "x.ncd"
    sample_rgb.save(path, codec="jpeg", quality=90)
    arr = iio.imread(path)
    assert arr.shape == (64, 96, 3) and psnr(sample_rgb, arr) > 30
