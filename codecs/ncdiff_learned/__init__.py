"""The learned codec plugin: hyperprior transform codec (and diffusion decoders).

Importing this package is cheap; torch and compressai load with the model.
"""

from .codec import CODEC, LearnedCodec

__all__ = ["CODEC", "LearnedCodec"]
