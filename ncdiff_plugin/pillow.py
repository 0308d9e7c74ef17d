"""The ``NCD`` image format for Pillow (registered by ``import ncdiff_plugin``; ``pil_ncd`` re-exports it).

``_open`` reads only the header and metadata chunks; pixels are decoded in
``load``.  Decode options are the documented globals of
:mod:`ncdiff_plugin.options` (``Image.open`` takes no arguments); save options
are ``quality``, ``codec``, ``exif``, ``icc_profile`` and ``xmp``.
"""

import io

from PIL import Image, ImageFile

FORMAT = "NCD"
MIME = "image/x-ncd"
EXTENSIONS = (".ncd",)


def _accept(prefix: bytes) -> bool:
    from ncdiff_plugin.container import SIGNATURE

    return prefix[: len(SIGNATURE)] == SIGNATURE


class NcdImageFile(ImageFile.ImageFile):
    format = FORMAT
    format_description = "ncdiff learned image codec"

    def _open(self):
        from ncdiff_plugin import container
        from ncdiff_plugin.errors import ImageTooLargeError, NCDError, UnsupportedVersionError

        try:
            head = container.read_head(self.fp)
            pts, duration = container.peek_frame(self.fp)
        except (ImageTooLargeError, UnsupportedVersionError):
            # A well-formed file this reader will not open: raised as is, as Pillow
            # raises DecompressionBombError (ImageTooLargeError is one) from open().
            raise
        except NCDError as exc:
            # Pillow turns SyntaxError into UnidentifiedImageError for other plugins to try.
            raise SyntaxError(str(exc)) from exc
        h = head.header
        self._header = h
        self._size = (h.width, h.height)
        self._mode = h.mode
        self.n_frames = h.frame_count
        self.is_animated = h.frame_count > 1
        self._frame = 0
        self._parsed = None
        self._decoded = {}
        if head.metadata.get("exif"):
            self.info["exif"] = b"Exif\x00\x00" + head.metadata["exif"]
        if head.metadata.get("icc_profile"):
            self.info["icc_profile"] = head.metadata["icc_profile"]
        if head.metadata.get("xmp"):
            self.info["xmp"] = head.metadata["xmp"]
        self.info["codec"] = h.codec_id
        self.info["quality"] = h.quality
        self._set_times(pts, duration)
        self.tile = []

    def _set_times(self, pts, duration):
        # Pillow's convention: milliseconds.
        ms = self._header.time_base * 1000
        self.info["timestamp"] = _ms(pts * ms)
        self.info["duration"] = _ms(duration * ms)

    def _container(self):
        if self._parsed is None:
            from ncdiff_plugin import container

            self.fp.seek(0)
            self._parsed = container.read(io.BytesIO(self.fp.read()))
        return self._parsed

    def seek(self, frame):
        if not self._seek_check(frame):
            return
        self._frame = frame
        self._im = None
        parsed = self._container()
        self._set_times(parsed.frames[frame].pts, parsed.frames[frame].duration)

    def tell(self):
        return self._frame

    def load(self):
        if self._im is None or self._im.size != self.size:
            from ncdiff_plugin import api, options

            opts = api.decode_options(options.DECODER, options.STEPS, options.DEVICE, options.SEED)
            img = api.decode_container(self._container(), [self._frame], **opts)[0]
            self.load_prepare()
            self.im.paste(img.im, (0, 0) + img.size)
            # Only the current frame's pixels are kept; the parsed file stays for seek().
        return Image.Image.load(self)


def _ms(value):
    return int(value) if value == int(value) else float(value)


def _save(im, fp, filename, save_all=False):
    from ncdiff_plugin import api

    info = im.encoderinfo
    frames, durations = [im], None
    if save_all:
        from PIL import ImageSequence

        frames = []
        durations = []
        default = info.get("duration", 0)
        for seq in [im, *info.get("append_images", [])]:
            for frame in ImageSequence.Iterator(seq):
                frames.append(frame.copy())
        if isinstance(default, (list, tuple)):
            durations = list(default)
        else:
            durations = [int(default)] * len(frames)
    data = api.encode_frames(
        frames,
        quality=info.get("quality", api.DEFAULT_QUALITY),
        codec=info.get("codec", "auto"),
        durations=durations,
        exif=info.get("exif"),
        icc_profile=info.get("icc_profile"),
        xmp=info.get("xmp"),
    )
    fp.write(data)


def _save_all(im, fp, filename):
    _save(im, fp, filename, save_all=True)


def register_pillow() -> None:
    """Registers the format with Pillow (idempotent)."""
    Image.register_open(FORMAT, NcdImageFile, _accept)
    Image.register_save(FORMAT, _save)
    Image.register_save_all(FORMAT, _save_all)
    for ext in EXTENSIONS:
        Image.register_extension(FORMAT, ext)
    Image.register_mime(FORMAT, MIME)
