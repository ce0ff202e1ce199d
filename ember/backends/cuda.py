"""torch.backends.cuda: cuBLAS matmul and scaled-dot-product-attention switches (kept, not all read by ember)."""
import contextlib
import enum

from . import _flags

_SETTERS = {"allow_tf32": "set_allow_tf32_cublas",
            "allow_fp16_reduced_precision_reduction": "set_allow_fp16_reduced_precision_reduction",
            "allow_bf16_reduced_precision_reduction": "set_allow_bf16_reduced_precision_reduction",
            "allow_fp16_accumulation": "set_allow_fp16_accumulation"}


def is_built():
    """True when ember can run on CUDA here (CuPy importable), as PyTorch's CUDA build."""
    from ..cuda._lazy import built
    return built()


class cuBLASModule:
    """torch.backends.cuda.matmul: allow_tf32 and the reduced-precision reduction switches."""

    def __getattr__(self, name):
        if name in _SETTERS:
            return _flags.get(f"cuda.matmul.{name}")
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name not in _SETTERS:
            raise AttributeError(f"Unknown attribute {name}")
        _flags.set_bool(f"cuda.matmul.{name}", value, _SETTERS[name])


matmul = cuBLASModule()


def _sdp(kind):
    def enabled():
        return _flags.get(f"cuda.sdp.{kind}")

    def enable(enabled):
        _flags.flags[f"cuda.sdp.{kind}"] = bool(enabled)
    return enabled, enable


flash_sdp_enabled, enable_flash_sdp = _sdp("flash")
mem_efficient_sdp_enabled, enable_mem_efficient_sdp = _sdp("mem_efficient")
math_sdp_enabled, enable_math_sdp = _sdp("math")
cudnn_sdp_enabled, enable_cudnn_sdp = _sdp("cudnn")
fp16_bf16_reduction_math_sdp_allowed, allow_fp16_bf16_reduction_math_sdp = _sdp("fp16_bf16_reduction_math")


def is_flash_attention_available():
    """False: ember's attention is the math composition."""
    return False


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Set the sdp switches inside the block, restore them after (deprecated in PyTorch, still used)."""
    keys = ("flash", "math", "mem_efficient", "cudnn")
    saved = {k: _flags.get(f"cuda.sdp.{k}") for k in keys}
    for k, v in zip(keys, (enable_flash, enable_math, enable_mem_efficient, enable_cudnn)):
        _flags.flags[f"cuda.sdp.{k}"] = bool(v)
    try:
        yield {}
    finally:
        for k, v in saved.items():
            _flags.flags[f"cuda.sdp.{k}"] = v


class _LinalgBackend(enum.Enum):
    Default = 0
    Cusolver = 1
    Magma = 2


class _BlasBackend(enum.Enum):
    Default = 0
    Cublas = 1
    Cublaslt = 2
    Ck = 3


def _preferred(key, enum_cls, backend, names):
    if backend is not None:
        if isinstance(backend, str):
            if backend.lower() not in names:
                raise RuntimeError(f"Unknown input value. Choose from: {', '.join(names)}.")
            backend = enum_cls[names[backend.lower()]]
        elif not isinstance(backend, enum_cls):
            raise RuntimeError(f"Unknown input value type {type(backend).__name__}.")
        if backend.name != "Default" and not is_built():
            raise RuntimeError(f"Cannot set preferred backend to {backend.name} if PyTorch has not been compiled "
                               "with CUDA.")
        _flags.flags[key] = backend.name
    return enum_cls[_flags.get(key)]


def preferred_linalg_library(backend=None):
    """The preferred GPU linear algebra library (recorded; CuPy picks its own)."""
    return _preferred("cuda.preferred_linalg_library", _LinalgBackend, backend,
                      {"default": "Default", "cusolver": "Cusolver", "magma": "Magma"})


def preferred_blas_library(backend=None):
    """The preferred GPU BLAS library (recorded; CuPy uses cuBLAS)."""
    return _preferred("cuda.preferred_blas_library", _BlasBackend, backend,
                      {"default": "Default", "cublas": "Cublas", "cublaslt": "Cublaslt", "ck": "Ck"})
