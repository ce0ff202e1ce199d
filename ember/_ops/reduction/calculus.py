"""Finite differences, integrals and second moments composed from Tensor ops (their gradients come from
the ops they use): torch.diff, gradient, trapezoid, trapz, cumulative_trapezoid, cov, corrcoef."""
import warnings

from ... import _dtype
from ..._tensor import Tensor
from .._registry import OpSpec, public, spec, write_out


def _out(result, out, name):
    return result if out is None else write_out(out, result, name)


class _Unset:
    """NOTE: a default that is not None: PyTorch's parser refuses an explicit x=None / dx=None."""

    def __repr__(self):
        return "<unset>"


UNSET = _Unset()


def invalid_combination(name, args, kwargs, signatures):
    """PyTorch's parser TypeError for an overloaded function called with arguments of the wrong types."""
    def kind(v):
        return "Tensor" if isinstance(v, Tensor) else type(v).__name__
    got = ", ".join([kind(a) for a in args if a is not UNSET] +
                    [f"{k}={kind(v)}" for k, v in kwargs.items() if v is not UNSET])
    options = "".join(f" * ({s})\n" for s in signatures)
    return TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                     f"{options}")


_TRAPEZOID = ("Tensor y, Tensor x, *, int dim = -1", "Tensor y, *, Number dx = 1, int dim = -1")


def _check_trapezoid(name, y, x, dx, dim):
    from ..._arguments import is_number
    ok = isinstance(y, Tensor) and (x is UNSET or isinstance(x, Tensor)) and (dx is UNSET or is_number(dx))
    if not ok or (x is not UNSET and dx is not UNSET):
        if name == "trapz" and not isinstance(y, Tensor):
            from ..._arguments import type_name
            raise TypeError(f"trapz(): argument 'y' (position 1) must be Tensor, not {type_name(y)}")
        raise invalid_combination(name, (y, x), {"dx": dx, "dim": dim}, _TRAPEZOID)


def _as_float(t):
    """Integer and bool inputs are integrated / differentiated in the default float dtype."""
    if t._dtype.category < _dtype.FLOAT:
        from ... import _state
        return t.to(_state.get_default_dtype())
    return t


# --- diff ------------------------------------------------------------------------------------------------------
@public(method=True)
def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """The n-th forward difference along dim (xor for bool), after joining prepend and append."""
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    if n == 0:  # NOTE: PyTorch returns the input as it is, without joining prepend or append
        return _out(input, out, "diff")
    from ..shape.join import cat
    parts = [t for t in (prepend, input, append) if t is not None]
    if any(p._data.ndim != input._data.ndim for p in parts):
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    x = cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[dim]
        if length == 0:
            break
        hi, lo = x.narrow(dim, 1, length - 1), x.narrow(dim, 0, length - 1)
        x = hi.logical_xor(lo) if x._dtype is _dtype.bool else hi - lo
    return _out(x, out, "diff")


# --- gradient --------------------------------------------------------------------------------------------------
@public
def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences (one-sided at the edges, of order edge_order) along each dim; a tuple of tensors.

    spacing: one number, a number per dim, or a coordinate tensor per dim."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    ndim = input._data.ndim
    dims = list(range(ndim)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    dims = [d % ndim if ndim else d for d in dims]
    if isinstance(spacing, Tensor):
        raise TypeError("gradient() received an invalid combination of arguments - got (Tensor, spacing=Tensor), "
                        "but expected a Number, a tuple of Scalars or a tuple of Tensors for spacing")
    spacings = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if len(spacings) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length equal "
                           f"to 'self.dim() = {ndim}', since dim argument was not given, but got a list of length "
                           f"{len(spacings)}" if dim is None else
                           f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length "
                           f"{len(spacings)} and a dim argument of length {len(dims)}.")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    x = _as_float(input)
    return tuple(_gradient_one(x, d, h, edge_order) for d, h in zip(dims, spacings))


def _along(t, d, ndim):
    """A 1-D tensor of coordinates shaped to broadcast along dim d of an ndim tensor."""
    shape = [1] * ndim
    shape[d] = -1
    return t.reshape(shape)


def _gradient_one(f, d, h, edge_order):
    from ..shape.join import cat
    n = f.shape[d]
    part = lambda start, length: f.narrow(d, start, length)  # noqa: E731
    if isinstance(h, Tensor):
        return _gradient_coordinates(f, d, h, edge_order, part)
    interior = (part(2, n - 2) - part(0, n - 2)) / (2.0 * h)
    if edge_order == 1:
        first = (part(1, 1) - part(0, 1)) / h
        last = (part(n - 1, 1) - part(n - 2, 1)) / h
    else:
        first = (-1.5 * part(0, 1) + 2.0 * part(1, 1) - 0.5 * part(2, 1)) / h
        last = (0.5 * part(n - 3, 1) - 2.0 * part(n - 2, 1) + 1.5 * part(n - 1, 1)) / h
    return cat([first, interior, last], d)


def _gradient_coordinates(f, d, x, edge_order, part):
    """Second-order central differences on non-uniform coordinates x (as NumPy's gradient)."""
    from ..shape.join import cat
    n, ndim = f.shape[d], f._data.ndim
    x = _as_float(x)
    h = x[1:] - x[:-1]
    h1, h2 = _along(h[:-1], d, ndim), _along(h[1:], d, ndim)
    a = -h2 / (h1 * (h1 + h2))
    b = (h2 - h1) / (h1 * h2)
    c = h1 / (h2 * (h1 + h2))
    interior = a * part(0, n - 2) + b * part(1, n - 2) + c * part(2, n - 2)
    if edge_order == 1:
        first = (part(1, 1) - part(0, 1)) / _along(h[:1], d, ndim)
        last = (part(n - 1, 1) - part(n - 2, 1)) / _along(h[-1:], d, ndim)
    else:
        d1, d2 = _along(h[:1], d, ndim), _along(h[1:2], d, ndim)
        first = (-(2 * d1 + d2) / (d1 * (d1 + d2)) * part(0, 1) + (d1 + d2) / (d1 * d2) * part(1, 1)
                 - d1 / (d2 * (d1 + d2)) * part(2, 1))
        d1, d2 = _along(h[-2:-1], d, ndim), _along(h[-1:], d, ndim)
        last = (d2 / (d1 * (d1 + d2)) * part(n - 3, 1) - (d2 + d1) / (d1 * d2) * part(n - 2, 1)
                + (2 * d2 + d1) / (d2 * (d1 + d2)) * part(n - 1, 1))
    return cat([first, interior, last], d)


# --- trapezoid and friends -------------------------------------------------------------------------------------
def _spacing(y, x, dim):
    """The widths between sample points along dim: diff(x), shaped to broadcast against y's slices."""
    if x._data.ndim == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        return _along(x[1:] - x[:-1], dim % y._data.ndim, y._data.ndim)
    return diff(x, dim=dim)


@public
def trapezoid(y, x=UNSET, *, dx=UNSET, dim=-1):
    """The trapezoidal rule along dim, with sample points x or a constant spacing dx (default 1)."""
    _check_trapezoid("trapezoid", y, x, dx, dim)
    return _trapezoid(y, None if x is UNSET else x, None if dx is UNSET else dx, dim)


def _trapezoid(y, x, dx, dim):
    n = y.shape[dim]
    y = _as_float(y)
    if n == 0:  # NOTE: as PyTorch, fresh zeros: no gradient path to y
        return y.detach().sum(dim) * 0
    left, right = y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1)
    if x is None:
        # NOTE: PyTorch's constant-spacing form: dx * (sum(y) - (y_first + y_last) / 2)
        step = 1 if dx is None else dx
        return step * (y.sum(dim) - (y.narrow(dim, 0, 1) + y.narrow(dim, n - 1, 1)).squeeze(dim) * 0.5)
    return ((left + right) * _spacing(y, x, dim)).sum(dim) * 0.5


@public
def trapz(y, x=UNSET, *, dx=UNSET, dim=-1):
    """Alias of torch.trapezoid."""
    _check_trapezoid("trapz", y, x, dx, dim)
    return _trapezoid(y, None if x is UNSET else x, None if dx is UNSET else dx, dim)


@public
def cumulative_trapezoid(y, x=UNSET, *, dx=UNSET, dim=-1):
    """The running trapezoidal integral along dim (one element fewer than y)."""
    _check_trapezoid("cumulative_trapezoid", y, x, dx, dim)
    x, dx = None if x is UNSET else x, None if dx is UNSET else dx
    n = y.shape[dim]
    y = _as_float(y)
    left, right = (y, y) if n == 0 else (y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1))
    step = (1 if dx is None else dx) if x is None else _spacing(y, x, dim)
    return ((left + right) * step * 0.5).cumsum(dim)


# --- cov / corrcoef --------------------------------------------------------------------------------------------
@public(method=True)
def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows of input (variables) over its columns (observations), with optional weights."""
    if input._data.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input._data.ndim} dimensions")
    x = input.reshape(1, -1) if input._data.ndim < 2 else input
    x = _as_float(x)
    observations = x.shape[1]
    w = _weights(fweights, aweights, observations)
    if w is None:
        w_sum = observations
        mean = x.mean(1, keepdim=True)
        norm = observations - correction
    else:
        w = w.to(x.real.dtype if x.is_complex() else x.dtype)
        w_sum = w.sum()
        mean = (x * w).sum(1, keepdim=True) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * aweights).sum() / w_sum
    if float(norm) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm = 0.0  # NOTE: +0, so each entry becomes +-inf by its own sign (PyTorch's zeroed factor)
    centred = x - mean
    weighted = centred if w is None else centred * w
    rhs = centred.mT.conj() if centred.is_complex() else centred.mT
    return ((weighted @ rhs) / norm).squeeze()


def _weights(fweights, aweights, observations):
    w = None
    for name, t in (("fweights", fweights), ("aweights", aweights)):
        if t is None:
            continue
        if t._data.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                               f"{t._data.ndim} dimensions")
        if t.numel() != observations:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the "
                               f"input but got {t.numel()} != {observations}")
        if name == "fweights" and t._dtype.category >= _dtype.FLOAT:
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with "
                               f"{_dtype.scalar_type_name(t._dtype)} dtype")
        if name == "aweights" and t._dtype.category < _dtype.FLOAT:
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                               f"{_dtype.scalar_type_name(t._dtype)} dtype")
        if bool((t < 0).any()):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        w = t if w is None else w * t
    return w


@public(method=True)
def corrcoef(input):
    """Pearson correlation coefficients of the rows of input, clipped to [-1, 1]."""
    c = cov(input)
    if c._data.ndim == 0:
        return c / c
    std = c.diagonal().real.sqrt() if c.is_complex() else c.diagonal().sqrt()
    c = c / std.unsqueeze(1) / std.unsqueeze(0)
    if c.is_complex():
        from ..pointwise.complex import Complex
        return Complex.apply(c.real.clamp(-1, 1), c.imag.clamp(-1, 1))
    return c.clamp(-1, 1)


# --- specs -----------------------------------------------------------------------------------------------------
def _diff_sample(g):
    x = g.values(g.shape(1, 3, 1, 4))
    dim = g.dim(x.ndim)
    kw = {"n": g.integers(0, 3), "dim": dim}
    side = list(x.shape)
    side[dim] = g.integers(1, 2)
    return (x, g.values(tuple(side))), {**kw, "where": g.choice(["prepend", "append", None])}


def _diff_call(torch, x, extra, where=None, **kw):
    return torch.diff(x, **kw, **({where: extra} if where else {}))


def _gradient_sample(g):
    edge = g.integers(1, 2)
    x = g.values(g.shape(1, 3, edge + 1, 5))
    dim = g.dim(x.ndim)
    kind = g.integers(0, 3)
    if kind == 0:
        return (x,), {"edge_order": edge}
    if kind == 1:
        return (x,), {"spacing": g.choice([0.5, 2.0]), "dim": dim, "edge_order": edge}
    if kind == 2:
        return (x,), {"spacing": [1.5], "dim": [dim], "edge_order": edge}
    coords = abs(g.values((x.shape[dim],), "float64", (0.5, 2))).cumsum().astype(x.dtype)
    return (x, coords), {"dim": dim, "edge_order": edge}


def _gradient_call(torch, x, coords=None, **kw):
    return torch.gradient(x, **kw, **({"spacing": (coords,)} if coords is not None else {}))


def _trapezoid_sample(g):
    y = g.values(g.shape(1, 3, 0, 4))
    dim = g.dim(y.ndim)
    kind = g.integers(0, 2)
    if kind == 0:
        return (y,), {"dim": dim, **({"dx": g.choice([0.5, 2])} if g.boolean() else {})}
    if kind == 1 or y.ndim == 1:
        return (y, g.values((y.shape[dim],))), {"dim": dim}
    return (y, g.values(y.shape)), {"dim": dim}


def _cov_sample(g):
    x = g.values(g.shape(1, 2, 2, 5))
    n = x.shape[-1]
    fweights = g.index((n,), 3) + 1
    aweights = g.values((n,), "float64", (0.5, 2)).astype(x.dtype)
    return (x, fweights, aweights), {"correction": g.integers(0, 2), "use": g.integers(0, 3)}


def _cov_call(torch, x, fweights, aweights, use=0, **kw):
    """use: 0 no weights, 1 fweights, 2 aweights, 3 both."""
    return torch.cov(x, **kw, fweights=fweights if use & 1 else None, aweights=aweights if use & 2 else None)


def _corrcoef_sample(g):
    # NOTE: at least 2 variables and 3 observations: one variable, or two observations, make every coefficient
    # exactly +-1, whose gradient is 0 and both libraries' float32 answers only rounding noise (CI drew one)
    return (g.values((g.integers(2, 3), g.integers(3, 5))),), {}


spec(OpSpec("diff", sample=_diff_sample, dtypes=("float32", "float64", "int64", "bool"), call=_diff_call),
     OpSpec("gradient", sample=_gradient_sample, call=_gradient_call),
     OpSpec("gradient", dtypes=("int64",), sample=lambda g: ((g.values((4, 3)),), {}),
            call=lambda torch, x, **kw: torch.gradient(x, **kw)),
     OpSpec("trapezoid", sample=_trapezoid_sample, arity=2),
     OpSpec("trapezoid", dtypes=("int64",), sample=lambda g: ((g.values((2, 3)),), {})),
     OpSpec("trapz", sample=lambda g: ((g.values((2, 3)),), {"dx": 0.5})),
     # NOTE: on large float32 inputs x's gradient is a reversed running sum with cancellation: ~3e-4 relative
     OpSpec("cumulative_trapezoid", sample=_trapezoid_sample, arity=2, rtol=1e-3),
     OpSpec("cov", sample=_cov_sample, call=_cov_call),
     OpSpec("corrcoef", sample=_corrcoef_sample))
