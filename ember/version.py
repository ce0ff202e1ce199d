"""torch.version: the version strings of this build (__version__ is PyTorch's API version with ember's as its
local label, '2.13.0+ember.0.1.0'; cuda is CuPy's CUDA runtime, if any)."""
from .torch_version import TorchVersion

__all__ = ["__version__", "debug", "cuda", "git_version", "hip", "rocm", "xpu"]
# NOTE: the PyTorch release whose API ember follows, with ember's own version as the local label: programs that
# branch on `torch.__version__ >= "2.0"` take their current-PyTorch path, and the string still says ember.
API_VERSION = "2.13.0"
__version__ = TorchVersion(f"{API_VERSION}+ember.0.1.0")
debug = False
git_version = "unknown"  # NOTE: ember is not built from a git checkout with its hash recorded
hip = None
rocm = None
xpu = None


def _cuda_runtime_version():
    """'12.4' for the CUDA runtime CuPy links against, None without a usable CuPy (PyTorch's CPU build: None)."""
    from ._backends import cuda as backend
    if backend.xp is None:
        return None
    try:
        number = int(backend.xp.cuda.runtime.runtimeGetVersion())
    except Exception:  # NOTE: CuPy installed without a CUDA runtime it can load
        return None
    return f"{number // 1000}.{number % 1000 // 10}"


def __getattr__(name):
    # NOTE: computed on first use, so `import ember` does not import CuPy for it
    if name == "cuda":
        value = _cuda_runtime_version()
        globals()["cuda"] = value
        return value
    raise AttributeError(f"module 'ember.version' has no attribute '{name}'")
