"""Counting: unique, unique_consecutive, bincount, histc (none has a gradient)."""
from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import norm_dim
from .._registry import OpSpec, public, spec, write_out


def _as_rows(xp, x, dim):
    """x with `dim` first and every other dim flattened: the slices to compare, one per row."""
    moved = xp.moveaxis(x, dim, 0)
    width = 1
    for n in moved.shape[1:]:
        width *= n
    return moved.reshape(moved.shape[0], width), moved.shape


def _unique_rows(xp, rows):
    """Sorted distinct rows (lexicographic), the inverse mapping and the counts."""
    if rows.shape[0] == 0:
        return rows, xp.zeros(0, dtype=xp.int64), xp.zeros(0, dtype=xp.int64)
    order = xp.lexsort(rows.T[::-1])
    s = rows[order]
    starts = xp.concatenate([xp.ones(1, bool), xp.any(s[1:] != s[:-1], axis=1)])
    return _runs(xp, s, order, starts)


def _runs(xp, s, order, starts):
    """Collapse runs of equal rows in `s` (rows of the input taken in `order`)."""
    group = xp.cumsum(starts) - 1
    inverse = xp.empty(len(order), dtype=xp.int64)
    inverse[order] = group
    first = xp.flatnonzero(starts)
    counts = xp.diff(xp.append(first, len(s))).astype(xp.int64)
    return s[first], inverse, counts


class Unique(Primitive):
    """The distinct elements (or slices along `dim`), sorted, with inverse indices and counts."""
    node_name = "Unique2Backward0"
    _aten = "_unique2"

    @staticmethod
    def backward(ctx, *grads):
        # NOTE: PyTorch records unique (its values require grad) but refuses to differentiate it.
        raise NotImplementedError(f"the derivative for '{ctx._fn._aten}' is not implemented.")

    @staticmethod
    def forward(ctx, x, dim, consecutive):
        xp = ctx.xp
        if dim is None:
            flat = x.reshape(-1)
            rows = flat[:, None]
        else:
            d = norm_dim(dim, x.ndim)
            if any(n == 0 for i, n in enumerate(x.shape) if i != d):
                raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be "
                                   "applied")
            rows, moved_shape = _as_rows(xp, x, d)
        if consecutive:
            values, inverse, counts = _consecutive(xp, rows)
        elif dim is None:
            values, inverse, counts = _unique_flat(xp, flat)
            values = values[:, None]
        else:
            values, inverse, counts = _unique_rows(xp, rows)
        if dim is None:
            return values.reshape(-1), inverse.reshape(x.shape), counts
        out = xp.moveaxis(values.reshape((values.shape[0],) + moved_shape[1:]), 0, d)
        return xp.ascontiguousarray(out), inverse, counts


class UniqueDim(Unique):
    node_name = "UniqueDimBackward0"
    _aten = "unique_dim"


class UniqueConsecutive(Unique):
    node_name = "UniqueConsecutiveBackward0"
    _aten = "unique_consecutive"


def _unique_flat(xp, flat):
    # NOTE: torch keeps every NaN apart (and counts each NaN run as one); numpy would merge them.
    order = xp.argsort(flat, kind="stable")
    s = flat[order]
    starts = xp.ones(len(s), bool)
    if len(s):
        starts[1:] = s[1:] != s[:-1]
    values, inverse, counts = _runs(xp, s[:, None], order, starts)
    return values[:, 0], inverse, counts


def _consecutive(xp, rows):
    starts = xp.ones(rows.shape[0], bool)
    if rows.shape[0] > 1:
        starts[1:] = xp.any(rows[1:] != rows[:-1], axis=1) if rows.shape[1] else False
    return _runs(xp, rows, xp.arange(rows.shape[0]), starts)


def _result(values, inverse, counts, return_inverse, return_counts):
    if not (return_inverse or return_counts):
        return values
    out = (values,)
    if return_inverse:
        out += (inverse,)
    if return_counts:
        out += (counts,)
    return out


@public(method=True)
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Distinct elements (or slices along `dim`), sorted; optionally the inverse indices and counts."""
    values, inverse, counts = (Unique if dim is None else UniqueDim).apply(input, dim, False)
    return _result(values, inverse, counts, return_inverse, return_counts)


@public(method=True)
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse each run of equal consecutive elements (or slices along `dim`) to one."""
    values, inverse, counts = UniqueConsecutive.apply(input, dim, True)
    return _result(values, inverse, counts, return_inverse, return_counts)


def _unique_sample(g, consecutive=False):
    shape = g.shape(min_dims=1, max_dims=3, min_side=0)
    kw = {"return_inverse": g.boolean(), "return_counts": g.boolean()}
    if g.boolean():
        kw["dim"] = g.dim(len(shape))
    return (g.values(shape),), kw


UNIQUE = dict(dtypes=("int64", "float32", "bool"), domain=(0, 2), grad=False)
spec(OpSpec("unique", sample=_unique_sample, **UNIQUE),
     OpSpec("unique_consecutive", sample=_unique_sample, **UNIQUE))


# --- bincount / histc ------------------------------------------------------------------------------------
class Bincount(Primitive):
    """How often each non-negative integer occurs (or the sum of its weights)."""
    inputs = 2
    differentiable = False

    @staticmethod
    def forward(ctx, x, weights, minlength=0):
        xp = ctx.xp
        if x.dtype.kind == "f" or x.dtype.kind == "V":
            raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                      f"'{_dtype.scalar_type_name(_dtype._BY_NP[x.dtype])}'")
        if x.ndim != 1 or (x.size and x.min() < 0):
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        if minlength < 0:
            raise RuntimeError("minlength should be >= 0")
        if weights is None or x.size == 0:  # NOTE: torch counts an empty input in int64 even with weights
            return xp.bincount(x, minlength=minlength).astype(xp.int64)
        if weights.ndim != 1 or weights.shape[0] != x.shape[0]:
            raise RuntimeError("weights should be 1-d and have the same length as input")
        # NOTE: float32 weights sum in float32; every other weight dtype gives float64, as in torch.
        dt = xp.float32 if weights.dtype == xp.float32 else xp.float64
        return xp.bincount(x, weights=weights.astype(xp.float64), minlength=minlength).astype(dt)


@public(method=True)
def bincount(input, weights=None, minlength=0):
    """Counts of each value in a 1-d non-negative integer tensor (weighted sums with `weights`)."""
    return Bincount.apply(input, weights, minlength)


def _bincount_sample(g):
    n = g.integers(0, 6)
    x = g.index((n,), 5)
    kw = {"minlength": g.integers(0, 7)}
    return ((x, g.values((n,))) if g.boolean() else (x,)), kw


spec(OpSpec("bincount", sample=_bincount_sample, dtypes=("float32", "float64", "int32"), grad=False))


class Histc(Primitive):
    """Histogram with `bins` equal bins over [min, max] (the data's range when min == max)."""
    differentiable = False

    @staticmethod
    def forward(ctx, x, bins=100, min=0, max=0):
        xp = ctx.xp
        if x.dtype.kind not in "fV":
            raise NotImplementedError(f'"histogram_cpu" not implemented for '
                                      f"'{_dtype.scalar_type_name(_dtype._BY_NP[x.dtype])}'")
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        lo, hi = _histc_range(xp, x, min, max)
        data = x.reshape(-1)
        inside = data[(data >= lo) & (data <= hi)]
        # NOTE: torch computes the bin in the input's dtype; the maximum falls into the last bin.
        pos = ((inside - x.dtype.type(lo)) / x.dtype.type(hi - lo) * x.dtype.type(bins)).astype(xp.int64)
        pos = xp.minimum(pos, bins - 1)
        return xp.bincount(pos, minlength=bins).astype(x.dtype)


def _histc_range(xp, x, lo, hi):
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (xp.isfinite(lo) and xp.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    return lo, hi


@public(method=True)
def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of `input` with `bins` equal-width bins between min and max."""
    result = Histc.apply(input, bins, min, max)
    return result if out is None else write_out(out, result, "histc")


spec(OpSpec("histc", shapes="unary", kwargs=({}, {"bins": 4, "min": -1, "max": 2}, {"bins": 7}),
            dtypes=("float32", "float64"), grad=False))
