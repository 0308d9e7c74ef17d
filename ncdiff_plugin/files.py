"""Safe output files: atomic replace, no clobbering, never the input."""

import contextlib
import os
import re
import secrets

from .errors import InvalidOptionError


def check_output(path: str, inputs=(), force: bool = False) -> None:
    for src in inputs:
        if os.path.exists(path) and os.path.exists(src) and os.path.samefile(path, src):
            raise InvalidOptionError(f"refusing to overwrite the input file {src}")
    if os.path.exists(path) and not force:
        raise InvalidOptionError(f"{path} exists (use -f to overwrite)")


# _create_temp's names: the prefix, 12 hex digits, the output's suffix. A run killed outright
# (SIGKILL, power loss) leaves one behind.
_TEMP_PREFIX = ".ncd-"
_TEMP_NAME = re.compile(re.escape(_TEMP_PREFIX) + r"[0-9a-f]{12}(\.[A-Za-z0-9]+)?")


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temporary file of :func:`atomic_output`, never a user's file."""
    return _TEMP_NAME.fullmatch(name) is not None


def _create_temp(folder: str, suffix: str) -> str:
    """A new empty file in ``folder``, created with the umask's permissions.

    ``tempfile.mkstemp`` would create it 0600, and the output would keep that
    mode after the rename: files written by ncd would be private to their owner.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f"{_TEMP_PREFIX}{secrets.token_hex(6)}{suffix}")
        try:
            os.close(os.open(tmp, flags, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"cannot create a temporary file in {folder}")


@contextlib.contextmanager
def atomic_output(path: str):
    """Yields a temporary path beside ``path``; renames it over ``path`` only on success.

    On any error, Ctrl-C included, the temporary file is removed and ``path``
    is left as it was.
    """
    folder = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        tmp = _create_temp(folder, os.path.splitext(path)[1])
        yield tmp
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_bytes(path: str, data: bytes) -> None:
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
