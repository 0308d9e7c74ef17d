"""Device-independent evaluation of the entropy-parameter path.

The decoder must rebuild exactly the scales and means the encoder used, or the
rANS decoder desynchronises.  Float convolutions differ in their last bits
between CPUs, GPUs and thread counts, so at inference the hyper-synthesis,
the context model and the entropy-parameter network run in fixed point:
weights and activations are integers (scaled by 2**FRAC_BITS) held in float64
on the CPU.  Every product and partial sum is then an integer below 2**53,
which float64 represents exactly, so the result does not depend on the order
of summation, the BLAS, the SIMD width or the device.

Cost: a float64 CPU pass over tensors at 1/16 and 1/64 of the image size.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

FRAC_BITS = 16
_ONE = float(2**FRAC_BITS)
_EXACT_LIMIT = float(2**52)


class ExactPathOverflow(ArithmeticError):
    """A fixed-point sum could exceed float64's exact integer range."""


def _to_fixed(x: torch.Tensor) -> torch.Tensor:
    return torch.round(x.detach().to("cpu", torch.float64) * _ONE)


def _rescale(acc: torch.Tensor) -> torch.Tensor:
    # acc carries 2*FRAC_BITS fractional bits; dividing by a power of two and
    # flooring are exact in float64.
    return torch.floor(acc / _ONE + 0.5)


def _fixed_weights(layer: nn.Module):
    """Integer weight and bias tensors of a conv layer and the largest L1 norm of one output's
    filter (for the range check), cached on the layer."""
    cached = getattr(layer, "_exact_cache", None)
    version = (layer.weight._version, layer.weight.data_ptr())
    if cached is not None and cached[0] == version:
        return cached[1:]
    weight = layer.weight.detach().to("cpu", torch.float64)
    mask = getattr(layer, "mask", None)
    if mask is not None:
        weight = weight * mask.to("cpu", torch.float64)
    w = torch.round(weight * _ONE)
    b = None
    if layer.bias is not None:
        b = torch.round(layer.bias.detach().to("cpu", torch.float64) * _ONE * _ONE)
    dims = (0, 2, 3) if isinstance(layer, nn.ConvTranspose2d) else (1, 2, 3)
    l1 = w.abs().sum(dim=dims).max().item()
    layer._exact_cache = (version, w, b, l1)
    return w, b, l1


def _check_range(x: torch.Tensor, l1: float) -> None:
    # Bound of |sum| over one output: max|x| times the largest L1 norm of a filter.
    if x.numel() and x.abs().max().item() * l1 >= _EXACT_LIMIT:
        raise ExactPathOverflow("fixed-point activations leave the exact float64 range")


def _conv_out_size(layer: nn.Conv2d, x: torch.Tensor):
    return tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, p, d, k, s in zip(x.shape[-2:], layer.padding, layer.dilation, layer.kernel_size, layer.stride)
    )


def _exact_layer(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if isinstance(layer, nn.Conv2d):
        w, b, l1 = _fixed_weights(layer)
        if b is not None and getattr(layer, "mask", None) is not None and not x.any():
            # The checkerboard's first pass feeds zeros to the context model: only the bias remains.
            return _rescale(b[None, :, None, None].expand(x.shape[0], -1, *_conv_out_size(layer, x)).clone())
        _check_range(x, l1)
        acc = F.conv2d(x, w, b, layer.stride, layer.padding, layer.dilation, layer.groups)
        return _rescale(acc)
    if isinstance(layer, nn.ConvTranspose2d):
        w, b, l1 = _fixed_weights(layer)
        _check_range(x, l1)
        acc = F.conv_transpose2d(
            x, w, b, layer.stride, layer.padding, layer.output_padding, layer.groups, layer.dilation
        )
        return _rescale(acc)
    if isinstance(layer, nn.ReLU):
        return torch.clamp_min(x, 0.0)
    if isinstance(layer, nn.Sequential):
        for sub in layer:
            x = _exact_layer(sub, x)
        return x
    raise TypeError(f"no exact evaluation for {type(layer).__name__}")


class ExactPath(nn.Module):
    """Wraps a stack of convs / transposed convs / ReLUs.

    Training runs the float module; evaluation runs it in exact fixed point on
    the CPU and returns float32 values on the input's device.
    """

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return self.module(x)
        out = _exact_layer(self.module, _to_fixed(x))
        # Values are k / 2**16 with |k| < 2**40: float32 keeps the grid for |v| < 128.
        return (out / _ONE).to(device=x.device, dtype=torch.float32)
