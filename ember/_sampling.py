"""Samplers that take tensors: multinomial, poisson, binomial, and the in-place samplers (uniform_, normal_,
random_, bernoulli_, exponential_, geometric_, log_normal_, cauchy_).

Samples are drawn on the host from the generator's mt19937 words as PyTorch's CPU kernels draw them
(ember/_draws.py), then moved to the tensor's device.
PyTorch's samplers are in the graph with a zero gradient (normal_ on a non-leaf, poisson of a tensor
that requires grad): `_sampled_node` gives them one, so gradients and in-place checks match.
"""
import builtins
import warnings

import numpy as np

from . import _dtype
from ._creation import from_array
from ._dtype import _BY_NP
from . import _draws
from ._random import _MANTISSA, _check_int_range, _engine, _fmt, _not_implemented, _numel, _rng, _vmap_random, P_MESSAGE
from ._tensor import Tensor
from .autograd.function import Primitive, not_implemented_backward


def _forward(ctx, *args):
    *operands, values = args
    ctx.meta = [(o.shape, _BY_NP[o.dtype]) if hasattr(o, "shape") else None for o in operands]
    return values


def _backward(ctx, g):
    from ._creation import zeros
    grads = tuple(None if m is None else zeros(m[0], dtype=m[1], device=g.device) for m in ctx.meta)
    return grads if len(grads) > 1 else grads[0]


_NODES = {}


def _sampled_node(name, inputs=1):
    """A Primitive named like PyTorch's node (`NormalBackward0`) whose forward returns the drawn values
    and whose backward gives every tensor input a zero gradient."""
    key = (name, inputs)
    if key not in _NODES:
        _NODES[key] = type(name, (Primitive,), {"inputs": inputs, "forward": staticmethod(_forward),
                                                "backward": staticmethod(_backward), "__module__": __name__})
    return _NODES[key]


def _on_device(values, dtype, device):
    return device.backend.asarray(np.asarray(values).astype(dtype.np, copy=False), index=device.index)


def _host(t):
    return t._device.backend.to_host(t._data)


def _walk(self, flat):
    """Samples in the order PyTorch's serial kernels write self (its memory, largest stride first), placed at
    their indices: a transposed or sliced tensor gets the numbers PyTorch gives it."""
    shape = tuple(self.shape)
    if len(shape) < 2 or self.is_contiguous():
        return flat.reshape(shape)
    strides = self.stride()
    order = sorted(range(len(shape)), key=lambda d: -strides[d])
    return np.transpose(flat.reshape([shape[d] for d in order]), np.argsort(order))


def _fill(self, name, values):
    """Write samples into self in place, recording a zero-gradient node as PyTorch does."""
    from ._ops._registry import apply_inplace
    return apply_inplace(_sampled_node(name), self, _on_device(values, self._dtype, self._device))


# --- multinomial and poisson ------------------------------------------------------------------------
def _check_multinomial(input, num_samples, replacement):
    if input._dtype.category != _dtype.FLOAT:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_dtype.scalar_type_name(input._dtype)}")
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    probs = _host(input).astype(np.float64).reshape(-1, input.shape[-1])
    if not (np.isfinite(probs).all() and (probs >= 0).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (probs.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    return probs


@_vmap_random("rows")
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices drawn from each row of (unnormalised) probabilities in input; int64."""
    probs = _check_multinomial(input, num_samples, replacement)
    eng = _engine(generator)
    dt = input._dtype.np if input._dtype.name in ("float32", "float64") else np.float32
    rows = []
    if not replacement or num_samples == 1:
        # NOTE: PyTorch's scheme: the top num_samples of p / q with q ~ Exp(1) drawn for every entry, in the
        # dtype (a Gumbel-max sample without replacement).
        p_all = _host(input).astype(dt).reshape(probs.shape)
        q = _draws.exponential(eng, p_all.size, 1.0).astype(dt).reshape(p_all.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = p_all / q
        for row in keys:
            rows.append(np.argsort(-row, kind="stable")[:num_samples])
    else:
        for p in probs:
            # NOTE: as PyTorch: a sequential running sum in the dtype, divided by the total, last bucket 1,
            # then per sample a double uniform and the first bucket whose cumulative value is not below it.
            cdf = np.cumsum(p.astype(dt), dtype=dt)
            cdf = cdf / cdf[-1]
            cdf[-1] = 1
            u = _draws.uniform01(eng, num_samples, "float64")
            rows.append(np.searchsorted(cdf.astype(np.float64), u, side="left"))
    arr = np.stack(rows) if rows else np.zeros((0, num_samples), dtype=np.int64)
    if input.dim() == 1:
        arr = arr[0]
    result = from_array(arr.astype(np.int64), device=input._device)
    if out is None:
        return result
    from ._ops._registry import write_out
    return write_out(out, result, "multinomial")


@_vmap_random("elementwise")
def poisson(input, generator=None):
    """Poisson samples with rates input (same dtype); its gradient is zero, as in PyTorch."""
    if input._dtype.category != _dtype.FLOAT:
        raise _not_implemented("poisson_cpu", input._dtype)
    rates = _host(input)
    if not (rates >= 0).all():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    values = _draws.poisson(_engine(generator), rates)
    return _sampled_node("Poisson").apply(input, _on_device(values, input._dtype, input._device))


class _Binomial(Primitive):
    """binomial's node: the drawn counts (computed beforehand, passed in) recorded as PyTorch records them."""
    inputs = 2
    node_name = "NotImplemented"  # NOTE: PyTorch records binomial, and its backward refuses
    forward = staticmethod(_forward)
    backward = not_implemented_backward("binomial")


def binomial(count, prob, generator=None):
    """Binomial samples: successes in `count` trials of probability `prob` (broadcast; same float dtype);
    its gradient is not implemented, as in PyTorch. NOTE: a NaN count gives NaN (PyTorch does not return)."""
    for name, position, value in (("count", 1, count), ("prob", 2, prob)):
        if not isinstance(value, Tensor):
            from ._arguments import type_name
            raise TypeError(f"binomial(): argument '{name}' (position {position}) must be Tensor, not "
                            f"{type_name(value)}")
    for name, value in (("count", count), ("prob", prob)):
        if value._dtype.category != _dtype.FLOAT:
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: "
                             f"{_dtype.scalar_type_name(value._dtype)}")
    if prob._dtype is not count._dtype:
        raise RuntimeError(f"Found dtype {_dtype.scalar_type_name(prob._dtype)} but expected "
                           f"{_dtype.scalar_type_name(count._dtype)}")
    if count._dtype.itemsize < 4:
        raise _not_implemented("binomial_cpu", count._dtype)
    from ._tensor import broadcast_shapes
    shape = tuple(broadcast_shapes(count.shape, prob.shape))
    if tuple(count.shape) != shape and count._data.size:
        warnings.warn(f"An output with one or more elements was resized since it had shape {list(count.shape)}, "
                      f"which does not match the required output shape {list(shape)}. This behavior is deprecated, "
                      "and in a future PyTorch release outputs will not be resized unless they have zero elements. "
                      "You can explicitly reuse an out tensor t by resizing it, inplace, to zero elements with "
                      "t.resize_(0).", UserWarning, stacklevel=2)
    n = np.broadcast_to(_host(count), shape)
    p = np.broadcast_to(_host(prob), shape)
    values = _draw_binomial(_engine(generator), n, p, count._dtype)
    return _Binomial.apply(count, prob, _on_device(values, count._dtype, count._device))


def _draw_binomial(engine, n, p, dtype):
    """Binomial draws as PyTorch's CPU sample_binomial (ember/_draws.py): counts <= 0 or p <= 0 give 0, p >= 1
    the count, p > 1/2 the count less the failures (a fractional count keeps its fraction there: 2.5 trials at
    p=0.9 give 2.5, 1.5 or 0.5). NOTE: a NaN in either gives NaN without a draw (PyTorch never returns for a
    NaN count)."""
    nan = np.isnan(n) | np.isnan(p)
    out = _draws.binomial(engine, np.where(nan, 0.0, n), np.where(nan, 0.0, p), dtype)
    out[nan] = np.nan
    return out


# --- in-place samplers ------------------------------------------------------------------------------
@_vmap_random("inplace")
def _uniform_(self, from_=0.0, to=1.0, *, generator=None, **kw):
    """Fill with uniform samples in [from, to)."""
    from_ = kw.pop("from", from_)
    if kw:
        raise TypeError(f"uniform_() got an unexpected keyword argument '{next(iter(kw))}'")
    if self._dtype.category != _dtype.FLOAT:
        raise _not_implemented("check_uniform_bounds", self._dtype)
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={_fmt(from_)} > "
                           f"to={_fmt(to)}")
    limit = np.finfo(np.float32 if self._dtype is _dtype.bfloat16 else self._dtype.np).max
    for name, v in (("from", from_), ("to", to)):
        if not -limit <= v <= limit:
            raise RuntimeError(f"{name} is out of bounds for "
                               f"{'float' if self._dtype.itemsize == 4 else self._dtype.name}")
    flat = _draws.uniform(_engine(generator), _numel(self.shape), self._dtype, from_, to)
    return _fill(self, "Uniform", _walk(self, flat))


@_vmap_random("inplace")
def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with normal samples."""
    if self._dtype.category != _dtype.FLOAT:
        raise _not_implemented("normal_kernel_cpu", self._dtype)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
    flat = _draws.normal(_engine(generator), _numel(self.shape), self._dtype, mean, std, self.is_contiguous())
    return _fill(self, "Normal", _walk(self, flat))


_DEFAULT = object()


@_vmap_random("inplace")
def _random_(self, *args, generator=None, **kw):
    """Fill with integers: random_() over the dtype's exact range, random_(to), random_(from, to)."""
    from_, to = _random_range(args, kw)
    if self._dtype.category == _dtype.COMPLEX:
        raise _not_implemented("random_kernel_cpu", self._dtype)
    full = to is _DEFAULT
    if to is _DEFAULT or to is None:
        top = _top(self._dtype)
        if to is _DEFAULT:  # random_(): [0, top]
            from_ = 0
        to = top + 1
    _check_int_range(builtins.int(from_), builtins.int(to), self._dtype)
    digits = _MANTISSA.get(self._dtype.name)
    if digits and to - 1 > (1 << digits):
        warnings.warn(f"to - 1 is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations "
                      f"{self._dtype.name} can support discrete uniform distribution only within this range.",
                      UserWarning, stacklevel=2)
    shape = tuple(self.shape)
    if full:
        flat = _draws.random_full(_engine(generator), _numel(shape), self._dtype)
    else:
        flat = _draws.random_from_to(_engine(generator), _numel(shape), self._dtype, builtins.int(from_), builtins.int(to))
    return _fill(self, "Random", _walk(self, flat))


def _top(dtype):
    """The largest value random_() draws: 2**mantissa for floats, the max for integers."""
    digits = _MANTISSA.get(dtype.name)
    if digits:
        return 1 << digits
    return 1 if dtype is _dtype.bool else builtins.int(np.iinfo(dtype.np).max)


def _random_range(args, kw):
    if "from" in kw:
        args = (kw.pop("from"),) + args
    if "to" in kw:
        args = args + (kw.pop("to"),) if len(args) == 1 else (0, kw.pop("to")) if not args else args
    if kw or len(args) > 2 or not all(a is None or _is_int(a) for a in args):
        raise _random_invalid(args, kw)
    if not args:
        return 0, _DEFAULT
    if len(args) == 1:
        if args[0] is None:
            raise _random_invalid(args, kw)
        return 0, args[0]
    return args


def _is_int(v):
    return isinstance(v, (builtins.int, np.integer)) and not isinstance(v, builtins.bool)


def _random_invalid(args, kw):
    got = ", ".join([type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kw.items()])
    return TypeError(f"random_() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                     " * (*, torch.Generator generator = None)\n"
                     " * (int from, int to, *, torch.Generator generator = None)\n"
                     " * (int to, *, torch.Generator generator = None)\n")


@_vmap_random("inplace")
def _bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 with probability p (a number or a tensor broadcast to self), else 0."""
    if isinstance(p, Tensor):
        probs = _host(p)
        if not ((probs >= 0) & (probs <= 1)).all():
            raise RuntimeError(P_MESSAGE)
        if not _expands_to(probs.shape, self.shape):
            raise RuntimeError(_expand_message(probs.shape, self.shape))
        probs = np.broadcast_to(probs, self.shape)
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")
        probs = p
    eng, n = _engine(generator), _numel(self.shape)
    if isinstance(p, Tensor):
        values = _draws.bernoulli_tensor(eng, probs)
    else:
        values = _walk(self, _draws.bernoulli_scalar(eng, n, probs))
    return _fill(self, "Bernoulli", values)


def _expands_to(shape, target):
    return len(shape) <= len(target) and all(a in (1, b) for a, b in zip(reversed(shape), reversed(target)))


def _expand_message(shape, target):
    for i in range(1, len(shape) + 1):
        have, want = shape[-i], target[-i] if i <= len(target) else None
        if have != 1 and have != want:
            return (f"The expanded size of the tensor ({want}) must match the existing size ({have}) at "
                    f"non-singleton dimension {len(target) - i}.  Target sizes: {list(target)}.  Tensor sizes: "
                    f"{list(shape)}")
    return f"expand: cannot expand {list(shape)} to {list(target)}"


@_vmap_random("inplace")
def _exponential_(self, lambd=1.0, *, generator=None):
    """Fill with exponential samples of rate lambd."""
    if self._dtype.category != _dtype.FLOAT:
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_dtype.scalar_type_name(self._dtype)}")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    return _fill(self, "Exponential", _walk(self, _draws.exponential(_engine(generator), _numel(self.shape), lambd)))


@_vmap_random("inplace")
def _geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(p)}")
    if self._dtype.category == _dtype.COMPLEX or self._dtype is _dtype.bool:
        raise _not_implemented("geometric_cpu", self._dtype)
    return _fill(self, "Geometric", _walk(self, _draws.geometric(_engine(generator), _numel(self.shape), p)))


@_vmap_random("inplace")
def _log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp of normal(mean, std) samples."""
    if self._dtype.category != _dtype.FLOAT:
        raise _not_implemented("log_normal_cpu", self._dtype)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_fmt(std)}")
    values = _walk(self, _draws.log_normal(_engine(generator), _numel(self.shape), mean, std))
    return _fill(self, "LogNormal", values)


_C_TYPE = {"uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
           "int64": "long int", "bool": "bool"}


@_vmap_random("inplace")
def _cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy samples centred on median with scale sigma."""
    if self._dtype.category != _dtype.FLOAT:
        raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_C_TYPE.get(self._dtype.name, self._dtype.name)}")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_fmt(sigma)}")
    values = _walk(self, _draws.cauchy(_engine(generator), _numel(self.shape), median, sigma))
    return _fill(self, "Cauchy", values)


def _bernoulli(self, p=None, *, generator=None):
    from ._random import bernoulli
    return bernoulli(self, p, generator=generator)


from ._ops._registry import bind_method  # noqa: E402
bind_method("uniform_", _uniform_)
bind_method("normal_", _normal_)
bind_method("random_", _random_)
bind_method("bernoulli_", _bernoulli_)
bind_method("exponential_", _exponential_)
bind_method("geometric_", _geometric_)
bind_method("log_normal_", _log_normal_)
bind_method("cauchy_", _cauchy_)
bind_method("bernoulli", _bernoulli)
bind_method("multinomial", multinomial)


# --- specs for the generic comparison with PyTorch ----------------------------------------------
# The generic harness does not seed ember and torch alike before each call, so each spec compares what
# must agree whatever the generator's position: the result's dtype and shape, and that every value lies
# in the sampler's range (`_outside` is zero there), plus the zero gradient PyTorch gives a sampler's
# tensor inputs. Equal numbers for equal seeds are tested in tests/core/test_random_parity.py.
def _outside(r, lo, hi):
    """Zeros of r's dtype and shape where lo <= r <= hi; the distance outside the range elsewhere."""
    return r.clamp(lo, hi) - r


def _permutation_check(r, n):
    """In range, and summing to 0 + 1 + ... + n-1, as a permutation does."""
    return _outside(r, 0, max(n - 1, 0)), r.sum()


def _sizes_and_dtype(g):
    return [], {"size": g.shape(max_side=4), "dtype": g.dtype}


def _probabilities(g):
    rows = g.choice([(), (g.integers(1, 3),)])
    k = g.integers(1, 5)
    p = g.values(rows + (k,), domain=(0, 1))
    p[..., 0] += 0.1  # NOTE: every row keeps a positive total
    return [p], {"num_samples": g.integers(1, k + 1), "replacement": g.boolean()}


def _register_specs():
    from ._ops._registry import OpSpec, spec

    def sampler(name, call, sample=_sizes_and_dtype, dtypes=("float32", "float64"), **kw):
        return OpSpec(name, dtypes=dtypes, grad=False, sample=sample, call=call, **kw)

    def inplace(name, call, lo=-1e30, hi=1e30, dtypes=("float32", "float64"), domain=(-3, 3)):
        return OpSpec(name, dtypes=dtypes, gradcheck=False, domain=domain,
                      call=lambda torch, x: _outside(call(torch, x.clone()), lo, hi))

    def dt(torch, name):
        return getattr(torch, name)

    spec(sampler("rand", lambda torch, size, dtype: _outside(torch.rand(size, dtype=dt(torch, dtype)), 0, 1)),
         sampler("rand", lambda torch, size, dtype: _outside(
             torch.rand(*size, generator=torch.Generator().manual_seed(1)), 0, 1), dtypes=("float32",)),
         sampler("randn", lambda torch, size, dtype: _outside(torch.randn(size, dtype=dt(torch, dtype)), -50, 50)),
         sampler("randint", lambda torch, size, dtype: _outside(torch.randint(-3, 5, size, dtype=dt(torch, dtype)),
                                                                -3, 4), dtypes=("int64", "int8", "float32")),
         sampler("randint", lambda torch, size, dtype: _outside(torch.randint(7, size=size), 0, 6), dtypes=("int64",)),
         OpSpec("randperm", dtypes=("int64",), grad=False, sample=lambda g: ([], {"n": g.integers(0, 9)}),
                call=lambda torch, n: _permutation_check(torch.randperm(n), n)),
         OpSpec("randperm", dtypes=("float32",), grad=False, sample=lambda g: ([], {"n": g.integers(0, 5)}),
                call=lambda torch, n: _outside(torch.randperm(n, dtype=torch.float32), 0, n - 1)),
         sampler("normal", lambda torch, size, dtype: _outside(torch.normal(2.0, 0.5, size, dtype=dt(torch, dtype)),
                                                               -50, 50)),
         OpSpec("normal", arity=2, shapes="binary", domain=(0, 2), gradcheck=False,
                call=lambda torch, m, s: _outside(torch.normal(m, s), -100, 100)),
         OpSpec("normal", domain=(0, 2), gradcheck=False, call=lambda torch, m: _outside(torch.normal(m, 0.5), -50, 50)),
         OpSpec("normal", domain=(0, 2), gradcheck=False, call=lambda torch, s: _outside(torch.normal(1.0, s), -50, 50)),
         OpSpec("bernoulli", domain=(0, 1), gradcheck=False, call=lambda torch, p: _outside(torch.bernoulli(p), 0, 1)),
         OpSpec("bernoulli", domain=(0, 1), grad=False, dtypes=("float32", "int64"),
                call=lambda torch, x: _outside(torch.bernoulli(x, p=0.3), 0, 1)),
         OpSpec("multinomial", dtypes=("float32", "float64"), grad=False, sample=_probabilities,
                call=lambda torch, p, **kw: _outside(torch.multinomial(p, **kw), 0, p.shape[-1] - 1)),
         OpSpec("poisson", domain=(0, 5), gradcheck=False, call=lambda torch, r: _outside(torch.poisson(r), 0, 1e9)),
         OpSpec("rand_like", dtypes=("float32", "float64"), grad=False,
                call=lambda torch, x: _outside(torch.rand_like(x), 0, 1)),
         OpSpec("randn_like", dtypes=("float32", "float64"), grad=False,
                call=lambda torch, x: _outside(torch.randn_like(x), -50, 50)),
         OpSpec("randint_like", dtypes=("float32", "int64"), grad=False,
                call=lambda torch, x: _outside(torch.randint_like(x, 2, 9), 2, 8)),
         inplace("uniform_", lambda torch, x: x.uniform_(-2, 3), -2, 3),
         inplace("normal_", lambda torch, x: x.normal_(1, 2), -100, 100),
         inplace("bernoulli_", lambda torch, x: x.bernoulli_(0.25), 0, 1),
         inplace("bernoulli_", lambda torch, x: x.bernoulli_(torch.full(x.shape[-1:], 0.5)), 0, 1),
         inplace("random_", lambda torch, x: x.random_(), 0, 2 ** 24, ("float32", "bool")),
         inplace("random_", lambda torch, x: x.random_(), 0, 255, ("uint8",)),
         inplace("random_", lambda torch, x: x.random_(), 0, 2 ** 63 - 1, ("int64",)),
         inplace("random_", lambda torch, x: x.random_(5), 0, 4, ("float64", "int8")),
         inplace("random_", lambda torch, x: x.random_(-4, 4), -4, 3, ("float32", "int16")),
         inplace("exponential_", lambda torch, x: x.exponential_(2.0), 0, 1e9),
         inplace("geometric_", lambda torch, x: x.geometric_(0.4), 1, 1e9, ("float32", "int64")),
         inplace("log_normal_", lambda torch, x: x.log_normal_(0, 0.5), 0, 1e9),
         inplace("cauchy_", lambda torch, x: x.cauchy_(1, 0.5), -1e30, 1e30))


_register_specs()
