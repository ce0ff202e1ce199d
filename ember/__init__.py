"""ember: the PyTorch API in Python. `import ember as torch` and a PyTorch program runs unchanged,
on the CPU through NumPy or on NVIDIA GPUs through CuPy. This module is the `torch` namespace."""
from . import _dtype
from ._dtype import (bfloat16, bool, cdouble, cfloat, complex64, complex128, double, dtype, float, float16,
                     float32, float64, half, int, int8, int16, int32, int64, long, short, uint8, uint16, uint32,
                     uint64, finfo, iinfo)
from ._device import device, get_default_device, set_default_device
from ._tensor import Size, Tensor
from .autograd.function import OutOfMemoryError
from . import _ops
from ._creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, logspace,
                        ones, ones_like, scalar_tensor, tensor, zeros, zeros_like)
from ._random import (Generator, bernoulli, default_generator, fork_rng as _fork_rng, get_rng_state, initial_seed,
                      manual_seed, normal, rand, rand_like, randint, randint_like, randn, randn_like, randperm, seed,
                      set_rng_state)
from ._sampling import binomial, multinomial, poisson
from ._windows import bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window
from . import _types, _creation_specs
from . import _tail, _runtime
from ._storage import TypedStorage, UntypedStorage
from . import random
from ._functional import (can_cast, get_default_dtype, is_complex, is_floating_point, is_grad_enabled, is_tensor,
                          numel, promote_types, result_type, set_default_dtype)
from ._tensor import broadcast_shapes
from ._tensor_str import get_printoptions, set_printoptions
from ._types import asarray, is_nonzero, is_signed, is_storage, layout, memory_format
from ._types import MEMORY_FORMATS as _MEMORY_FORMATS, LAYOUTS as _LAYOUTS
from . import autograd, cuda, fft, linalg, nn, optim, utils
from . import special
from . import signal
from . import hub, jit, onnx, sparse
from . import distributions
from . import distributed  # NOTE: mpi4py is imported only by init_process_group
from . import futures
from . import multiprocessing
from ._compile import compile
from . import compiler, profiler
from .autograd import profiler as _autograd_profiler, profiler_util as _profiler_util  # NOTE: as torch.autograd's
from . import accelerator, backends
from .backends._flags import get_float32_matmul_precision, set_float32_matmul_precision
from .autograd import enable_grad, inference_mode, no_grad, set_grad_enabled
from .autograd.grad_mode import is_inference, is_inference_mode_enabled
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled
from . import func
from .func import vmap
from ._op_overloads import ops  # NOTE: torch.ops (operator names: selective checkpointing's policies)
from .serialization import load, save
from ._compat.legacy import (BFloat16Tensor, BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,
                             HalfTensor, IntTensor, LongTensor, ShortTensor)

_ops._guards.guard_functions()  # NOTE: every op is registered now (nn.functional adds some)
from . import amp, cpu, mps, mtia, xpu
from .amp import GradScaler, autocast
_ops._registry.publish(globals())

contiguous_format, preserve_format, channels_last, channels_last_3d = (
    _MEMORY_FORMATS[n] for n in ("contiguous_format", "preserve_format", "channels_last", "channels_last_3d"))
strided, sparse_coo, sparse_csr = _LAYOUTS["strided"], _LAYOUTS["sparse_coo"], _LAYOUTS["sparse_csr"]
sparse_csc, sparse_bsr, sparse_bsc = _LAYOUTS["sparse_csc"], _LAYOUTS["sparse_bsr"], _LAYOUTS["sparse_bsc"]

from . import functional, overrides, return_types, testing, torch_version, version
from . import quasirandom, storage, types
from ._classes import (AcceleratorError, DisableTorchFunction, DisableTorchFunctionSubclass, Event, FatalError,
                       Stream, SymBool, SymFloat, SymInt, Tag, qscheme)
from ._classes import QSCHEMES as _QSCHEMES
from .futures import Future
from .storage import LEGACY_STORAGES as _LEGACY_STORAGES
globals().update(_LEGACY_STORAGES)
globals().update(_QSCHEMES)
Storage = _LEGACY_STORAGES["FloatStorage"]
from .version import __version__
