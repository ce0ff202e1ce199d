"""Random numbers: torch.Generator, manual_seed, rand/randn/randint/randperm/normal and friends.

The generator is PyTorch's CPU one: a 32-bit Mersenne Twister seeded as PyTorch seeds it, with the state
bytes of torch.get_rng_state (ember/_mt19937.py), and every sampler (rand/randn/randint/randperm, the in-place
samplers, bernoulli/dropout, multinomial, poisson, gamma, binomial) transforms its words as PyTorch's CPU kernels do
(ember/_draws.py). So after the same manual_seed they give PyTorch's numbers: bit for bit, but float32
(and float16/bfloat16) normal of 16 or more contiguous elements, which PyTorch computes with vectorised
approximations of log/sin/cos (equal within about 1e-6). `_rng` (NumPy over the same words) remains for
any sampler without a PyTorch transform. GPU tensors draw here too, then are copied.
"""
import builtins
import contextlib
import functools
import math
import time

import numpy as np

from . import _dtype, _draws, _state
from ._arguments import as_dtype
from ._creation import _requiring_grad, _size_args, _sizes, from_array
from ._mt19937 import STATE_BYTES as _STATE_BYTES, Engine
from ._tensor import Tensor, broadcast_shapes
from .autograd.function import Primitive, out_of_memory

DEFAULT_SEED = 67280421310721  # PyTorch's default_generator initial seed
_U64 = 1 << 64


def _seed_value(seed):
    seed = builtins.int(seed)
    if not -(1 << 63) <= seed < _U64:
        raise ValueError("Overflow when unpacking long long")
    return seed % _U64


class Generator:
    """A random number generator; pass it as `generator=` to sampling functions."""

    def __init__(self, device="cpu"):
        from ._device import device as _device
        self.device = _device(device)
        self._engine = Engine(DEFAULT_SEED)
        # NOTE: a NumPy Generator over the same words, for the samplers that are not PyTorch's yet.
        self._rng = self._engine.numpy()

    def manual_seed(self, seed):
        """Reseed; returns self."""
        self._engine.reseed(_seed_value(seed))
        return self

    def seed(self):
        """Reseed from a non-deterministic source; returns the new seed."""
        s = builtins.int(time.time_ns()) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._engine.seed

    def clone_state(self):
        """A new generator in the same state."""
        return Generator(self.device).set_state(self.get_state())

    def get_state(self):
        """The state as a uint8 tensor in PyTorch's CPU layout (5056 bytes): torch.set_rng_state accepts it."""
        raw = self._engine.to_bytes()
        return from_array(np.frombuffer(raw, dtype=np.uint8).copy(), device="cpu")  # NOTE: always a CPU tensor

    def set_state(self, new_state):
        """Load a state from get_state (ember's or PyTorch's); returns self."""
        if not isinstance(new_state, Tensor) or new_state.dtype is not _dtype.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = new_state.detach().cpu().numpy().tobytes()
        if len(raw) != _STATE_BYTES:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_BYTES} but found the input RNG "
                               f"state size to be {len(raw)}")
        self._engine.from_bytes(raw)
        return self


default_generator = Generator()


def _generator(generator):
    """The Generator to draw from (the default one for None)."""
    if _state.vmap_depth:  # NOTE: every draw comes here: vmap's randomness= mode decides (ember/func)
        from .func._vmap import check_random
        check_random()
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"expected a torch.Generator as 'generator', but got {type(generator).__name__}")
    return generator


def _rng(generator):
    """A NumPy Generator over the generator's words (for samplers not drawn as PyTorch draws them)."""
    return _generator(generator)._rng


def _engine(generator):
    """The generator's mt19937 engine, for the samplers that draw exactly as PyTorch's CPU kernels."""
    return _generator(generator)._engine


def manual_seed(seed):
    """Seed the default generator (and the GPU's); returns it."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Restore the default generator's state on exit.

    NOTE: ember's GPU tensors draw from the same host generator, so there are no per-device states:
    `devices` and `device_type` are accepted and need no work of their own."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def _finish(arr, dtype, device, requires_grad, out=None, name="random"):
    if out is not None and dtype is None:
        dtype = out._dtype
    t = from_array(np.asarray(arr).astype(dtype.np, copy=False), device=device)
    t = _requiring_grad(t, requires_grad)
    if out is not None:
        from ._ops._registry import write_out
        return write_out(out, t, name)
    return t


def _not_implemented(kernel, dtype):
    return NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.scalar_type_name(dtype)}'")


def _float_dtype(dtype, kernel="check_uniform_bounds", out=None):
    dtype = as_dtype(dtype, "rand" if kernel == "check_uniform_bounds" else "randn") or (out._dtype if out is not None else _state.default_dtype)
    if dtype.category != _dtype.FLOAT:
        raise _not_implemented(kernel, dtype)
    return dtype


_MANTISSA = _draws.DIGITS


def _numel(shape):
    n = 1
    for d in shape:
        n *= builtins.int(d)
    return n


def _uniform(generator, shape, dtype, low=0.0, high=1.0):
    """uniform_(low, high) samples of `dtype` in PyTorch's CPU order, from the generator's words."""
    return _draws.uniform(_engine(generator), _numel(shape), dtype, low, high).reshape(shape)


def _normal(generator, shape, dtype, mean=0.0, std=1.0):
    """normal_(mean, std) samples of `dtype` as PyTorch's CPU kernel draws a contiguous tensor."""
    return _draws.normal(_engine(generator), _numel(shape), dtype, mean, std).reshape(shape)


def _integers(generator, shape, dtype, low, high):
    """random_(low, high) samples of `dtype` (high - low may be up to 2**64)."""
    return _draws.random_from_to(_engine(generator), _numel(shape), dtype, low, high).reshape(shape)


def _vmap_random(kind):
    """Mark a public sampler with the kind of its arguments, for vmap's randomness= modes: while a vmap is
    active the call is resolved level by level in ember/func/_batching/random.py (one number read otherwise)."""
    def mark(sampler):
        @functools.wraps(sampler)
        def wrapper(*args, **kwargs):
            if _state.vmap_depth and _state.local.vmap_levels:
                from .func._batching.random import call_random
                return call_random(kind, sampler, args, kwargs)
            return sampler(*args, **kwargs)
        return wrapper
    return mark


def _host_memory(sampler):
    """NOTE: the samplers draw on the host with NumPy: its MemoryError becomes PyTorch's RuntimeError."""
    @functools.wraps(sampler)
    def wrapper(*args, **kwargs):
        try:
            return sampler(*args, **kwargs)
        except MemoryError as e:
            from ._device import device as _device_of
            raise out_of_memory(e, _device_of("cpu")) from None
    return wrapper


@_vmap_random("factory")
@_host_memory
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kw):
    """Uniform samples in [0, 1)."""
    shape = _sizes(size, kw, "rand")
    dtype = _float_dtype(dtype, out=out)
    return _finish(_uniform(generator, shape, dtype), dtype, device, requires_grad, out, "rand")


@_vmap_random("factory")
@_host_memory
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **kw):
    """Standard normal samples."""
    shape = _sizes(size, kw, "randn")
    wanted = as_dtype(dtype, "randn")
    if wanted is not None and wanted.category == _dtype.COMPLEX:
        # NOTE: as PyTorch: the real view (..., 2) drawn with std 1/sqrt(2), so |z| has variance 1
        parts = _normal(generator, tuple(shape) + (2,), wanted.to_real(), 0.0, 1.0 / math.sqrt(2.0))
        return _finish(parts.view(wanted.np).reshape(shape), wanted, device, requires_grad, out, "randn")
    dtype = _float_dtype(dtype, "normal_kernel_cpu", out)
    return _finish(_normal(generator, shape, dtype), dtype, device, requires_grad, out, "randn")


_C_INT_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int",
                "int32": "int", "int64": "long int"}


def _check_int_range(low, high, dtype):
    """PyTorch's bounds check for integer sampling into `dtype` ([low, high) must fit)."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    cname = _C_INT_NAMES.get(dtype.name)
    if cname is None:
        return
    lo, hi = (0, 1) if dtype is _dtype.bool else (np.iinfo(dtype.np).min, np.iinfo(dtype.np).max)
    if not lo <= low <= hi:
        raise RuntimeError(f"from is out of bounds for {cname}")
    if not lo <= high - 1 <= hi:
        raise RuntimeError(f"to - 1 is out of bounds for {cname}")


def _randint_invalid(args):
    return TypeError(f"randint() received an invalid combination of arguments - got "
                     f"({', '.join(type(a).__name__ for a in args)}), but expected one of:\n"
                     " * (int high, tuple of ints size, *, torch.Generator generator, Tensor out = None, "
                     "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
                     "bool pin_memory = False, bool requires_grad = False)\n"
                     " * (int low, int high, tuple of ints size, *, torch.Generator generator, Tensor out = None, "
                     "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
                     "bool pin_memory = False, bool requires_grad = False)\n")


def _is_int(v):
    return isinstance(v, (builtins.int, np.integer)) and not isinstance(v, builtins.bool)


@_vmap_random("factory")
@_host_memory
def randint(*args, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
            pin_memory=False, **kw):
    """Integers uniform in [low, high): randint(high, size) or randint(low, high, size); int64 by default."""
    named = {k: kw.pop(k) for k in ("low", "high", "size") if k in kw}
    if kw:
        raise TypeError(f"randint() got an unexpected keyword argument '{next(iter(kw))}'")
    if len(args) == 3:
        low, high, size = args
    elif len(args) == 2 and "size" not in named:
        (high, size), low = args, named.get("low", 0)
    elif len(args) == 2:
        (low, high), size = args, named["size"]
    elif len(args) == 1 and "size" in named:
        low, high, size = (named.get("low", 0), args[0], named["size"]) if "high" not in named else \
            (args[0], named["high"], named["size"])
    elif not args and "high" in named and "size" in named:
        low, high, size = named.get("low", 0), named["high"], named["size"]
    else:
        raise _randint_invalid(args)
    position = 2 if len(args) < 3 else 3
    if not isinstance(size, (tuple, list)):
        where = f" (position {position})" if len(args) >= position else ""
        raise TypeError(f"randint(): argument 'size'{where} must be tuple of ints, not {type(size).__name__}")
    if not (_is_int(low) and _is_int(high)):
        if len(args) == 2 and "size" not in named and not _is_int(high):
            raise TypeError(f"randint(): argument 'high' (position 1) must be int, not {type(high).__name__}")
        raise _randint_invalid(args)
    dtype = as_dtype(dtype, "randint") or (out._dtype if out is not None else _dtype.int64)
    shape = _size_args((size,), "randint")
    _check_int_range(builtins.int(low), builtins.int(high), dtype)
    arr = _integers(generator, shape, dtype, builtins.int(low), builtins.int(high))
    return _finish(arr, dtype, device, requires_grad, out, "randint")


@_vmap_random("factory")
@_host_memory
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of 0..n-1 (int64)."""
    n = builtins.int(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dtype = as_dtype(dtype, "randperm") or (out._dtype if out is not None else _dtype.int64)
    return _finish(_draws.randperm(_engine(generator), n), dtype, device, requires_grad, out, "randperm")


def _like(sampler):
    def like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
             generator=None):
        return sampler(tuple(input.shape), dtype=dtype or input._dtype, device=device or input._device,
                       requires_grad=requires_grad, generator=generator)
    like.__name__ = sampler.__name__ + "_like"
    like.__doc__ = f"{sampler.__name__} samples with input's shape, dtype and device."
    return like


rand_like = _vmap_random("like")(_like(rand))
randn_like = _vmap_random("like")(_like(randn))


@_vmap_random("like")
def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None, generator=None):
    """randint samples with input's shape (and dtype)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input._dtype, device=device or input._device,
                   requires_grad=requires_grad, generator=generator)


def _fmt(v):
    """A number as PyTorch's C++ messages print it (-1.0 as -1, 1e-08 as 1e-08)."""
    return f"{v:g}" if isinstance(v, (builtins.float, np.floating)) else str(v)


@_vmap_random("elementwise")
@_host_memory
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Normal samples; mean and std may be tensors (broadcast) or numbers (then `size` is needed)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        if ref._dtype.category != _dtype.FLOAT:
            raise _not_implemented("normal_kernel_cpu", ref._dtype)
        m, s = _host(mean), _host(std)
        if isinstance(std, Tensor):
            if builtins.bool((s < 0).any()):
                raise RuntimeError("normal expects all elements of std >= 0.0")
        elif std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
        shape = tuple(broadcast_shapes(np.shape(m), np.shape(s)))
        # NOTE: as PyTorch: normal_(0, std) then + mean for a number std, else normal_(0, 1) * std + mean,
        # each step rounded to the dtype.
        if isinstance(std, Tensor):
            values = _normal(generator, shape, ref._dtype) * s.astype(ref._dtype.np) + np.asarray(m, ref._dtype.np)
        else:
            values = _normal(generator, shape, ref._dtype, 0.0, std) + np.asarray(m, ref._dtype.np)
        return _sampled(values, ref, (mean, std), out, "normal")
    if size is None:
        raise TypeError(f"normal() received an invalid combination of arguments - got ({type(mean).__name__}, "
                        f"{type(std).__name__}), but expected one of:\n"
                        " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
                        " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
                        " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
                        " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, "
                        "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
                        "torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
    dtype = _float_dtype(dtype, "normal_kernel_cpu", out)
    arr = _normal(generator, _size_args((size,), "normal"), dtype, mean, std)
    return _finish(arr, dtype, device, requires_grad, out, "normal")


P_MESSAGE = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be improved?  "
              "If so, please report an enhancement request to PyTorch.)")


@_vmap_random("elementwise")
def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability input (or p), else 0; same dtype as input."""
    if p is None:
        if input._dtype.category != _dtype.FLOAT:
            raise _not_implemented("bernoulli_tensor_cpu_p_", input._dtype)
        probs = input._device.backend.to_host(input._data)
        if not ((probs >= 0) & (probs <= 1)).all():
            raise RuntimeError(P_MESSAGE)
    else:
        probs = _check_p(p)
    eng = _engine(generator)
    if p is None or isinstance(p, Tensor):
        arr = _draws.bernoulli_tensor(eng, np.broadcast_to(probs, tuple(input.shape)))
    else:
        arr = _draws.bernoulli_scalar(eng, _numel(input.shape), probs).reshape(tuple(input.shape))
    if p is not None:
        # NOTE: PyTorch records bernoulli(input, p) in the graph with no derivative: backward raises.
        from ._sampling import _on_device
        result = _UndifferentiableBernoulli.apply(input, _on_device(arr, input._dtype, input._device))
        return result if out is None else _write_out(out, result)
    return _sampled(arr, input, (input,), out, "bernoulli")


def _write_out(out, result, name="bernoulli"):
    from ._ops._registry import write_out
    return write_out(out, result, name)


class _UndifferentiableBernoulli(Primitive):
    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, x, values):
        return values

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("derivative for aten::bernoulli is not implemented")


def _host(v):
    return v._device.backend.to_host(v._data) if isinstance(v, Tensor) else v


def _sampled(values, ref, operands, out, name):
    """Samples of ref's dtype and device, in the graph with a zero gradient for each tensor operand."""
    from ._sampling import _on_device, _sampled_node
    node = _sampled_node(name.capitalize(), len(operands))
    result = node.apply(*operands, _on_device(values, ref._dtype, ref._device))
    return result if out is None else _write_out(out, result, name)


def _check_p(p):
    if isinstance(p, Tensor):
        probs = p._device.backend.to_host(p._data)
        if not ((probs >= 0) & (probs <= 1)).all():
            raise RuntimeError(P_MESSAGE)
        return probs
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")
    return p
