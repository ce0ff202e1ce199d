"""The torch.backends switches, in one place (PyTorch 2.13's defaults). ember reads few of them: they are
state that programs set and read back."""
flags = {
    "cuda.matmul.allow_tf32": False,
    "cuda.matmul.allow_fp16_reduced_precision_reduction": True,
    "cuda.matmul.allow_bf16_reduced_precision_reduction": True,
    "cuda.matmul.allow_fp16_accumulation": False,
    "cuda.sdp.flash": True,
    "cuda.sdp.mem_efficient": True,
    "cuda.sdp.math": True,
    "cuda.sdp.cudnn": True,
    "cuda.sdp.fp16_bf16_reduction_math": False,
    "cuda.preferred_linalg_library": "Default",
    "cuda.preferred_blas_library": "Cublas",
    "cudnn.enabled": True,
    "cudnn.benchmark": False,
    "cudnn.deterministic": False,
    "cudnn.allow_tf32": True,
    "cudnn.benchmark_limit": None,
    "mkldnn.enabled": True,
    "opt_einsum.enabled": False,
    "opt_einsum.strategy": None,
}


def get(name):
    return flags[name]


def set_bool(name, value, setter):
    """Store a boolean switch; like PyTorch, anything but a bool is refused."""
    if not isinstance(value, bool):
        raise RuntimeError(f"{setter} expects a bool, but got {type(value).__name__}")
    flags[name] = value
