"""Where the device-parametrised tests put ember's and torch's tensors (see conftest.py)."""
import os

DEVICE = os.environ.get("EMBER_TEST_DEVICE", "cpu")
REAL_GPU = bool(os.environ.get("EMBER_TEST_GPU"))
TORCH_DEVICE = "cuda" if DEVICE == "cuda" and REAL_GPU else "cpu"
ON_CUDA = DEVICE == "cuda"


def host(t):
    """An ember or torch tensor's values as a host tensor (the same object on the CPU)."""
    return t.cpu() if t.device.type != "cpu" else t
