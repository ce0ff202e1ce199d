"""Order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode."""
from ...autograd.function import Primitive
from ..._tensor import norm_dim
from .._registry import OpSpec, public, spec, write_out, write_outs
from .reduce import _return_type

SortResult = _return_type("sort")
TopkResult = _return_type("topk")
KthvalueResult = _return_type("kthvalue")
MedianResult = _return_type("median")
NanmedianResult = _return_type("nanmedian")
ModeResult = _return_type("mode")


def stable_order(xp, x, d, descending=False):
    """Indices that sort `x` along `d`; equal values keep their order, NaN counts as the largest."""
    if not descending:
        return xp.argsort(x, axis=d, kind="stable")
    # NOTE: a stable ascending sort of the reversed data, reversed back, is a stable descending sort.
    order = xp.flip(xp.argsort(xp.flip(x, d), axis=d, kind="stable"), d)
    return (x.shape[d] - 1) - order


class _Picked(Primitive):
    """Base for ops whose values are entries of the input picked along `ctx.dim` at the returned
    indices: the gradient goes back to exactly those entries."""

    @staticmethod
    def backward(ctx, g, g_idx):
        (idx,) = ctx.saved_tensors
        if not ctx.shape:
            return g
        if not ctx.keepdim:
            g, idx = g.unsqueeze(ctx.dim), idx.unsqueeze(ctx.dim)
        return g.new_zeros(ctx.shape).scatter(ctx.dim, idx, g)


def _pick(ctx, x, idx, d, keepdim):
    """(values, int64 indices) at `idx` (same ndim as x) along `d`; squeezed unless keepdim."""
    xp = ctx.xp
    idx = idx.astype(xp.int64, copy=False)
    values = xp.take_along_axis(x, idx, axis=d)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    ctx.shape, ctx.dim, ctx.keepdim = x.shape, d, keepdim
    ctx.save_for_backward(idx)
    return values, idx


def _zero_d(ctx, x):
    ctx.shape = ()
    idx = ctx.xp.zeros((), dtype=ctx.xp.int64)
    ctx.save_for_backward(idx)
    return x.copy(), idx


def _named(result_type, name, values, indices, out):
    return write_outs(out, result_type(values, indices), name)


class Sort(_Picked):
    """(values, indices) sorted along `dim`; always stable."""
    batch_rule = ("dim", (0,), None)
    node_name = "SortBackward0"

    @staticmethod
    def forward(ctx, x, dim=-1, descending=False):
        d = norm_dim(dim, x.ndim)
        if x.ndim == 0:
            return _zero_d(ctx, x)
        return _pick(ctx, x, stable_order(ctx.xp, x, d, descending), d, True)


@public(method=True)
def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """(values, indices) sorted along `dim`. NOTE: ember's sort is always stable."""
    return _named(SortResult, "sort", *Sort.apply(input, dim, descending), out)


@public(method=True)
def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort `input` along `dim` (int64)."""
    return Sort.apply(input.detach(), dim, descending)[1]


@public(method=True)
def msort(input, *, out=None):
    """input sorted along its first dim."""
    result = Sort.apply(input, 0, False)[0]
    return result if out is None else write_out(out, result, "msort")


# NOTE: large=False: a large input has ties, and which of equal values an index names is unspecified.
SORTS = dict(shapes="unary", dtypes=("float32", "float64", "int32"), large=False)
spec(OpSpec("sort", **SORTS, kwargs=({}, {"dim": 0, "descending": True})),
     OpSpec("sort", shapes=[((7,),), ((3, 5),)], dtypes=("int64", "bool"), domain=(0, 2), grad=False,
            kwargs=({"stable": True}, {"dim": 0, "descending": True, "stable": True})),
     OpSpec("argsort", **SORTS, kwargs=({}, {"dim": 0, "descending": True}), grad=False),
     OpSpec("argsort", shapes=[((9,),), ((4, 6),)], dtypes=("int32",), domain=(0, 2), grad=False,
            kwargs=({"stable": True}, {"dim": 0, "descending": True, "stable": True})),
     OpSpec("msort", shapes="reduce", dtypes=("float32", "float64"), large=False))


# --- topk / kthvalue --------------------------------------------------------------------------------------
class Topk(_Picked):
    """The k largest (or smallest) entries along `dim`, with their indices."""
    batch_rule = ("dim", (1,), None)
    node_name = "TopkBackward0"

    @staticmethod
    def forward(ctx, x, k, dim=-1, largest=True):
        d = norm_dim(dim, x.ndim)
        size = x.shape[d] if x.ndim else 1
        if not 0 <= k <= size:
            raise RuntimeError("selected index k out of range")
        if x.ndim == 0:
            return _zero_d(ctx, x)
        order = stable_order(ctx.xp, x, d, descending=largest)
        return _pick(ctx, x, order.take(ctx.xp.arange(k), axis=d), d, True)


@public(method=True)
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """(values, indices) of the k largest entries along `dim` (smallest if not `largest`).
    NOTE: the result is sorted even when sorted=False."""
    return _named(TopkResult, "topk", *Topk.apply(input, k, dim, largest), out)


def _check_reducible(x, d, name):
    if x.ndim and x.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


class Kthvalue(_Picked):
    """The k-th smallest entry along `dim` (k counts from 1), with its index."""
    batch_rule = ("dim", (1,), 2)
    node_name = "KthvalueBackward0"

    @staticmethod
    def forward(ctx, x, k, dim=-1, keepdim=False):
        d = norm_dim(dim, x.ndim)
        _check_reducible(x, d, "kthvalue")
        if not 1 <= k <= (x.shape[d] if x.ndim else 1):
            raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
        if x.ndim == 0:
            return _zero_d(ctx, x)
        order = stable_order(ctx.xp, x, d)
        idx = order.take([k - 1], axis=d)
        return _pick(ctx, x, _ties_as_torch(ctx.xp, x, d, k - 1, idx), d, keepdim)


def _ties_as_torch(xp, x, d, k, idx):
    """`idx` (picked by a stable sort) with the rows where the k-th value repeats redone by torch's
    quickselect. NOTE: among equal values torch returns whichever index its quickselect's swaps leave
    at position k; only replaying those swaps gives the same index."""
    rows = xp.moveaxis(x, d, -1).reshape(-1, x.shape[d])
    picked = xp.moveaxis(idx, d, -1).reshape(-1)
    value = rows[xp.arange(rows.shape[0]), picked][:, None]
    same = (rows == value) | ((rows != rows) & (value != value))
    redo = xp.flatnonzero(same.sum(axis=1) > 1)
    if redo.size == 0:
        return idx
    picked = picked.copy()
    for r in redo.tolist():
        picked[r] = _quickselect(rows[r].tolist(), k)
    moved_shape = xp.moveaxis(idx, d, -1).shape
    return xp.moveaxis(picked.reshape(moved_shape), -1, d)


def _after(a, b):
    """torch's selection order: NaN after every number."""
    return (a != a and b == b) or a > b


def _quickselect(values, k):
    """The index that torch's kthvalue quickselect (median-of-three pivot) leaves at position k."""
    idx = list(range(len(values)))

    def swap(i, j):
        values[i], values[j] = values[j], values[i]
        idx[i], idx[j] = idx[j], idx[i]
    lo, hi = 0, len(values) - 1
    while hi > lo + 1:
        mid = lo + (hi - lo) // 2
        swap(mid, lo + 1)
        for a, b in ((lo + 1, hi), (lo, hi), (lo + 1, lo)):
            if _after(values[a], values[b]):
                swap(a, b)
        i, j, pivot = lo + 1, hi, values[lo]
        while True:
            i += 1
            while _after(pivot, values[i]):
                i += 1
            j -= 1
            while _after(values[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    if hi == lo + 1 and _after(values[lo], values[hi]):
        swap(lo, hi)
    return idx[k]


@public(method=True)
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """(values, indices) of the k-th smallest entry along `dim` (k counts from 1)."""
    return _named(KthvalueResult, "kthvalue", *Kthvalue.apply(input, k, dim, keepdim), out)


spec(OpSpec("topk", shapes=[((3, 4),), ((5,),), ((2, 3, 4),)], kwargs=({"k": 2}, {"k": 3, "largest": False}),
            dtypes=("float32", "float64")),
     OpSpec("topk", shapes=[((3, 4),)], kwargs=({"k": 2, "dim": 0}, {"k": 0}, {"k": 5}), gradcheck=False),
     OpSpec("kthvalue", shapes=[((3, 4),), ((5,),), ((2, 3, 4),)],
            kwargs=({"k": 2}, {"k": 3, "dim": 1, "keepdim": True}), dtypes=("float32", "float64")),
     OpSpec("kthvalue", shapes=[((3, 9),), ((7,),), ((2, 3, 4),)], domain=(0, 3), kwargs=({"k": 3}, {"k": 1}),
            dtypes=("int64",)))


# --- median / nanmedian / mode ----------------------------------------------------------------------------
class MedianAll(Primitive):
    """The lower median of every element (nan if any is nan, or if `skip_nan`, all are)."""
    node_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, x, skip_nan=False):
        xp = ctx.xp
        flat = xp.sort(x.reshape(-1))
        if flat.size == 0:
            y = xp.asarray(xp.nan if flat.dtype.kind in "fV" else 0).astype(x.dtype)
        elif flat.dtype.kind not in "fV":
            y = flat[(flat.size - 1) // 2].copy()
        else:  # NOTE: NaNs sort last; their count stays on the device (no read to pick the median)
            nans = xp.count_nonzero(flat != flat)
            valid = flat.size - nans
            y = xp.take(flat, xp.maximum(valid - 1, 0) // 2)
            no_median = valid == 0 if skip_nan else nans > 0
            y = xp.where(no_median, xp.asarray(xp.nan, dtype=flat.dtype), y).astype(x.dtype)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        # NOTE: torch spreads the gradient evenly over every entry equal to the median (NaN ones
        # when the median is NaN).
        hit = ((x == y) | ((x != x) & (y != y))).to(g.dtype)
        return g * hit / hit.sum()


class MedianDim(_Picked):
    """Lower median along `dim` and its index; a row with NaN gives NaN at its first NaN."""
    batch_rule = ("dim", (0,), 1)
    node_name = "MedianBackward1"
    _name = "median"

    @staticmethod
    def forward(ctx, x, dim, keepdim=False):
        xp = ctx.xp
        d = norm_dim(dim, x.ndim)
        _check_reducible(x, d, ctx._fn._name)
        if x.ndim == 0:
            return _zero_d(ctx, x)
        order = stable_order(xp, x, d)
        n = x.shape[d]
        nans = xp.sum(x != x, axis=d, keepdims=True) if x.dtype.kind in "fV" else xp.zeros(1, dtype=xp.int64)
        pos = ctx._fn._position(xp, n, nans)
        return _pick(ctx, x, xp.take_along_axis(order, pos.astype(xp.int64), axis=d), d, keepdim)

    @staticmethod
    def _position(xp, n, nans):
        # NOTE: a stable sort puts NaNs last in their own order: the first NaN sits at n - nans.
        return xp.where(nans > 0, n - nans, (n - 1) // 2)


class NanmedianDim(MedianDim):
    """Lower median of the non-NaN entries along `dim`; all-NaN rows give their first NaN."""
    node_name = "NanmedianBackward1"
    _name = "nanmedian"

    @staticmethod
    def _position(xp, n, nans):
        valid = n - nans
        return xp.where(valid > 0, (valid - 1) // 2, 0)


def _median(name, dim_cls, result_type, skip_nan):
    def fn(input, dim=None, keepdim=False, *, out=None):
        if dim is None:
            result = MedianAll.apply(input, skip_nan)
            return result if out is None else write_out(out, result, name)
        return _named(result_type, name, *dim_cls.apply(input, dim, keepdim), out)
    fn.__name__ = name
    fn.__doc__ = (f"{name}(input): the lower median of all elements; {name}(input, dim): the named tuple "
                  "(values, indices) along dim.")
    return public(fn, method=True)


median = _median("median", MedianDim, MedianResult, False)
nanmedian = _median("nanmedian", NanmedianDim, NanmedianResult, True)


class Mode(_Picked):
    """Most frequent value along `dim` (the smallest among equally frequent ones) and its last index."""
    batch_rule = ("dim", (0,), 1)
    node_name = "ModeBackward0"

    @staticmethod
    def forward(ctx, x, dim=-1, keepdim=False):
        xp = ctx.xp
        d = norm_dim(dim, x.ndim)
        _check_reducible(x, d, "mode")
        if x.ndim == 0:
            return _zero_d(ctx, x)
        order = xp.moveaxis(stable_order(xp, x, d), d, -1)
        s = xp.take_along_axis(xp.moveaxis(x, d, -1), order, axis=-1)
        steps = xp.arange(s.shape[-1])
        starts = xp.concatenate([xp.ones(s.shape[:-1] + (1,), bool), s[..., 1:] != s[..., :-1]], axis=-1)
        ends = xp.concatenate([starts[..., 1:], xp.ones(s.shape[:-1] + (1,), bool)], axis=-1)
        run_start = ctx.device.backend.accumulate("maximum", xp.where(starts, steps, 0), -1)
        # NOTE: a run's length is read at its last element, which (stable sort) holds the run's last
        # index in the input; argmax takes the first longest run, i.e. the smallest value.
        length = xp.where(ends, steps - run_start + 1, 0)
        best = xp.argmax(length, axis=-1)[..., None]
        idx = xp.moveaxis(xp.take_along_axis(order, best, axis=-1), -1, d)
        return _pick(ctx, x, idx, d, keepdim)


@public(method=True)
def mode(input, dim=-1, keepdim=False, *, out=None):
    """(values, indices) of the most frequent value along `dim` (the smallest on ties; its last index)."""
    return _named(ModeResult, "mode", *Mode.apply(input, dim, keepdim), out)

def _some_nans(x):
    """NaN where x > 1.5, except each row's minimum along dim 1: no row is all NaN, where the index
    PyTorch returns is its sort's accident (see test_nanmedian_index_of_an_all_nan_row)."""
    return x.masked_fill((x > 1.5) & (x > x.amin(dim=1, keepdim=True)), float("nan"))


MEDIANS = dict(shapes="reduce", dtypes=("float32", "float64"), large=False)
spec(OpSpec("median", **MEDIANS, kwargs=({}, {"dim": 0}, {"dim": -1, "keepdim": True})),
     OpSpec("median", shapes=[((6,),), ((2, 4),)], dtypes=("float32", "float64"), kwargs=({},)),
     OpSpec("nanmedian", **MEDIANS, kwargs=({}, {"dim": 1}),
            call=lambda torch, x, **kw: torch.nanmedian(_some_nans(x), **kw)),
     OpSpec("mode", **MEDIANS, kwargs=({}, {"dim": 0, "keepdim": True})),
     OpSpec("mode", shapes="reduce", dtypes=("int64",), domain=(0, 3), kwargs=({}, {"dim": 0}), grad=False,
            large=False))
