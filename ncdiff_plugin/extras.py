"""Optional dependencies: a feature imports its library through :func:`require`, which names the extra to install.

The core and the learned codec need only what ``pip install ncdiff`` installs;
the OpenCV and PyAV adapters and the benchmark tools need an extra each.
"""

import importlib

#: Top-level module -> (the package pip installs, the ncdiff extra that brings it).
OPTIONAL = {
    "cv2": ("opencv-python-headless", "opencv"),
    "av": ("av", "video"),
    "matplotlib": ("matplotlib", "bench"),
    "piq": ("piq", "bench"),
    "pytorch_msssim": ("pytorch-msssim", "bench"),
}


def require(module: str, feature: str):
    """``module`` imported, or an ImportError that says what to install for ``feature``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package, extra = OPTIONAL[module.split(".")[0]]
        raise ImportError(f"{feature} needs {package}: pip install 'ncdiff[{extra}]' ({exc})",
                          name=module) from None
