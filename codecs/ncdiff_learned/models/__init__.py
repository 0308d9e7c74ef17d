"""Learned transform-coding models (import torch and compressai)."""

from .gained_checkerboard import GainedCheckerboardHyperprior

__all__ = ["GainedCheckerboardHyperprior"]
