"""The only global state in ember: grad mode, default dtype and device, the RNG, and the
DataLoader's current (emulated) worker.

Every switch comes with a context manager in the module that owns the public API
(autograd.grad_mode for grad mode); this module only holds the values.
"""
import threading

from . import _dtype


class _Local(threading.local):
    def __init__(self):
        self.grad_enabled = True
        self.inference = False
        # NOTE: inside inference_mode nothing is recorded (grad_enabled stays False), yet enable_grad there makes
        # is_grad_enabled() say True, as in PyTorch: the mode reported while `inference` is on.
        self.grad_shown = False
        self.worker_info = None  # torch.utils.data.get_worker_info() inside a DataLoader worker process
        self.vmap_levels = []  # torch.func.vmap's active levels, outermost first (ember/func/_batching)
        # torch.autograd.set_multithreading_enabled / enforce_grad_layout_policy (ember/autograd/switches.py):
        # reported only: ember's engine runs backward on the calling thread and its gradients have no strides
        self.multithreading_enabled = True
        self.grad_layout_enforced = True


local = _Local()
default_dtype = _dtype.float32
default_device = None  # None means cpu
default_device_stack = []  # NOTE: the defaults that `with torch.device(...)` blocks replaced
cuda_index = 0
# NOTE: anomaly detection is one switch for the whole process, as in PyTorch (ember/autograd/anomaly_mode.py)
anomaly_enabled = False
anomaly_check_nan = True
# NOTE: how many vmap calls are running, in all threads (their levels are per thread, local.vmap_levels): the op
# boundary tests this one module-level number, cheaper than a thread-local read (ember/func/_vmap.py counts it)
vmap_depth = 0
# Forward-mode AD (ember/autograd/forward_ad.py): one entry per dual level that exists (the tensors given a
# tangent at it), and how many of them ops see now. NOTE: global, not per thread, as PyTorch's levels are;
# `fw_visible` is 0 whenever no level exists, so the op boundary tests one number to skip forward AD.
dual_levels = []
fw_visible = 0
# NOTE: a list while an op log is recording (torch.utils.checkpoint's debug mode, ember/autograd/op_log.py): every
# primitive call appends to it; None otherwise (the one test it costs an op call)
op_log = None
# Runtime switches (ember/_runtime.py): thread counts as reported (NumPy's own threading is not changed),
# deterministic-algorithms debug mode (0 off, 1 warn, 2 error), warn_always, and autocast's per-device-type
# [enabled, dtype] with its cache switch and nesting count (ember/amp casts by them).
num_threads = None  # None: the machine's CPU count
num_interop_threads = None
interop_threads_set = False
deterministic_mode = 0
warn_always = False
autocast = {}
autocast_cache_enabled = True
autocast_nesting = 0
# NOTE: True while some device type's autocast is on and no autocast op is running (ember/amp/_policy.py): the
# one test the op boundary pays for autocast
autocast_active = False
# NOTE: autocast's casts of leaf tensors that require grad (weights), id -> (tensor, cast), while its cache is on
autocast_cache = {}
# Storages a program passed to share_memory_ (weak references to their owners; ember/_storage.py)
shared_storages = []


def is_grad_enabled():
    return local.grad_shown if local.inference else local.grad_enabled


def set_grad_enabled(mode):
    local.grad_enabled = bool(mode)


def get_default_dtype():
    return default_dtype


def set_default_dtype(d):
    global default_dtype
    if not isinstance(d, _dtype.dtype) or d.category != _dtype.FLOAT:
        raise TypeError(f"only floating-point types are supported as the default type")
    if d not in (_dtype.float32, _dtype.float64, _dtype.float16, _dtype.bfloat16):
        raise TypeError("only floating-point types are supported as the default type")
    default_dtype = d


def current_cuda_index():
    return cuda_index
