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
    "cuda.sdp.overrideable": True,
    "cuda.sdp.priority_order": (1, 2, 0, 3, 4),  # NOTE: SDPBackend values, as torch._C._get_sdp_priority_order
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


_PRECISION = ["highest"]  # NOTE: torch.set_float32_matmul_precision's last value


def get(name):
    return flags[name]


def _honour_tf32():
    """Tell the GPU backend (when it is loaded) whether float32 matmuls may round inputs to TF32."""
    import sys
    cuda = sys.modules.get("ember._backends.cuda")
    if cuda is not None and cuda.xp is not None:
        cuda.allow_tf32(flags["cuda.matmul.allow_tf32"])


def set_float32_matmul_precision(precision):
    """torch.set_float32_matmul_precision: 'highest' (float32 matmuls in float32), 'high' or 'medium'
    (TF32 allowed on GPUs that have it; ember has no bfloat16 matmul path for 'medium')."""
    if precision not in ("highest", "high", "medium"):
        import warnings
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _PRECISION[0] = precision
    flags["cuda.matmul.allow_tf32"] = precision != "highest"
    _honour_tf32()


def get_float32_matmul_precision():
    """The precision last set, or what torch.backends.cuda.matmul.allow_tf32 implies since."""
    allowed = flags["cuda.matmul.allow_tf32"]
    if (_PRECISION[0] != "highest") != allowed:
        _PRECISION[0] = "high" if allowed else "highest"
    return _PRECISION[0]


def set_bool(name, value, setter):
    """Store a boolean switch; like PyTorch, anything but a bool is refused."""
    if not isinstance(value, bool):
        raise RuntimeError(f"{setter} expects a bool, but got {type(value).__name__}")
    flags[name] = value
    if name == "cuda.matmul.allow_tf32":
        _honour_tf32()
