"""The ``ncd video`` command: ``keyframes``, ``restore`` and ``bench``.

Registered by :mod:`av_ncd.plugin` through the ``register_commands`` hook;
errors (``NCDError``, ``OSError``, ``ValueError``) reach ``ncd``'s main, which
prints ``ncd: error: ...`` and exits with status 1.
"""

import argparse
import json

from ncdiff_plugin import DEFAULT_QUALITY
from ncdiff_plugin.cli import add_decoder_arguments, decoder_options


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _say(args, *lines):
    if not args.quiet:
        for line in lines:
            print(line)


def _progress(args):
    # None: tqdm shows the bar only when stderr is a terminal
    return False if args.quiet or args.no_progress else None


def _cmd_keyframes(args) -> int:
    from ncdiff_plugin import files

    from .keyframes import encode_frames_of

    files.check_output(args.output, [args.input], args.force)
    result = encode_frames_of(args.input, quality=args.quality, codec=args.codec, every=args.every,
                              all_frames=args.all, max_frames=args.max_frames, progress=_progress(args),
                              device=args.device)
    files.write_bytes(args.output, result.data)
    info, n, size = result.info, result.frame_count, len(result.data)
    what = "keyframes" if not args.all and args.every is None else "frames"
    w, h = info.width, info.height
    src = f"{info.codec}, {info.frames} frames" if info.frames else info.codec
    if info.fps:
        src += f", {float(info.fps):.3f} fps"
    rate = n / result.total_seconds if result.total_seconds > 0 else 0.0
    _say(args,
         f"Saved file {args.output}: {n} {what} of {w}x{h}, codec {result.codec} (quality {result.quality}), "
         f"from {args.input} ({src})",
         f"  File size: {size} bytes ({size // n} bytes per frame), {8 * size / (w * h * n):.4f} bpp per frame",
         f"  Time: {result.total_seconds:.3f} s (decode {result.decode_seconds:.3f} s, compress "
         f"{result.encode_seconds:.3f} s), {rate:.2f} frames/s")
    if args.verbose and not args.quiet:
        print(f"  time base {info.time_base}, pts {result.pts[:50]}{' ...' if n > 50 else ''}")
    return 0


def _cmd_restore(args) -> int:
    from .restore import restore_frames

    result = restore_frames(args.input, args.output, video_codec=args.codec, batch=args.batch,
                            progress=_progress(args), overwrite=args.force, **decoder_options(args))
    n = result.frame_count
    target = f"{result.video_codec} video" if result.kind == "video" else "PNG files"
    rate = n / result.total_seconds if result.total_seconds > 0 else 0.0
    _say(args,
         f"Restored {args.input}: {n} frames of {result.width}x{result.height} -> {args.output} ({target})",
         f"  Time: {result.total_seconds:.3f} s (decode {result.decode_seconds:.3f} s, write "
         f"{result.write_seconds:.3f} s), {rate:.2f} frames/s")
    if args.verbose and not args.quiet:
        print(f"  time base {result.time_base}, pts {result.pts[:50]}{' ...' if n > 50 else ''}")
    return 0


def _cmd_bench(args) -> int:
    from .bench import bench, format_report

    report = bench(args.video, quality=args.quality, codec=args.codec, decoder=args.decoder, steps=args.steps,
                   device=args.device, every=args.every, all_frames=args.all, video_codec=args.video_codec,
                   batch=args.batch, progress=_progress(args))
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _common(p):
    p.add_argument("-v", "--verbose", action="store_true", help="print more details")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (it shows on terminals only)")


def _selection(p):
    group = p.add_mutually_exclusive_group()
    group.add_argument("--every", type=_positive, metavar="N", help="every Nth frame instead of the keyframes")
    group.add_argument("--all", action="store_true", help="every frame instead of the keyframes")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the ``keyframes``, ``restore`` and ``bench`` sub-commands to ``ncd video``."""
    from .keyframes import DEFAULT_MAX_FRAMES

    sub = parser.add_subparsers(dest="video_command", required=True, metavar="SUBCOMMAND")

    p = sub.add_parser("keyframes", help="compress a video's keyframes into one multi-frame .ncd",
                       description="Decodes only the keyframes (or every Nth / every frame) with PyAV and "
                                   "compresses them, with their timestamps, into one .ncd file.")
    p.add_argument("input", help="a video PyAV can read (.mp4, .mkv, .mov, ...)")
    p.add_argument("output", help="the .ncd file to write")
    p.add_argument("-q", "--quality", type=int, default=DEFAULT_QUALITY, help=f"1..100 (default {DEFAULT_QUALITY})")
    p.add_argument("--codec", default="auto", help="auto (default), learned or jpeg")
    _selection(p)
    p.add_argument("--max-frames", type=_positive, default=DEFAULT_MAX_FRAMES, metavar="N",
                   help=f"refuse videos with more frames to take than this (default {DEFAULT_MAX_FRAMES})")
    p.add_argument("--device", help="torch device of the learned encoder (default: cuda when available)")
    p.add_argument("-f", "--force", action="store_true", help="overwrite OUTPUT if it exists")
    _common(p)
    p.set_defaults(func=_cmd_keyframes)

    p = sub.add_parser("restore", help="decode a multi-frame .ncd into a video or PNG frames",
                       description="Decodes every frame (in batches) and writes a video at the original "
                                   "timestamps (.mp4/.mov: H.264, .mkv: FFV1), or, when OUTPUT is a folder "
                                   "(ends with / or has no extension), frame_000000.png, frame_000001.png...")
    p.add_argument("input", help="a multi-frame .ncd file")
    p.add_argument("output", help="video file (.mp4, .mov, .m4v, .mkv) or folder for PNG files")
    p.add_argument("--codec", choices=("libx264", "ffv1"), help="video codec (default: libx264 for .mp4/.mov, "
                                                                "ffv1 for .mkv)")
    add_decoder_arguments(p)
    p.add_argument("--batch", type=_positive, default=8, help="frames decoded at once (default 8)")
    p.add_argument("-f", "--force", action="store_true",
                   help="overwrite OUTPUT if it exists (for a folder: write into it when not empty)")
    _common(p)
    p.set_defaults(func=_cmd_restore)

    p = sub.add_parser("bench", help="keyframes per second of keyframes (encode) and restore",
                       description="Times extracting + compressing a video's keyframes, and decoding + writing "
                                   "them back as a video, in a temporary folder.")
    p.add_argument("video")
    p.add_argument("-q", "--quality", type=int, default=DEFAULT_QUALITY, help=f"1..100 (default {DEFAULT_QUALITY})")
    p.add_argument("--codec", default="auto", help="auto (default), learned or jpeg")
    _selection(p)
    p.add_argument("--decoder", help="decoder of learned files (default: base)")
    p.add_argument("--steps", type=int, help="diffusion steps of the decoder")
    p.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    p.add_argument("--video-codec", choices=("libx264", "ffv1"), default="libx264",
                   help="codec of the restored video (default libx264)")
    p.add_argument("--batch", type=_positive, default=8, help="frames decoded at once (default 8)")
    p.add_argument("--json", action="store_true", help="print JSON")
    _common(p)
    p.set_defaults(func=_cmd_bench)
