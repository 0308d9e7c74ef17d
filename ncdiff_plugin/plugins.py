"""The plugin manager: built-ins and entry-point plugins, registered alike.

Both are found through entry points, so the core names no codec or adapter:
ncdiff's own codecs, adapters and tools in the ``ncdiff.builtins`` group
(pyproject.toml), registered first so that a plugin cannot take over their
ids; external plugins in the ``ncdiff`` group.  Set ``NCDIFF_DISABLE_PLUGINS=1``
to load no external plugin, or to a comma-separated list of entry-point names
to skip just those.
"""

import importlib.metadata
import os
import threading
from typing import Dict

import pluggy

from . import hookspecs
from .codec import Codec

ENTRY_POINT_GROUP = "ncdiff"
BUILTIN_GROUP = "ncdiff.builtins"
DISABLE_ENV = "NCDIFF_DISABLE_PLUGINS"

pm = pluggy.PluginManager("ncdiff")
pm.add_hookspecs(hookspecs)
_lock = threading.RLock()
_loaded = False


def load_plugins() -> pluggy.PluginManager:
    """Registers built-in and installed plugins once (thread-safe)."""
    global _loaded
    with _lock:
        if _loaded:
            return pm
        for entry in sorted(importlib.metadata.entry_points(group=BUILTIN_GROUP), key=lambda e: e.name):
            if pm.get_plugin(entry.value) is None:
                pm.register(entry.load(), name=entry.value)
        disabled = os.environ.get(DISABLE_ENV, "").strip()
        if disabled.lower() not in ("1", "true", "yes", "all"):
            for blocked in filter(None, (n.strip() for n in disabled.split(","))):
                pm.set_blocked(blocked)
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        _loaded = True
        return pm


def reset() -> None:
    """Forgets every registration; the next lookup loads plugins again (tests)."""
    global _loaded
    with _lock:
        for name, plugin in list(pm.list_name_plugin()):
            if plugin is None:
                pm.unblock(name)
            else:
                pm.unregister(plugin)
        _loaded = False


_codec_cache: tuple = (None, {})


def get_codecs() -> Dict[str, Codec]:
    """Codec id -> codec, over every registered plugin (cached per plugin set)."""
    global _codec_cache
    with _lock:
        plugins = frozenset(map(id, load_plugins().get_plugins()))
        if _codec_cache[0] == plugins:
            return dict(_codec_cache[1])
    codecs: Dict[str, Codec] = {}

    def register(codec: Codec) -> None:
        if not isinstance(codec, Codec):
            raise TypeError(f"register_codecs: {codec!r} is not an ncdiff_plugin.Codec")
        if not codec.id:
            raise ValueError(f"register_codecs: {codec!r} has no id")
        codecs.setdefault(codec.id, codec)

    # In registration order (built-ins first) with setdefault: built-ins win a
    # clash of ids, so a plugin cannot hijack "jpeg" or "learned".
    for impl in pm.hook.register_codecs.get_hookimpls():
        impl.function(register=register)
    with _lock:
        _codec_cache = (plugins, codecs)
    return dict(codecs)


def get_adapters() -> Dict[str, dict]:
    adapters: Dict[str, dict] = {}

    def register(name: str, description: str, module: str) -> None:
        adapters[name] = {"name": name, "description": description, "module": module}

    load_plugins().hook.register_adapters(register=register)
    return adapters
