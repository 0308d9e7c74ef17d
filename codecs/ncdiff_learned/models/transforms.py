"""The transforms every base-codec model shares (Balle et al. / Minnen et al. layouts).

Builders return plain ``nn.Sequential`` stacks, so the parameter names of the
shipped weights (``g_a.0.weight`` ...) stay what they were.
"""

import torch.nn as nn
from compressai.layers import GDN, CheckerboardMaskedConv2d
from compressai.models.utils import conv, deconv

from ..exact import ExactPath


def analysis(N: int, M: int) -> nn.Sequential:
    return nn.Sequential(conv(3, N), GDN(N), conv(N, N), GDN(N), conv(N, N), GDN(N), conv(N, M))


def synthesis(N: int, M: int) -> nn.Sequential:
    return nn.Sequential(
        deconv(M, N), GDN(N, inverse=True), deconv(N, N), GDN(N, inverse=True),
        deconv(N, N), GDN(N, inverse=True), deconv(N, 3),
    )


def hyper_analysis(N: int, M: int) -> nn.Sequential:
    return nn.Sequential(
        conv(M, N, stride=1, kernel_size=3), nn.LeakyReLU(inplace=True),
        conv(N, N), nn.LeakyReLU(inplace=True), conv(N, N),
    )


# The three modules below set the entropy coder's parameters: they run in exact
# fixed point at inference (ExactPath), so bitstreams decode on any device.

def hyper_synthesis(N: int, M: int) -> ExactPath:
    return ExactPath(nn.Sequential(
        deconv(N, M), nn.ReLU(), deconv(M, M * 3 // 2), nn.ReLU(),
        conv(M * 3 // 2, M * 2, stride=1, kernel_size=3),
    ))


def entropy_parameters(M: int) -> ExactPath:
    return ExactPath(nn.Sequential(
        nn.Conv2d(M * 4, M * 10 // 3, 1), nn.ReLU(),
        nn.Conv2d(M * 10 // 3, M * 8 // 3, 1), nn.ReLU(),
        nn.Conv2d(M * 8 // 3, M * 2, 1),
    ))


def checkerboard_context(M: int) -> ExactPath:
    return ExactPath(CheckerboardMaskedConv2d(M, M * 2, kernel_size=5, padding=2, stride=1))
