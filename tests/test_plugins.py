"""Plugins: hooks, entry-point discovery, a third-party codec round trip."""

import inspect
import io
import os
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

import ncdiff_plugin as ncd
from ncdiff_plugin import cli, hookspecs, plugins

THIRD_PARTY = textwrap.dedent('''
    """A third-party codec: raw 8-bit samples, zlib-compressed."""
    import zlib
    from PIL import Image
    import ncdiff_plugin as ncd

    class ZlibCodec(ncd.Codec):
        id = "zlib-raw"
        plugin = "ncdiff-zlib"
        description = "lossless zlib of raw samples"

        def encode(self, image, quality, **options):
            return [zlib.compress(image.tobytes(), 9)]

        def decode(self, payloads, header, **options):
            mode = "L" if header.mode in ("L", "LA") else "RGB"
            return Image.frombytes(mode, (header.width, header.height), zlib.decompress(payloads[0]))

    class FakeJpeg(ZlibCodec):
        id = "jpeg"

    @ncd.hookimpl
    def register_codecs(register):
        register(ZlibCodec())
        register(FakeJpeg())  # must not replace the built-in

    @ncd.hookimpl
    def register_adapters(register):
        register("zlib-demo", "a demo adapter", "ncd_zlib_plugin")

    @ncd.hookimpl
    def register_commands(subparsers):
        p = subparsers.add_parser("zlib-hello", help="say hello")
        p.set_defaults(func=lambda args: print("hello from zlib") or 0)
''')


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    """Installs a plugin the way pip would: a module plus a dist-info with an entry point."""
    (tmp_path / "ncd_zlib_plugin.py").write_text(THIRD_PARTY)
    dist = tmp_path / "ncdiff_zlib-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ncdiff-zlib\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ncdiff]\nzlib = ncd_zlib_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(plugins.DISABLE_ENV, raising=False)
    plugins.reset()
    yield
    sys.modules.pop("ncd_zlib_plugin", None)
    plugins.reset()


def test_third_party_codec_round_trip(third_party, sample_rgb):
    codecs = ncd.get_codecs()
    assert "zlib-raw" in codecs and codecs["zlib-raw"].plugin == "ncdiff-zlib"
    data = ncd.encode(sample_rgb, codec="zlib-raw")
    assert ncd.inspect(data)["plugin"] == "ncdiff-zlib"
    assert np.array_equal(np.asarray(ncd.decode(data)), np.asarray(sample_rgb))
    # And through Pillow.
    buf = io.BytesIO()
    sample_rgb.save(buf, format="NCD", codec="zlib-raw")
    buf.seek(0)
    assert np.array_equal(np.asarray(Image.open(buf)), np.asarray(sample_rgb))


def test_environment_disables_external_plugins(third_party, monkeypatch, sample_rgb):
    data = ncd.encode(sample_rgb, codec="zlib-raw")
    monkeypatch.setenv(plugins.DISABLE_ENV, "1")
    plugins.reset()
    assert "zlib-raw" not in ncd.get_codecs() and "jpeg" in ncd.get_codecs()
    with pytest.raises(ncd.UnknownCodecError, match="ncdiff-zlib"):
        ncd.decode(data)
    monkeypatch.setenv(plugins.DISABLE_ENV, "zlib")
    plugins.reset()
    assert "zlib-raw" not in ncd.get_codecs()


def test_builtins_cannot_be_hijacked(third_party):
    from ncdiff_plugin import plugins as p

    assert "ncd_zlib_plugin" in [i.plugin.__name__ for i in p.load_plugins().hook.register_codecs.get_hookimpls()]
    assert type(ncd.get_codecs()["jpeg"]).__module__ == "ncdiff_jpeg"


def test_every_hookspec_documented_and_exercised(third_party, capsys):
    specs = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if hasattr(fn, "ncdiff_spec")]
    assert sorted(specs) == ["register_adapters", "register_codecs", "register_commands"]
    readme = open(os.path.join(os.path.dirname(__file__), "..", "docs", "plugins.md")).read()
    for name in specs:
        fn = getattr(hookspecs, name)
        assert fn.__doc__ and "register" in fn.__doc__ or "subparsers" in fn.__doc__
        signature = f"{name}{inspect.signature(fn)}"
        assert signature in readme, f"{signature} is not documented in docs/plugins.md"
        assert plugins.load_plugins().hook.__dict__[name].get_hookimpls(), f"no implementation of {name}"
    # Exercised: each hook's registration is visible to a user.
    assert "zlib-demo" in plugins.get_adapters() and "pillow" in plugins.get_adapters()
    assert cli.main(["zlib-hello"]) == 0
    assert "hello from zlib" in capsys.readouterr().out


def test_register_rejects_non_codecs():
    class Bad:
        @ncd.hookimpl
        def register_codecs(self, register):
            register(object())

    pm = plugins.load_plugins()
    bad = Bad()
    pm.register(bad, name="bad")
    try:
        with pytest.raises(TypeError, match="not an ncdiff_plugin.Codec"):
            ncd.get_codecs()
    finally:
        pm.unregister(bad)


def test_a_missing_optional_library_names_its_extra(monkeypatch):
    from ncdiff_plugin import extras

    monkeypatch.setitem(extras.OPTIONAL, "ncdiff_no_such_library", ("no-such-library", "opencv"))
    with pytest.raises(ImportError, match=r"pip install 'ncdiff\[opencv\]'"):
        extras.require("ncdiff_no_such_library", "cv_ncd")
    assert extras.require("cv2", "cv_ncd").__name__ == "cv2"
