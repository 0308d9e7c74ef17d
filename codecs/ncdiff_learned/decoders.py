"""The learned codec's decoders: one table that the codec, the bench, the CLI and training read.

Every decoder turns the transmitted latent into pixels through one signature,
``decode(model, net, metadata, y_hat, header, device, *, steps, seed, origins, **options)``,
where ``model`` is the base codec, ``net`` and ``metadata`` the decoder's own
network and weights metadata (None for ``base``), ``origins`` the top-left
pixel of each latent of the batch in its image (a tile's window, ``tiling.py``),
and the result is the image batch in [0, 1] at the header's size.  A new decoder is a module with
such a function, its network and a trainer, plus one entry in :data:`DECODERS`.

Nothing here imports torch: listing decoders stays cheap.
"""

import importlib
import os
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

from .weights import WEIGHTS_DIR


def _lazy(module: str, name: str) -> Callable:
    """``name`` from this package's ``module``, imported on the first call."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(f".{module}", __package__), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = f"{module}.{name}"
    return call


@dataclass(frozen=True)
class Decoder:
    name: str
    summary: str
    decode: Callable
    #: ``train(args[, evaluate]) -> checkpoint path``.
    trainer: Callable
    #: ``export(checkpoint, out_path=weights, data="") -> weights path`` (training/export.py).
    exporter: Callable
    #: (default, largest) step counts of a decoder that walks steps; None for a single pass.
    steps: Optional[Tuple[int, int]] = None
    #: Shipped weights of its own network; None when the base weights are all it needs.
    weights: Optional[str] = None
    #: ``network(**config)`` builds the network its weights load into.
    network: Optional[Callable] = None
    #: Latent positions of a tile's neighbours its decode sees (``tiling.py``): enough that the tile
    #: grid does not show (the synthesis transform's own reach is 2; docs/tiles.md measures the rest).
    margin: int = 2


def _decode_base(model, net, metadata, y_hat, header, device, *, steps=None, seed=None, **options):
    return model.synthesize(y_hat, header.height, header.width)


DECODERS = {
    d.name: d
    for d in (
        Decoder("base", "the base codec's synthesis transform, one pass", decode=_decode_base,
                trainer=_lazy("training.base", "train"), exporter=_lazy("training.export", "export_base")),
        Decoder("nc", "NC-Diffusion: a few steps from the base reconstruction back to the image",
                decode=_lazy("diffusion.nc", "decode"), trainer=_lazy("training.nc", "train"),
                # Default one step: on the deterministic path x_t and x_base fix x0 exactly, so later
                # steps add no information, only the U-Net's error (docs/nc-diffusion.md measures it).
                exporter=_lazy("training.export", "export_nc"), steps=(1, 64), margin=4,
                weights=os.path.join(WEIGHTS_DIR, "nc.safetensors"), network=_lazy("diffusion.unet", "NCUNet")),
        Decoder("cdc", "CDC: from Gaussian noise to the image, conditioned on the latent",
                decode=_lazy("diffusion.cdc", "decode"), trainer=_lazy("training.cdc", "train"),
                exporter=_lazy("training.export", "export_cdc"), steps=(17, 1000), margin=4,
                weights=os.path.join(WEIGHTS_DIR, "cdc.safetensors"), network=_lazy("diffusion.cdc_unet", "CDCUNet")),
    )
}
