"""Adds ``ncd fuzz`` through the ncdiff hooks."""

from ncdiff_plugin import hookimpl


@hookimpl
def register_commands(subparsers):
    from .cli import add_arguments

    parser = subparsers.add_parser("fuzz", help="mutation fuzzing of every .ncd reader (also python -m ncdiff_fuzz)",
                                   description="Mutated seed files through every entry point that reads .ncd files.")
    add_arguments(parser)
