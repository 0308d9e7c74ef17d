"""Safe output files: atomic replace, no clobbering, never the input."""

import contextlib
import os
import tempfile

from .errors import InvalidOptionError


def check_output(path: str, inputs=(), force: bool = False) -> None:
    for src in inputs:
        if os.path.exists(path) and os.path.exists(src) and os.path.samefile(path, src):
            raise InvalidOptionError(f"refusing to overwrite the input file {src}")
    if os.path.exists(path) and not force:
        raise InvalidOptionError(f"{path} exists (use -f to overwrite)")


@contextlib.contextmanager
def atomic_output(path: str):
    """Yields a temporary path beside ``path``; renames it over ``path`` only on success.

    On any error, Ctrl-C included, the temporary file is removed and ``path``
    is left as it was.
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ncd-", suffix=os.path.splitext(path)[1], dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes(path: str, data: bytes) -> None:
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
