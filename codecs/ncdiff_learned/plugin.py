"""Registers the learned codec and its commands (``ncd train``)."""

from ncdiff_plugin import hookimpl

from . import CODEC


@hookimpl
def register_codecs(register):
    register(CODEC)


@hookimpl
def register_commands(subparsers):
    from .training.cli import add_arguments, run

    parser = subparsers.add_parser("train", help="train a learned model (see README: training)")
    add_arguments(parser)
    parser.set_defaults(func=run)
