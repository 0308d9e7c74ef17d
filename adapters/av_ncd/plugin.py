"""Lists the PyAV adapter and adds ``ncd video`` through the ncdiff hooks."""

from ncdiff_plugin import hookimpl


@hookimpl
def register_adapters(register):
    register("pyav", "video keyframes to and from multi-frame .ncd: av_ncd.encode_keyframes / restore, "
                     "ncd video keyframes / restore / bench", "av_ncd")


@hookimpl
def register_commands(subparsers):
    from .cli import add_arguments

    parser = subparsers.add_parser("video", help="video keyframes to and from multi-frame .ncd (PyAV)",
                                   description="Keyframes of a video in one multi-frame .ncd file, and back.")
    add_arguments(parser)
