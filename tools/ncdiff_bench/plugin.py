"""Adds ``ncd bench`` through the ncdiff hooks."""

from ncdiff_plugin import hookimpl


@hookimpl
def register_commands(subparsers):
    from .cli import add_arguments, run

    parser = subparsers.add_parser("bench", help="rate-distortion benchmark against JPEG, WebP, AVIF")
    add_arguments(parser)
    parser.set_defaults(func=run)
