"""The hooks a plugin can implement (pluggy project name ``ncdiff``).

A plugin is a module (or object) with functions decorated by ``hookimpl``,
listed in its package's ``ncdiff`` entry-point group::

    [project.entry-points.ncdiff]
    mycodec = "my_package.plugin"

Built-in codecs and adapters register through these same hooks.
"""

import pluggy

hookspec = pluggy.HookspecMarker("ncdiff")
hookimpl = pluggy.HookimplMarker("ncdiff")


@hookspec
def register_codecs(register):
    """Add codecs: call ``register(codec)`` once per :class:`ncdiff_plugin.Codec`.

    ``codec.id`` is written into every file it encodes and selects it again at
    decode time; ``codec.plugin`` names the package that provides it, so that a
    reader without the plugin can say what to install.  Keep this hook cheap:
    load models lazily, on the first encode or decode.
    """


@hookspec
def register_adapters(register):
    """Add adapters to other libraries: call ``register(name, description, module)``.

    ``module`` is the importable name of the adapter (``"cv_ncd"``); it is listed
    by ``ncd plugins`` and imported only when used.
    """


@hookspec
def register_commands(subparsers):
    """Add sub-commands to the ``ncd`` command line.

    ``subparsers`` is the ``argparse`` sub-parser action of ``ncd``: call
    ``subparsers.add_parser(name, help=...)``, add arguments and set
    ``func=callable(args) -> int`` with ``parser.set_defaults(func=...)``.
    """
