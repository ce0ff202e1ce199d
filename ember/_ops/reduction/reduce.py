"""Reductions: sum, mean, prod, max/min (whole and along a dim), amax/amin, argmax/argmin, all/any,
nansum/nanmean, aminmax, count_nonzero."""
from ... import _backends, _dtype
from ..._arguments import _PY_DTYPES
from ...autograd.function import Primitive
from ..._tensor import Tensor, norm_dim, reduction_dims
from .._registry import OpSpec, public, register, spec, write_out, write_outs
from ...return_types import _return_type  # NOTE: the one factory of torch.return_types

REDUCE = dict(shapes="reduce", kwargs=({}, {"dim": 0}, {"dim": -1, "keepdim": True}, {"dim": (0, 1)}))

MaxResult = _return_type("max")
MinResult = _return_type("min")


def _dims(x, dim):
    """Axis tuple for the array `x`; None (or an empty tuple) means every dim."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(x.ndim))
    return reduction_dims(dim, x.ndim)


def _as_dtype(input, dtype):
    """`dtype=` of a reduction: the input is cast before the op, as PyTorch documents (differentiably)."""
    if dtype is None or not isinstance(input, Tensor) or input.dtype is dtype:
        return input
    dtype = _PY_DTYPES.get(dtype, dtype) if isinstance(dtype, type) else dtype
    if not isinstance(dtype, _dtype.dtype):
        return input  # NOTE: the op boundary refuses it with PyTorch's TypeError
    return input.to(dtype)


def _int_sum_dtype(x, dtype):
    """The accumulating dtype forward passes NumPy: int64 for bool and integers unless `dtype=` was given
    (the public function has already cast the input to it), else None (the array's own)."""
    if x.dtype.kind not in "biu":
        return None
    return _dtype.int64 if dtype is None else _dtype._BY_NP[x.dtype]  # NOTE: NumPy would widen int32 sums


def _restore(g, shape, dims, keepdim):
    """Bring a reduced gradient back to the input's shape (the inverse of reducing `dims`)."""
    from ..shape.views import Expand, View
    if not keepdim and dims and g._data.ndim:  # NOTE: a 0-d gradient expands as it is
        kept = list(shape)
        for d in dims:
            kept[d] = 1
        g = View.apply(g, tuple(kept))  # NOTE: the primitives: shapes known good, no argument parsing
    return Expand.apply(g, shape)


class Sum(Primitive):
    """Sum of all elements, or over `dim`. bool and integer inputs sum in int64."""
    batch_rule = ("dim", (0,), 1)
    complex_grad = True
    node_name = "SumBackward0"
    upcast = True  # NOTE: float16/bfloat16 accumulate in float32, as PyTorch's do
    linear = True

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, dtype=None):
        dims = _dims(x, dim)
        dtype = _int_sum_dtype(x, dtype)
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return x.sum(axis=dims, keepdims=keepdim, dtype=dtype.np if dtype else None)

    @staticmethod
    def backward(ctx, g):
        return _restore(g, ctx.shape, ctx.dims, ctx.keepdim)


class SumDim(Sum):
    complex_grad = True
    node_name = "SumBackward1"


# NOTE: a float32 sum of 10^5 terms that cancel to a small result differs from PyTorch's by ~1e-4 absolute
# (each is that far from the float64 sum; only the order of the additions differs): atol covers it
register(OpSpec("sum", **REDUCE, dtypes=("float32", "float64", "int32", "bool", "float16", "bfloat16"),
                atol={"float32": 5e-4}))(Sum)


@public(method=True)
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None, axis=None):
    """Sum of all elements, or over `dim` (int or tuple)."""
    dim = axis if dim is None else dim
    cls = Sum if dim is None else SumDim
    result = cls.apply(_as_dtype(input, dtype), dim, keepdim, dtype)
    return result if out is None else write_out(out, result, "sum")


class Mean(Primitive):
    """Mean of all elements, or over `dim`; floating-point inputs only."""
    batch_rule = ("dim", (0,), 1)
    complex_grad = True
    node_name = "MeanBackward0"
    upcast = True  # NOTE: float16/bfloat16 sum and divide in float32, then round once
    linear = True

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, dtype=None):
        if dtype is None and x.dtype.kind not in "fcV" and x.dtype.name != "bfloat16":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating point or "
                f"complex dtype. Got: {_dtype.scalar_type_name(_dtype._BY_NP[x.dtype])}")
        dims = _dims(x, dim)
        count = 1
        for d in dims:
            count *= x.shape[d]
        ctx.shape, ctx.dims, ctx.keepdim, ctx.count = x.shape, dims, keepdim, count
        xp = ctx.xp
        if dtype is not None:
            x = x.astype(dtype.np)
        total = xp.sum(x, axis=dims, keepdims=keepdim)
        with _quiet(xp):
            return (total / x.dtype.type(count)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return _restore(g, ctx.shape, ctx.dims, ctx.keepdim) / ctx.count


class MeanDim(Mean):
    complex_grad = True
    node_name = "MeanBackward1"


register(OpSpec("mean", **REDUCE, dtypes=("float32", "float64", "float16", "bfloat16")))(Mean)


@public(method=True)
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None, axis=None):
    """Mean of all elements, or over `dim`."""
    dim = axis if dim is None else dim
    result = (Mean if dim is None else MeanDim).apply(_as_dtype(input, dtype), dim, keepdim, None)
    return result if out is None else write_out(out, result, "mean")


def _quiet(xp):
    """Silence the array library's warnings for results PyTorch gives quietly (mean of nothing is nan)."""
    return _backends.of_xp(xp).errstate()


@register(OpSpec("prod", shapes="reduce", kwargs=({}, {"dim": 0}, {"dim": -1, "keepdim": True}), domain=(0.5, 1.5)),
          OpSpec("prod", shapes=[((3,),), ((2, 3),), ((4, 2),)], kwargs=({}, {"dim": 0}, {"dim": -1}), domain=(-2, 2),
                 call=lambda torch, x, **kw: (x * (x.abs() > 0.7)).prod(**kw), gradcheck=False))
class Prod(Primitive):
    """Product of all elements, or along one `dim`."""
    batch_rule = ("dim", (0,), 1)
    complex_grad = "holomorphic"  # NOTE: see Function.complex_grad
    node_name = "ProdBackward0"
    upcast = True

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, dtype=None):
        dims = _dims(x, dim)
        dtype = _int_sum_dtype(x, dtype)
        y = ctx.xp.prod(x, axis=dims, keepdims=keepdim, dtype=dtype.np if dtype else None)
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        if x._dtype is not y._dtype:  # NOTE: prod(dtype=) differentiates the cast input (a complex one's real part)
            x = (x.real if x.is_complex() and not y.is_complex() else x).to(y.dtype)
        # NOTE: y / x is exact only without zeros; inputs with zeros take the product of the others.
        if bool((x == 0).any()):
            return _prod_others(x, ctx.dims) * _restore(g, ctx.shape, ctx.dims, ctx.keepdim)
        return _restore(g * y, ctx.shape, ctx.dims, ctx.keepdim) / x


def _prod_others(x, dims):
    """For each element, the product of the others reduced with it; exact with zeros present."""
    zero = x == 0
    nonzero_prod = Prod.apply(x.masked_fill(zero, 1), dims, True, None)
    zeros = zero.sum(dim=dims, keepdim=True)
    from ..indexing.index import where
    safe = x.masked_fill(zero, 1)  # NOTE: no 0/0 anywhere, so double backward stays finite
    return where(zero, where(zeros == 1, nonzero_prod, 0.0), where(zeros == 0, nonzero_prod / safe, 0.0))


class ProdDim(Prod):
    node_name = "ProdBackward1"


@public(method=True)
def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or along `dim`."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError("prod(): argument 'dim' must be int")
    result = (Prod if dim is None else ProdDim).apply(_as_dtype(input, dtype), dim, keepdim, dtype)
    return result if out is None else write_out(out, result, "prod")


# --- max / min ----------------------------------------------------------------------------------------
class Amax(Primitive):
    """Largest value over `dim` (all dims if None); ties share the gradient evenly."""
    batch_rule = ("dim", (0,), 1)
    _pick = "max"
    _label = "amax"
    _nan_hits = False

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        dims = _dims(x, dim)
        if x.size == 0:
            _check_nonempty(x, dim, dims, ctx._fn._label)
        y = getattr(ctx.xp, ctx._fn._pick)(x, axis=dims, keepdims=keepdim)
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        y = _restore(y, ctx.shape, ctx.dims, ctx.keepdim)
        hit = x == y
        if ctx._fn._nan_hits:
            # NOTE: PyTorch's max()/min() (evenly_distribute_backward) route the gradient to the NaNs that
            # made the result; amax/amin compare only (x == NaN is never true) and give NaN everywhere.
            hit = hit | (x.isnan() & y.isnan())
        hit = hit.to(g.dtype)
        count = hit.sum(dim=ctx.dims, keepdim=True)
        return _restore(g, ctx.shape, ctx.dims, ctx.keepdim) * hit / count


def _check_nonempty(x, dim, dims, label):
    """PyTorch's refusals to reduce an empty tensor with no identity (max, amax, ...)."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        raise RuntimeError(f"{label}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")
    for d in dims:
        if x.shape[d] == 0:
            raise IndexError(f"{label}(): Expected reduction dim {d} to have non-zero size.")


class Amin(Amax):
    """Smallest value over `dim`; ties share the gradient evenly."""
    _pick = "min"
    _label = "amin"


class MaxAll(Amax):
    node_name = "MaxBackward1"
    _label = "max"
    _nan_hits = True


class MinAll(Amin):
    node_name = "MinBackward1"
    _label = "min"
    _nan_hits = True

register(OpSpec("amax", **REDUCE))(Amax)
register(OpSpec("amin", **REDUCE))(Amin)


@public(method=True)
def amax(input, dim=(), keepdim=False, *, out=None):
    """Largest values over `dim` (every dim by default)."""
    result = Amax.apply(input, dim, keepdim)
    return result if out is None else write_out(out, result, "amax")


@public(method=True)
def amin(input, dim=(), keepdim=False, *, out=None):
    """Smallest values over `dim` (every dim by default)."""
    result = Amin.apply(input, dim, keepdim)
    return result if out is None else write_out(out, result, "amin")


class MaxDim(Primitive):
    """(values, indices) of the largest entries along one dim; the gradient goes to that index."""
    batch_rule = ("dim", (0,), 1)
    node_name = "MaxBackward0"
    _arg = "argmax"

    @staticmethod
    def forward(ctx, x, dim, keepdim=False):
        d = norm_dim(dim, x.ndim)
        if x.ndim and x.shape[d] == 0:
            raise IndexError(f"{ctx._fn._arg[3:]}(): Expected reduction dim {dim} to have non-zero size.")
        xp = ctx.xp
        idx = getattr(xp, ctx._fn._arg)(x, axis=d, keepdims=True) if x.ndim else xp.zeros((), dtype=xp.int64)
        vals = xp.take_along_axis(x, idx, axis=d) if x.ndim else x.copy()
        if not keepdim and x.ndim:
            idx, vals = idx.squeeze(d), vals.squeeze(d)
        ctx.shape, ctx.dim, ctx.keepdim = x.shape, d, keepdim
        ctx.save_for_backward(idx)
        return vals, idx.astype(xp.int64, copy=False)

    @staticmethod
    def backward(ctx, g, g_idx):
        (idx,) = ctx.saved_tensors
        if not ctx.shape:
            return g
        if not ctx.keepdim:
            g, idx = g.unsqueeze(ctx.dim), idx.unsqueeze(ctx.dim)
        return g.new_zeros(ctx.shape).scatter(ctx.dim, idx, g)


class MinDim(MaxDim):
    node_name = "MinBackward0"
    _arg = "argmin"


def _max_or_min(name, whole, along, pairwise, result_type):
    def fn(input, dim=None, keepdim=False, *, out=None):
        if isinstance(dim, Tensor):
            return pairwise(input, dim) if out is None else write_out(out, pairwise(input, dim), name)
        if dim is None:
            if keepdim:
                raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, keepdim=bool)")
            result = whole.apply(input, None, False)
            return result if out is None else write_out(out, result, name)
        values, indices = along.apply(input, dim, keepdim)
        return write_outs(out, result_type(values, indices), name)
    fn.__name__ = name
    fn.__doc__ = (f"{name}(input): the {name}imum value; {name}(input, dim, keepdim=False): the named tuple "
                  f"(values, indices) along dim; {name}(input, other): the elementwise {name}imum.")
    return public(fn, method=True)


def _maximum(a, b):
    return FUNCTIONS_REF["maximum"](a, b)


def _minimum(a, b):
    return FUNCTIONS_REF["minimum"](a, b)


from .._registry import FUNCTIONS as FUNCTIONS_REF  # noqa: E402

max = _max_or_min("max", MaxAll, MaxDim, _maximum, MaxResult)
min = _max_or_min("min", MinAll, MinDim, _minimum, MinResult)
register(OpSpec("max", shapes="reduce", kwargs=({}, {"dim": 0}, {"dim": -1, "keepdim": True})),
         OpSpec("min", shapes="reduce", kwargs=({}, {"dim": 0}, {"dim": -1, "keepdim": True})),
         OpSpec("max", arity=2, shapes="binary", call=lambda torch, a, b: torch.max(a, b)),
         OpSpec("min", arity=2, shapes="binary", call=lambda torch, a, b: a.min(b)))(MaxDim)
spec(OpSpec("sum", shapes="reduce", dtypes=("int32", "float32"), kwargs=({"dim": 1},),
            call=lambda torch, x, **kw: torch.sum(x, dtype=torch.float64, **kw)),
     OpSpec("mean", shapes="reduce", dtypes=("int64", "float32"), kwargs=({}, {"dim": (0, 1)}),
            call=lambda torch, x, **kw: x.mean(dtype=torch.float64, **kw)),
     OpSpec("prod", shapes="reduce", dtypes=("int32", "float32"), kwargs=({"dim": 1},), domain=(0.5, 1.5),
            call=lambda torch, x, **kw: torch.prod(x, dtype=torch.float64, **kw)))


class Argmax(Primitive):
    """Index of the largest value (first on ties), over all elements or along `dim`; int64."""
    batch_rule = ("dim", (0,), 1, None)
    differentiable = False
    _arg = "argmax"

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        xp = ctx.xp
        fn = getattr(xp, ctx._fn._arg)
        if dim is None:
            if x.size == 0:
                raise IndexError(f"{ctx._fn._arg}(): Expected reduction dim to be specified for input.numel() == 0.")
            r = fn(x.reshape(-1))
            return xp.asarray(r, dtype=xp.int64).reshape((1,) * x.ndim if keepdim else ())
        d = norm_dim(dim, x.ndim)
        if x.ndim == 0:
            return xp.zeros((), dtype=xp.int64)
        if x.shape[d] == 0:
            raise IndexError(f"{ctx._fn._arg}(): Expected reduction dim {d} to have non-zero size.")
        return fn(x, axis=d, keepdims=keepdim).astype(xp.int64, copy=False)


class Argmin(Argmax):
    """Index of the smallest value (first on ties); int64."""
    _arg = "argmin"


register(OpSpec("argmax", shapes="reduce", kwargs=({}, {"dim": 0}, {"dim": -1, "keepdim": True}), grad=False),
         OpSpec("argmin", shapes="reduce", kwargs=({}, {"dim": 0}), grad=False),
         torch="argmax", method="argmax")(Argmax)
register(torch="argmin", method="argmin")(Argmin)


class All(Primitive):
    """True when every element (over `dim`) is nonzero; a bool tensor (uint8 stays uint8)."""
    batch_rule = ("dim", (0,), 1, None)
    differentiable = False
    _fn_name = "all"

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        dims = _dims(x, dim)
        out = getattr(ctx.xp, ctx._fn._fn_name)(x, axis=dims, keepdims=keepdim)
        return out.astype(x.dtype if x.dtype.kind == "u" else bool, copy=False)


class Any(All):
    """True when some element (over `dim`) is nonzero."""
    _fn_name = "any"


register(OpSpec("all", shapes="reduce", kwargs=({}, {"dim": 0}, {"dim": -1, "keepdim": True}),
                dtypes=("bool", "float32", "int64"), grad=False, domain=(0, 1)),
         OpSpec("any", shapes="reduce", kwargs=({}, {"dim": 0}, {"dim": (0, 1)}),
                dtypes=("bool", "float32", "uint8"), grad=False, domain=(0, 1)),
         torch="all", method="all")(All)
register(torch="any", method="any")(Any)


# --- NaN-aware reductions, aminmax, count_nonzero ---------------------------------------------------
class NanSum(Primitive):
    """Sum treating NaN as zero; bool and integer inputs sum in int64."""
    complex_grad = True
    upcast = True

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, dtype=None):
        dims = _dims(x, dim)
        dtype = _int_sum_dtype(x, dtype)
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.save_for_backward(x)
        return ctx.xp.nansum(x, axis=dims, keepdims=keepdim, dtype=dtype.np if dtype else None)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _restore(g, ctx.shape, ctx.dims, ctx.keepdim).masked_fill(x != x, 0)


register(OpSpec("nansum", shapes="reduce", kwargs=({}, {"dim": 1}, {"dim": (0, -1), "keepdim": True}),
                call=lambda torch, x, **kw: torch.nansum(x.masked_fill(x > 2, float("nan")), **kw)),
         OpSpec("nansum", shapes="reduce", dtypes=("int32", "bool"), kwargs=({}, {"dim": 0})))(NanSum)


@public(method=True)
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero, over `dim` (every dim if None)."""
    result = NanSum.apply(_as_dtype(input, dtype), dim, keepdim, dtype)
    return result if out is None else write_out(out, result, "nansum")


def _is_float(t):
    return t._dtype.category >= _dtype.FLOAT


@public(method=True)
def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over the elements that are not NaN."""
    if not _is_float(input) and dtype is None:
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_dtype.scalar_type_name(input._dtype)}")
    input = _as_dtype(input, dtype)
    kept = (input == input).sum(dim, keepdim)
    result = NanSum.apply(input, dim, keepdim, None) / kept
    return result if out is None else write_out(out, result, "nanmean")


spec(OpSpec("nanmean", shapes="reduce", kwargs=({}, {"dim": 1}, {"dim": (0, -1), "keepdim": True}),
            call=lambda torch, x, **kw: torch.nanmean(x.masked_fill(x > 2, float("nan")), **kw)))

AminmaxResult = _return_type("aminmax", ("min", "max"))


@public(method=True)
def aminmax(input, *, dim=None, keepdim=False, out=None):
    """(min, max) over `dim` (every dim if None); ties share each gradient evenly."""
    if input.numel() == 0:
        if dim is None:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation "
                               "has no identity.")
        if input.dim() and input.shape[norm_dim(dim, input.dim())] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {dim} to have non-zero size.")
    dims = () if dim is None else dim
    lo, hi = Amin.apply(input, dims, keepdim), Amax.apply(input, dims, keepdim)
    if out is not None:
        return write_outs(out, AminmaxResult(lo, hi), "aminmax")
    return AminmaxResult(lo, hi)


spec(OpSpec("aminmax", shapes="reduce", kwargs=({}, {"dim": 0}, {"dim": -1, "keepdim": True}),
            dtypes=("float32", "float64", "int32")))


class CountNonzero(Primitive):
    """Number of nonzero elements over `dim` (all if None); int64."""
    differentiable = False

    @staticmethod
    def forward(ctx, x, dim=None):
        xp = ctx.xp
        return xp.asarray(xp.count_nonzero(x, axis=_dims(x, dim)), dtype=xp.int64)


register(OpSpec("count_nonzero", shapes="reduce", kwargs=({}, {"dim": 0}, {"dim": (0, -1)}),
                dtypes=("float32", "int64", "bool"), domain=(-1, 1), grad=False),
         torch="count_nonzero", method="count_nonzero")(CountNonzero)
