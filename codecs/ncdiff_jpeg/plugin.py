"""Registers the JPEG codec through the ncdiff hooks."""

from ncdiff_plugin import hookimpl

from . import CODEC


@hookimpl
def register_codecs(register):
    register(CODEC)
