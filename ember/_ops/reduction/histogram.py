"""Binning and membership: torch.histogram, histogramdd, searchsorted, bucketize and isin."""
from ... import _dtype
from ...autograd.function import Primitive, not_implemented_backward
from ..._tensor import Tensor, _wrap
from .._registry import OpSpec, public, spec, write_out, write_outs
from .calculus import invalid_combination
from .reduce import _return_type

HistogramResult = _return_type("histogram", ("hist", "bin_edges"))
HistogramddResult = _return_type("histogramdd", ("hist", "bin_edges"))


# --- histogramdd -----------------------------------------------------------------------------------------------
class Histogramdd(Primitive):
    """Counts (or summed weights) of the rows of a (N, D) input in a D-dimensional grid of bins."""
    inputs = 2
    node_name = "NotImplemented"  # NOTE: PyTorch records histograms, and their backward refuses
    batch_rule = None

    @staticmethod
    def forward(ctx, x, weight, bins, ranges, density, edges, aten):
        xp = ctx.xp
        dims = x.shape[1]
        if edges is None:
            edges = [_linear_edges(xp, x[:, d], bins[d], ranges[d] if ranges else None, d) for d in range(dims)]
        hist = _counts(xp, x, weight, edges)
        if density:
            total = hist.sum()
            for d, e in enumerate(edges):
                shape = [1] * dims
                shape[d] = -1
                hist = hist / (e[1:] - e[:-1]).reshape(shape)
            hist = hist / total
        ctx.aten = aten
        return (hist.astype(x.dtype, copy=False),) + tuple(e.astype(x.dtype, copy=False) for e in edges)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"derivative for aten::{ctx.aten} is not implemented")


def _linear_edges(xp, column, bins, given, d):
    """bins + 1 equally spaced edges over the given range, else the data's (widened by 0.5 when flat)."""
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension {d}")
    if given is not None:
        lo, hi = float(given[0]), float(given[1])
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {_num(lo)} max "
                               f"{_num(hi)} for dimension {d}")
    elif column.size:
        lo, hi = float(column.min()), float(column.max())
    else:
        lo, hi = 0.0, 1.0
    if not (xp.isfinite(lo) and xp.isfinite(hi)):
        raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{_num(lo)}, {_num(hi)}] is not finite")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    # NOTE: as torch.linspace, in the input's dtype: the first half counted up from lo, the second down from hi
    dt = column.dtype
    lo_, hi_ = xp.asarray(lo, dtype=dt), xp.asarray(hi, dtype=dt)
    step = (hi_ - lo_) / xp.asarray(bins, dtype=dt)
    steps = xp.arange(bins + 1).astype(dt)
    edges = xp.where(xp.arange(bins + 1) < (bins + 1) // 2, lo_ + step * steps,
                     hi_ - step * (xp.asarray(bins, dtype=dt) - steps))
    return edges.astype(column.dtype)


def _num(v):
    """A bound as PyTorch prints it: whole numbers without a decimal point."""
    import math
    return int(v) if math.isfinite(v) and v == int(v) else v


def _counts(xp, x, weight, edges):
    """The bin of each row along each dim (right edge inclusive in the last bin), then one bincount."""
    inside = xp.ones(x.shape[0], dtype=bool)
    flat = xp.zeros(x.shape[0], dtype=xp.int64)
    sizes = [e.shape[0] - 1 for e in edges]
    for d, e in enumerate(edges):
        col = x[:, d]
        pos = xp.searchsorted(e, col, side="right") - 1
        pos = xp.where(col == e[-1], sizes[d] - 1, pos)
        inside &= (col >= e[0]) & (col <= e[-1])
        flat = flat * sizes[d] + xp.clip(pos, 0, max(sizes[d] - 1, 0))
    total = 1
    for s in sizes:
        total *= s
    w = weight if weight is not None else xp.ones(x.shape[0], dtype=x.dtype)
    counts = xp.bincount(flat[inside], weights=w[inside].astype(xp.float64), minlength=total)
    return counts.reshape(sizes)


def _histogramdd(input, bins, range, weight, density, name):
    if input._data.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    tensor_bins = isinstance(bins, Tensor) or (isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor))
    # NOTE: PyTorch bins float16/bfloat16 only against given edges, not with a bin count
    if input._dtype.category != _dtype.FLOAT or (input._dtype.itemsize == 2 and not tensor_bins):
        raise NotImplementedError(f'"histogramdd" not implemented for \'{_dtype.scalar_type_name(input._dtype)}\'')
    dims = input.shape[-1]
    x = input.reshape(-1, dims)
    if weight is not None and tuple(weight.shape) != tuple(input.shape[:-1]):
        raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                           f"input tensor excluding its innermost dimension, but got input with shape "
                           f"{list(input.shape)} and weight with shape {list(weight.shape)}")
    w = weight.reshape(-1) if weight is not None else None
    edges, counts, ranges = None, None, None
    if isinstance(bins, Tensor) or (isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor)):
        edges = [bins] if isinstance(bins, Tensor) else list(bins)
        _check_edges(input, edges, dims)
        edges = [e._data for e in edges]
        aten = "histogram" if name == "histogram" else "_histogramdd_from_bin_tensors"
    else:
        counts = [bins] * dims if isinstance(bins, int) else list(bins)
        if len(counts) != dims:
            raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
        if range is not None:
            flat = [float(v) for v in range]
            ranges = [flat[2 * d:2 * d + 2] for d in builtins_range(dims)]
        aten = "histogram" if name == "histogram" else "_histogramdd_from_bin_cts"
    outs = Histogramdd.apply(x, w, counts, ranges, bool(density), edges, aten)
    return outs[0], tuple(outs[1:])


builtins_range = range


def _check_edges(input, edges, dims):
    if len(edges) != dims:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
    for d, e in enumerate(edges):
        if e._data.ndim != 1:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension, but got "
                               f"{e._data.ndim} dimensions in the bins tensor for dimension {d}")
        if e.shape[0] < 2:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {e.shape[0] - 1} for dimension {d}")
        if e._dtype is not input._dtype:
            raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have the same dtype, but "
                               f"got input with dtype {_ctype(input)} and bins for dimension {d} with dtype "
                               f"{_ctype(e)}")


def _ctype(t):
    return {"Float": "float", "Double": "double", "Half": "c10::Half", "BFloat16": "c10::BFloat16"}.get(
        _dtype.scalar_type_name(t._dtype), _dtype.scalar_type_name(t._dtype))


@public(method=True)
def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """Histogram of input's values: (hist, bin_edges); bins is a count (equal widths) or the edges."""
    hist, edges = _histogramdd(input.reshape(-1, 1), bins, range, None if weight is None else weight.reshape(-1),
                               density, "histogram")
    return write_outs(out, HistogramResult(hist, edges[0]), "histogram")


@public
def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """D-dimensional histogram of the rows of input (..., D): (hist, tuple of bin edges per dim)."""
    return HistogramddResult(*_histogramdd(input, bins, range, weight, density, "histogramdd"))


# --- searchsorted / bucketize ----------------------------------------------------------------------------------
class Searchsorted(Primitive):
    """Insertion points of values into the innermost dim of a sorted sequence."""
    inputs = 2
    differentiable = False
    batch_rule = None

    @staticmethod
    def forward(ctx, seq, values, right=False, out_int32=False, sorter=None):
        xp = ctx.xp
        if sorter is not None:
            seq = xp.take_along_axis(seq, sorter, axis=-1)
        side = "right" if right else "left"
        if seq.ndim == 1:
            out = xp.searchsorted(seq, values, side=side)
        else:
            # NOTE: no batched searchsorted in NumPy or CuPy: one call per row of the sequence
            batch = 1
            for size in seq.shape[:-1]:
                batch *= size
            rows_s = seq.reshape(batch, seq.shape[-1])
            rows_v = values.reshape(batch, values.shape[-1])
            out = xp.zeros(rows_v.shape, xp.int64)
            for i in range(batch):
                out[i] = xp.searchsorted(rows_s[i], rows_v[i], side=side)
            out = out.reshape(values.shape)
        return xp.asarray(out).astype(xp.int32 if out_int32 else xp.int64)


_SEARCHSORTED = ("Tensor sorted_sequence, Tensor input, *, bool out_int32 = False, bool right = False, str side = "
                 "None, Tensor sorter = None, Tensor out = None",
                 "Tensor sorted_sequence, Number self, *, bool out_int32 = False, bool right = False, str side = None, "
                 "Tensor sorter = None, Tensor out = None")
_BUCKETIZE = ("Tensor input, Tensor boundaries, *, bool out_int32 = False, bool right = False, Tensor out = None",
              "Number self, Tensor boundaries, *, bool out_int32 = False, bool right = False")


@public
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, out=None, sorter=None):
    """Indices at which input's values would be inserted into sorted_sequence's innermost dim to keep it sorted."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    from ..._arguments import is_number
    if not isinstance(sorted_sequence, Tensor) or not (isinstance(input, Tensor) or is_number(input)) or (
            sorter is not None and not isinstance(sorter, Tensor)):
        raise invalid_combination("searchsorted", (sorted_sequence, input), {"out_int32": out_int32, "right": right},
                                  _SEARCHSORTED)
    seq = sorted_sequence
    if seq._data.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    scalar = not isinstance(input, Tensor)
    values = seq.new_tensor(input) if scalar else input
    if seq._data.ndim > 1 and (values._data.ndim != seq._data.ndim or
                               tuple(values.shape[:-1]) != tuple(seq.shape[:-1])):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}")
    if values._dtype is not seq._dtype:
        common = _dtype.promote_types(values._dtype, seq._dtype)
        seq, values = seq.to(common), values.to(common)
    if sorter is not None and tuple(sorter.shape) != tuple(seq.shape):
        raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got boundary "
                           f"tensor {list(seq.shape)}and got sorter tensor {list(sorter.shape)}")
    result = Searchsorted.apply(seq, values, bool(right), bool(out_int32), None if sorter is None else sorter._data)
    return result if out is None else write_out(out, result, "searchsorted")


@public
def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each value of input among the 1-D sorted boundaries (searchsorted, arguments swapped)."""
    from ..._arguments import is_number
    if not isinstance(boundaries, Tensor) or not (isinstance(input, Tensor) or is_number(input)):
        raise invalid_combination("bucketize", (input, boundaries), {"out_int32": out_int32, "right": right},
                                  _BUCKETIZE)
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


# --- isin ------------------------------------------------------------------------------------------------------
class Isin(Primitive):
    """Whether each element is among the test elements (NaN is in nothing)."""
    inputs = 2
    promote = "promote"
    differentiable = False

    @staticmethod
    def forward(ctx, elements, test_elements, assume_unique=False, invert=False):
        xp = ctx.xp
        for a in (elements, test_elements):
            if a.dtype.kind == "c":
                name = _dtype.scalar_type_name(_dtype._BY_NP[a.dtype])
                raise RuntimeError(f"Unsupported input type encountered for isin(): {name}")
        return xp.isin(elements, test_elements.reshape(-1), invert=invert)


@public
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Elementwise membership of elements in test_elements (either may be a scalar), as a bool tensor."""
    return Isin.apply(elements, test_elements, bool(assume_unique), bool(invert))


# --- specs -----------------------------------------------------------------------------------------------------
def _histogram_sample(g):
    x = g.values(g.shape(0, 2, 0, 6))
    kw = {"density": g.boolean()}
    kind = g.integers(0, 2)
    if kind == 0:
        kw.update(bins=g.integers(1, 5))
        if g.boolean():
            kw.update(range=(-2.0, 2.5))
    elif kind == 1:
        kw.update(bins=[-3.0, -1.0, 0.5, 3.0])
    return (x,), kw


def _histogram_call(torch, x, bins, **kw):
    if isinstance(bins, list):
        bins = torch.tensor(bins, dtype=x.dtype)
    return tuple(torch.histogram(x.detach(), bins, **kw))


def _histogramdd_sample(g):
    d = g.integers(1, 3)
    x = g.values((g.integers(0, 6), d))
    w = abs(g.values((x.shape[0],)))
    return (x, w), {"bins": g.choice([2, [3] * d]), "density": g.boolean(), "weighted": g.boolean()}


def _histogramdd_call(torch, x, w, weighted=False, **kw):
    h = torch.histogramdd(x.detach(), weight=w.detach() if weighted else None, **kw)
    return (h.hist,) + tuple(h.bin_edges)


def _searchsorted_sample(g):
    seq = g.values(g.shape(1, 2, 1, 5))
    seq.sort(axis=-1)
    values = g.values(seq.shape[:-1] + (g.integers(0, 4),)) if seq.ndim > 1 or g.boolean() else \
        g.values(g.shape(0, 2, 0, 3))
    return (seq, values), {"right": g.boolean(), "out_int32": g.boolean()}


spec(OpSpec("histogram", sample=_histogram_sample, call=_histogram_call, grad=False, large=False),
     OpSpec("histogramdd", arity=2, sample=_histogramdd_sample, call=_histogramdd_call, grad=False, large=False),
     OpSpec("searchsorted", arity=2, sample=_searchsorted_sample, grad=False, dtypes=("float32", "float64", "int64")),
     OpSpec("bucketize", arity=2, grad=False, dtypes=("float32", "int64"),
            sample=lambda g: ((g.values(g.shape(0, 2, 0, 4)), _sorted(g.values((g.integers(1, 5),)))),
                              {"right": g.boolean()})),
     OpSpec("isin", arity=2, grad=False, dtypes=("float32", "int64"), domain=(-3, 3),
            sample=lambda g: ((g.index(g.shape(0, 3, 0, 4), 6).astype(g.dtype), g.index(g.shape(0, 2, 0, 4), 6)),
                              {"invert": g.boolean()})))


def _sorted(a):
    a.sort()
    return a
