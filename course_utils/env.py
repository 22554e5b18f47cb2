"""The environment check that opens the course."""

from __future__ import annotations

import os
import platform
import sys


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def environment_report(verbose: bool = True) -> dict:
    """Versions, backend, GPUs, profile and where Fashion-MNIST comes from."""
    import keras
    import matplotlib
    import numpy as np
    import pandas as pd

    from course_utils import data
    from course_utils.profiles import current_profile, gpu_available

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpu cores": os.cpu_count(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "matplotlib": matplotlib.__version__,
    }
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
    info["gpu"] = "yes" if gpu_available() else "no"
    info["colab"] = "yes" if in_colab() else "no"
    info["profile"] = str(current_profile())
    found = data.find_fashion_mnist()
    info["fashion-mnist"] = (
        f"{found[1]} ({found[0]})" if found else "no offline copy: Keras will download it"
    )
    if verbose:
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
    return info
