"""What the benchmark ran on, so timings in results.json can be compared fairly."""

from __future__ import annotations

import os
import platform
from typing import Optional

import PIL


def cpu_model() -> str:
    """The CPU's marketing name (from /proc/cpuinfo on Linux), else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def resolve_device(device: Optional[str]) -> str:
    """The torch device a learned decoder runs on: ``device`` if given, else CUDA when present."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def describe_machine(torch_device: Optional[str] = None) -> dict:
    """CPU model and thread counts, and, if torch is importable, its device and version."""
    info = {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pillow": PIL.__version__,
    }
    try:
        import torch
    except ImportError:
        return info
    info.update(torch=torch.__version__, torch_threads=torch.get_num_threads(), torch_device=torch_device)
    if torch_device and torch_device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(torch_device))
    return info
