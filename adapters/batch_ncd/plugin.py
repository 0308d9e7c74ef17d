"""Adds ``ncd batch`` through the ncdiff hooks."""

from ncdiff_plugin import hookimpl


@hookimpl
def register_adapters(register):
    register("batch", "collections of images to and from .ncd, locally or on Ray: ncd batch, "
                      "batch_ncd.run_batch", "batch_ncd")


@hookimpl
def register_commands(subparsers):
    from .cli import add_arguments

    parser = subparsers.add_parser("batch", help="compress a whole collection (folders, globs), resumably",
                                   description="Every image under SRC to DST/<relative path>.ncd (or back with "
                                               "--decode), with a manifest; run again to finish an interrupted run.")
    add_arguments(parser)
