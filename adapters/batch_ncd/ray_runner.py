"""Batch workers as Ray actors: a local Ray, or a cluster's when an address is given.

Files travel as bytes through Ray's object store (workers need no shared
filesystem); each actor loads the model once, takes whole chunks and asks for
a share of a GPU when the cluster has GPUs.
"""

import concurrent.futures as cf

from ncdiff_plugin.errors import NCDError

from .jobs import set_threads, transcode_many


class _Transcoder:
    def __init__(self, threads: int):
        set_threads(threads)  # torch is imported on the first learned file, not for a JPEG-only job

    def transcode_many(self, items, settings):
        return transcode_many(items, settings)


class RayWorkers:
    def __init__(self, address, workers: int, threads: int):
        try:
            import ray
        except ImportError as exc:
            raise NCDError("--ray needs Ray: pip install 'ncdiff[ray]'") from exc
        if not ray.is_initialized():
            # The package is importable on the workers of a cluster that runs this same install;
            # a local Ray sees it through the driver's environment.
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        gpus = ray.cluster_resources().get("GPU", 0)
        # An actor lost with its node is restarted elsewhere and its chunk retried: transcoding is idempotent.
        actor = ray.remote(num_cpus=threads, num_gpus=gpus / workers if gpus else 0, max_restarts=2,
                           max_task_retries=2)(_Transcoder)
        self.actors = [actor.remote(threads) for _ in range(workers)]
        self.slots = 2 * workers
        self._next = 0

    def submit(self, items, settings) -> cf.Future:
        # Round robin: an actor runs its calls in order, so each holds at most two chunks.
        actor = self.actors[self._next % len(self.actors)]
        self._next += 1
        return actor.transcode_many.remote(items, settings).future()

    def close(self):
        import ray

        for actor in self.actors:
            ray.kill(actor)
