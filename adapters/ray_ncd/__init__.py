"""The codec as a Ray Data stage: callable classes for ``ray.data.Dataset.map_batches``.

::

    import ray, ray_ncd

    ds = ray.data.read_images("photos/", include_paths=True)
    ds = ds.map_batches(ray_ncd.NCDEncoder, fn_constructor_kwargs={"quality": 50}, concurrency=1,
                        batch_size=8, batch_format="numpy")
    ds.write_parquet("photos-ncd/")      # columns: path, ncd (the .ncd bytes)

Ray builds each instance once in each of its actors, so a worker loads the model once and
then takes whole batches.  With GPUs, pass ``num_gpus`` to ``map_batches`` as usual.
"""

from typing import Dict, Optional

import numpy as np

import ncdiff_plugin as ncd

__all__ = ["NCDEncoder", "NCDDecoder"]


def _column(batch: Dict[str, np.ndarray], name: str) -> np.ndarray:
    if name not in batch:
        raise ncd.InvalidOptionError(f"the batch has no column {name!r} (it has {', '.join(batch)})")
    return batch[name]


def _stack(arrays) -> np.ndarray:
    """One (N, H, W[, C]) array when every item has the same shape (what Ray stores as a tensor column),
    else an object array of arrays."""
    if arrays and all(a.shape == arrays[0].shape for a in arrays):
        return np.stack(arrays)
    out = np.empty(len(arrays), dtype=object)
    out[:] = arrays
    return out


class NCDEncoder:
    """Images (uint8 arrays, RGB order, in ``column``) -> ``.ncd`` bytes in ``output_column``.

    ``drop_input`` removes the image column, so that only the compressed bytes travel on.
    """

    def __init__(self, quality: int = ncd.DEFAULT_QUALITY, codec: str = "auto", column: str = "image",
                 output_column: str = "ncd", drop_input: bool = True):
        self.quality, self.codec = quality, codec
        self.column, self.output_column, self.drop_input = column, output_column, drop_input

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        images = _column(batch, self.column)
        encoded = np.empty(len(images), dtype=object)
        encoded[:] = [ncd.encode(np.ascontiguousarray(img), quality=self.quality, codec=self.codec) for img in images]
        out = {k: v for k, v in batch.items() if not (self.drop_input and k == self.column)}
        out[self.output_column] = encoded
        return out


class NCDDecoder:
    """``.ncd`` bytes in ``column`` -> images (uint8 arrays, RGB or grey) in ``output_column``."""

    def __init__(self, column: str = "ncd", output_column: str = "image", decoder: Optional[str] = None,
                 steps: Optional[int] = None, seed: Optional[int] = None, drop_input: bool = True):
        self.column, self.output_column, self.drop_input = column, output_column, drop_input
        self.options = {k: v for k, v in dict(decoder=decoder, steps=steps, seed=seed).items() if v is not None}

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        data = _column(batch, self.column)
        images = [np.asarray(ncd.decode(bytes(d), **self.options)) for d in data]
        out = {k: v for k, v in batch.items() if not (self.drop_input and k == self.column)}
        out[self.output_column] = _stack(images)
        return out
