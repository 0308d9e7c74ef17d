"""The learned codec in forked children (multiprocessing's fork pools, DataLoader workers).

torch's CPU kernels run their parallel regions on GNU OpenMP, whose thread
team belongs to the thread that first used it and does not survive ``fork()``:
a child forked after its parent ran a parallel kernel waits forever in its
first parallel region for the parent's workers.  A thread started in the child
gets a team of its own, so after a fork the codec runs its tensor work on one
such thread.  torch hands that thread the parent's intra-op thread count, so
the child computes exactly what the parent computes, pixel for pixel.

``spawn`` and ``forkserver`` children start clean and take the direct path.
"""

import functools
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

_state = threading.local()
#: True in a child forked from a process that had imported torch.
_forked_after_torch = False
_executor = None
_executor_lock = threading.Lock()


def _after_fork_in_child() -> None:
    global _forked_after_torch, _executor, _executor_lock
    _forked_after_torch = _forked_after_torch or "torch" in sys.modules
    # The parent's compute thread, its queue and any lock a parent thread held did not come along.
    _executor = None
    _executor_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _mark_compute_thread() -> None:
    _state.is_compute_thread = True


def _compute_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(1, thread_name_prefix="ncdiff-compute", initializer=_mark_compute_thread)
        return _executor


def fork_safe(method):
    """Runs ``method`` on this process's compute thread when the process was forked after torch was imported.

    Calls nest: a wrapped method called from the compute thread runs directly.
    """

    @functools.wraps(method)
    def call(*args, **kwargs):
        if not _forked_after_torch or getattr(_state, "is_compute_thread", False):
            return method(*args, **kwargs)
        return _compute_executor().submit(method, *args, **kwargs).result()

    return call
