"""Batching rules: how an op runs on BatchedTensors without a Python loop over the batch.

`dispatch` is called by `Primitive.apply` (ember/autograd/function.py) while a vmap is active. It finds
the highest vmap level among the operands; if there is none, the op runs as usual. Otherwise the op's
family rule, named by the class attribute `batch_rule` of the Primitive (a tuple: the family and the
parameters the rule needs), moves that level's batch dim through the op: it calls the primitive itself
(or a few others) on the PHYSICAL values, whose dim 0 is the batch, and the results are wrapped back as
BatchedTensors of the level. Because the physical calls are ordinary ops, autograd records them as it
records any op, and a gradient taken inside vmap is a per-example gradient (see `lift` in _vmap.py).
Nested vmap needs nothing more: a value may itself be batched at a lower level, and the physical calls
then dispatch again at that level.

Families (the `batch_rule` values):
- ("pointwise",): elementwise ops with broadcasting (arithmetic, comparisons, where, clamp, activations,
  casts): each batched operand gets size-1 dims after its batch dim so that all align on the right.
- ("dim", dim_params, keepdim_param[, default]): the params at `dim_params` are logical dims (int, tuple,
  or None / () for every dim) that move one place right (`default`: the dim when the caller leaves it out); a reduction over every dim reduces the value flattened
  after the batch dim (reductions, softmax, scans, select/slice, transpose).
- ("view",), ("permute",), ("unsqueeze",), ("squeeze",), ("expand",): shape ops, the shape or dims
  param rewritten for the batch dim in front.
- ("leading",): ops that treat the dims before those they work on as a batch (pooling): the value as it is.
- ("cat",), ("stack",), ("matmul", ndims), ("linear",), ("conv",), ("gather",), ("index",), ("masked_fill",),
  ("embedding",), ("layer_norm",): one rule each.
Ops without a rule, or with a case their rule does not cover, run once per example (`fallback`) and
warn once per op, as PyTorch's vmap does.
"""
import warnings

from ..._tensor import Tensor, norm_dims, reduction_dims
from .tensor import BatchedTensor, batched, level_of, levels


def dispatch(cls, args):
    """The result of the Primitive `cls` on `args` when some operand is batched, else NotImplemented."""
    level = 0
    for a in args:
        if type(a) is BatchedTensor:
            if a._level > level:
                level = a._level
        elif type(a) in (tuple, list):
            for b in a:
                if type(b) is BatchedTensor and b._level > level:
                    level = b._level
    if not level:
        return NotImplemented
    n = cls.inputs
    rule = cls.batch_rule
    fn = None if rule is None else _RULES[rule[0]]
    operands, params = list(args[:n]), list(args[n:])
    out = None if fn is None or (fn is not _gather and _batched_in(params, level)) else \
        fn(cls, operands, params, level, rule)
    if out is None:
        return fallback(cls, args, level)
    if type(out) is tuple:
        return tuple(batched(o, level) for o in out)
    return batched(out, level)


def _batched_in(values, level):
    for a in values:
        if type(a) is BatchedTensor and a._level == level:
            return True
        if type(a) in (tuple, list) and _batched_in(a, level):
            return True
    return False


def _value(a, level):
    """The physical value of `a` at `level` (batch at dim 0), or None if `a` is not batched there."""
    return a._value if type(a) is BatchedTensor and a._level == level else None


def _pad(v, n):
    """`v` (batch at dim 0) with `n` size-1 dims inserted after the batch dim."""
    if n <= 0:
        return v
    shape = tuple(v.shape)
    return v.reshape(shape[:1] + (1,) * n + shape[1:])


# --- fallback ------------------------------------------------------------------------------------------
_WARNED = set()  # NOTE: the ops whose fallback has warned (once per op, as PyTorch)


def fallback(cls, args, level):
    """Run `cls` once per example of the batch and stack the results (with a warning, once per op)."""
    public = getattr(cls, "_public_name", None)
    # NOTE: PyTorch names the aten op; ember names the public op where one is registered, else the primitive
    name = f"ember::{public}" if public else cls.__name__
    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(f"There is a performance drop because we have not yet implemented the batching rule for "
                      f"{name}. Please file us an issue on GitHub so that we can prioritize its implementation.",
                      UserWarning, stacklevel=_user_stacklevel())
    size = levels()[level - 1].size
    if size == 0:
        raise RuntimeError(f"vmap: {name} has no batching rule, and its fallback cannot run over a batch of size 0")
    outs = [cls.apply(*(_example(a, level, i) for a in args)) for i in range(size)]
    from ..._ops.shape.join import stack
    if type(outs[0]) is tuple:
        return tuple(batched(stack([o[k] for o in outs]), level) for k in range(len(outs[0])))
    return batched(stack(outs), level)


def _user_stacklevel():
    """The warnings stacklevel of the first caller outside ember (the line of the program that ran the op)."""
    import os
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    frame, level = sys._getframe(2), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(root + os.sep):
        frame, level = frame.f_back, level + 1
    return level


def _example(a, level, i):
    if type(a) is BatchedTensor and a._level == level:
        return a._value.select(0, i)
    if type(a) in (tuple, list) and _batched_in(a, level):
        return type(a)(_example(b, level, i) for b in a)
    return a


# --- pointwise -----------------------------------------------------------------------------------------
def _pointwise(cls, operands, params, level, rule):
    nd = 0
    for a in operands:
        if isinstance(a, Tensor) and a.dim() > nd:
            nd = a.dim()
    promoted = _logical_promotion(cls, operands)
    values = []
    for a in operands:
        v = _value(a, level)
        if v is None:
            values.append(a)
            continue
        if promoted is not None and v._dtype is not promoted:
            v = v.to(promoted)
        values.append(_pad(v, nd - a.dim()))
    return cls.apply(*values, *params)


def _logical_promotion(cls, operands):
    """The dtype the operands are computed in, judged on their LOGICAL dims (a batched logical 0-d tensor
    counts as 0-d in type promotion although its value is 1-d), or None when nothing needs a cast."""
    k = cls.promote_args
    tensors = [a for a in (operands if k is None else operands[:k]) if isinstance(a, Tensor)]
    if cls.promote is None or len({t._dtype for t in tensors}) < 2:
        return None
    if not any(type(t) is BatchedTensor and t.dim() == 0 for t in tensors):
        return None  # NOTE: physical and logical dims fall in the same promotion categories
    from ...autograd.function import compute_dtype
    return compute_dtype(cls, operands if k is None else operands[:k])


# --- dims ------------------------------------------------------------------------------------------------
def _dims_rule(cls, operands, params, level, rule):
    dim_params, keepdim_param = rule[1], rule[2]
    x = operands[0]
    v = _value(x, level)
    if v is None or len(operands) > 1 and _batched_in(operands[1:], level):
        return None
    nd = x.dim()
    params = list(params)
    size = tuple(v.shape)[0]
    if len(params) <= max(dim_params):
        if len(rule) < 4:
            return None  # NOTE: a dim left to the op's default, which the rule does not know: the loop
        params.append(rule[3])  # the default the op declares with its rule
    for i in dim_params:
        d = params[i]
        if d is None or (type(d) in (tuple, list) and len(d) == 0):
            # NOTE: every logical dim: reduce the value flattened after the batch dim, then restore keepdim
            keep = keepdim_param is not None and keepdim_param < len(params) and params[keepdim_param]
            params[i] = 1 if d is None else (1,)
            if keep:
                params[keepdim_param] = False
            out = cls.apply(v.reshape(size, x.numel()), *params)
            if keep:
                out = _each(out, lambda o: o.reshape((size,) + (1,) * nd))
            return out
    if nd == 0:
        # NOTE: a logical 0-d tensor accepts dims 0 and -1: run on (batch, 1) and drop the extra dim again
        for i in dim_params:
            reduction_dims(params[i], 0)  # PyTorch's IndexError for other dims
            params[i] = 1 if type(params[i]) is int else (1,) * len(params[i])
        out = cls.apply(v.unsqueeze(1), *params)
        return _each(out, lambda o: o.squeeze(1) if o.dim() == 2 else o)
    for i in dim_params:
        d = params[i]
        if type(d) in (tuple, list):
            params[i] = tuple(e + 1 for e in reduction_dims(d, nd))
        else:
            params[i] = reduction_dims(d, nd)[0] + 1
    return cls.apply(v, *operands[1:], *params)


def _each(out, fn):
    return tuple(fn(o) for o in out) if type(out) is tuple else fn(out)


# --- shape ops ---------------------------------------------------------------------------------------------
def _view(cls, operands, params, level, rule):
    v = _value(operands[0], level)
    shape = params[0]
    shape = (shape,) if type(shape) is int else tuple(shape)
    return cls.apply(v, (tuple(v.shape)[0],) + shape, *params[1:])


def _permute(cls, operands, params, level, rule):
    x = operands[0]
    dims = norm_dims(params[0], x.dim())
    return cls.apply(_value(x, level), (0,) + tuple(d + 1 for d in dims), *params[1:])


def _unsqueeze(cls, operands, params, level, rule):
    x = operands[0]
    d = reduction_dims(params[0], x.dim() + 1)[0]
    return cls.apply(_value(x, level), d + 1)


def _squeeze(cls, operands, params, level, rule):
    x = operands[0]
    shape = tuple(x.shape)
    dims = params[0]
    if dims is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
    elif shape:
        dims = norm_dims(dims, len(shape))
    else:
        norm_dims(dims, 0)  # NOTE: PyTorch's IndexError; a 0-d tensor has nothing to squeeze
        dims = ()
    return cls.apply(_value(x, level), tuple(d + 1 for d in dims if shape[d] == 1))


def _expand(cls, operands, params, level, rule):
    x = operands[0]
    v = _value(x, level)
    sizes = tuple(params[0])
    return cls.apply(_pad(v, len(sizes) - x.dim()), (tuple(v.shape)[0],) + sizes)


def _cat(cls, operands, params, level, rule):
    size = levels()[level - 1].size
    nd = next((t.dim() for t in operands if not (t.dim() == 1 and t.shape[0] == 0)), 1)
    values = []
    for t in operands:
        v = _value(t, level)
        values.append(v if v is not None else t.expand((size,) + tuple(t.shape)))
    return cls.apply(*values, reduction_dims(params[-1], nd)[0] + 1)


def _stack(cls, operands, params, level, rule):
    """stack's dim (normalised, >= 0, counted in the result's one-example dims) moves one to the right."""
    size = levels()[level - 1].size
    values = []
    for t in operands:
        v = _value(t, level)
        values.append(v if v is not None else t.expand((size,) + tuple(t.shape)))
    return cls.apply(*values, params[-1] + 1)


# --- products ----------------------------------------------------------------------------------------------
def _matmul(cls, operands, params, level, rule):
    from ..._ops.linalg.matmul import Matmul
    a, b = operands
    na, nb = a.dim(), b.dim()
    ndims = rule[1]
    if ndims is not None and (na, nb) != ndims or not na or not nb:
        return None  # NOTE: the fallback gives the op's own error for each example
    va, vb = _value(a, level), _value(b, level)
    nd = max(na, nb, 2)
    # NOTE: a batched operand gets size-1 dims after its batch dim up to the other's rank; an unbatched one
    # broadcasts against the batch dim as matmul's own leading dims do
    va = a if va is None else _pad(va, nd - max(na, 2))
    vb = b if vb is None else _pad(vb, nd - max(nb, 2))
    if na == 1:
        va = va.unsqueeze(-2)
    if nb == 1:
        vb = vb.unsqueeze(-1)
    out = Matmul.apply(va, vb)
    if nb == 1:
        out = out.squeeze(-1)
    if na == 1:
        out = out.squeeze(-1 if nb == 1 else -2)
    return out


def _linear(cls, operands, params, level, rule):
    from ..._ops.nn.linear import LinearBatched
    x, wt, b = operands
    if _value(wt, level) is None and _value(b, level) is None:
        return LinearBatched.apply(_value(x, level), wt, b)
    # NOTE: a batched weight (per-example gradients of a layer): the matrix product's rule, then the bias
    from ..._ops.linalg.matmul import matmul
    return _value(matmul(x, wt) + b, level)


def _conv(cls, operands, params, level, rule):
    """Convolution of x (N, C, *S) with w (O, C / groups, *K). A batched x alone: the batch joins N. A batched
    weight or bias (per-example gradients of a conv layer): one convolution with B times the groups, each
    example's channels a group of their own (x (N, B*C, *S), w (B*O, C / groups, *K))."""
    x, w, b = operands
    v, vw, vb = _value(x, level), _value(w, level), _value(b, level)
    if vw is None and vb is None:
        shape = tuple(v.shape)
        out = cls.apply(v.reshape((shape[0] * shape[1],) + shape[2:]), w, b, *params)
        return out.reshape(shape[:2] + tuple(out.shape)[1:])
    size = levels()[level - 1].size
    n, c, spatial = x.shape[0], x.shape[1], tuple(x.shape)[2:]
    o = w.shape[0]
    v = x.expand((size,) + tuple(x.shape)) if v is None else v
    vw = w.expand((size,) + tuple(w.shape)) if vw is None else vw
    if b is not None:
        vb = b.expand((size,) + tuple(b.shape)) if vb is None else vb
        vb = vb.reshape(size * o)
    stride, lo, hi, dilation, groups = params[0]
    xg = v.movedim(0, 1).reshape((n, size * c) + spatial)
    wg = vw.reshape((size * o,) + tuple(w.shape)[1:])
    out = cls.apply(xg, wg, vb, (stride, lo, hi, dilation, groups * size), *params[1:])
    return out.reshape((n, size, o) + tuple(out.shape)[2:]).movedim(1, 0)


# --- indexing ----------------------------------------------------------------------------------------------
def _gather(cls, operands, params, level, rule):
    x = operands[0]
    dim, index = params[0], params[1]
    size = levels()[level - 1].size
    v, vi = _value(x, level), _value(index, level)
    if (vi is None and _batched_in([index], level)) or x.dim() == 0:
        return None
    v = v if v is not None else x.expand((size,) + tuple(x.shape))
    vi = vi if vi is not None else index.expand((size,) + tuple(index.shape))
    from ..._ops.indexing.scatter import gather
    return gather(v, norm_dims(dim, x.dim())[0] + 1, vi)


def _index(cls, operands, params, level, rule):
    """Advanced indexing with an unbatched key: the key gets a full slice for the batch dim in front, which
    keeps the batch dim first as long as the key's array (and int) entries are adjacent."""
    key = params[0]
    key = key if type(key) is tuple else (key,)
    arrays = [i for i, k in enumerate(key) if not (k is None or k is Ellipsis or type(k) is slice)]
    if arrays and arrays[-1] - arrays[0] + 1 != len(arrays):
        return None  # NOTE: separated index arrays move their dims to the front: per example instead
    return cls.apply(_value(operands[0], level), (slice(None),) + key, *params[1:])


def _masked_fill(cls, operands, params, level, rule):
    x, mask, value = operands
    if _value(value, level) is not None:
        return None  # NOTE: the fill value must be 0-d: a batched one takes the loop
    vx, vm = _value(x, level), _value(mask, level)
    if vx is None:  # NOTE: the result has input's shape: an unbatched input meets a batched mask expanded
        vx = x.expand((levels()[level - 1].size,) + tuple(x.shape))
    vm = mask if vm is None else _pad(vm, x.dim() - mask.dim())
    return cls.apply(vx, vm, value, *params)


def _leading(cls, operands, params, level, rule):
    """Ops that treat every dim before the ones they work on as a batch (pooling over the last dims)."""
    if len(operands) > 1 and _batched_in(operands[1:], level):
        return None
    return cls.apply(_value(operands[0], level), *operands[1:], *params)


def _embedding(cls, operands, params, level, rule):
    weight, indices = operands
    vi, vw = _value(indices, level), _value(weight, level)
    from ...nn._functional_sparse import _check_range
    if vw is None:
        return cls.apply(weight, _check_range(vi, weight.shape[0]), *params)
    padding_idx, scale_grad_by_freq, *sparse = params
    if padding_idx >= 0 or scale_grad_by_freq or any(sparse):
        return None  # NOTE: their gradients are Embedding's own: the loop
    # NOTE: a batched table (per-example gradients of it): each example's rows gathered from its own table
    size, rows, dim = levels()[level - 1].size, weight.shape[0], weight.shape[1]
    if vi is None:
        vi = indices.expand((size,) + tuple(indices.shape))
    flat = _check_range(vi.reshape(size, -1), rows)
    from ..._ops.indexing.scatter import gather
    out = gather(vw, 1, flat.unsqueeze(-1).expand(size, flat.shape[1], dim))
    return out.reshape(tuple(vi.shape) + (dim,))


def _layer_norm(cls, operands, params, level, rule):
    """LayerNorm's statistics are over `axes` of x read as `view`: both move one place for the batch dim."""
    x, weight, bias = operands
    v = _value(x, level)
    if v is None:
        v = x.expand((levels()[level - 1].size,) + tuple(x.shape))
    view, axes, *rest = params
    view, axes = (tuple(v.shape)[0],) + tuple(view), tuple(a + 1 for a in axes)
    if _value(weight, level) is None and _value(bias, level) is None:
        return cls.apply(v, weight, bias, view, axes, *rest)
    # NOTE: a batched weight or bias (per-example gradients of them): normalise, then scale and shift by the
    # pointwise rule (the affine part broadcasts over the trailing dims)
    out = batched(cls.apply(v, None, None, view, axes, *rest), level)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return _value(out, level)


_RULES = {
    "pointwise": _pointwise,
    "dim": _dims_rule,
    "view": _view,
    "permute": _permute,
    "unsqueeze": _unsqueeze,
    "squeeze": _squeeze,
    "expand": _expand,
    "cat": _cat,
    "stack": _stack,
    "matmul": _matmul,
    "linear": _linear,
    "conv": _conv,
    "gather": _gather,
    "index": _index,
    "masked_fill": _masked_fill,
    "leading": _leading,
    "embedding": _embedding,
    "layer_norm": _layer_norm,
}


# --- writes ------------------------------------------------------------------------------------------------
def _inplace_error(name):
    return RuntimeError(
        f"vmap: {name}(self, *extra_args) is not possible because there exists a Tensor `other` in extra_args that "
        "has more elements than `self`. This happened due to `other` being vmapped over but `self` not being vmapped "
        "over in a vmap. Please try to use out-of-place operators instead of inplace arithmetic. If said operator is "
        "being called inside the PyTorch framework, please file a bug report instead.")


def batched_inplace(cls, target, args):
    """target.<op>_(*args) inside vmap: the op out of place (by its batching rule), written into the target's
    physical value with copy_ (so autograd sees an ordinary in-place copy). None when nothing is batched."""
    level = max([level_of(target)] + [level_of(a) for a in args])
    if not level:
        return None
    tv = _value(target, level)
    if tv is None:
        raise _inplace_error("inplace arithmetic")
    result = cls.apply(target, *args)
    if tuple(result.shape) != tuple(target.shape):
        raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the broadcast shape "
                           f"{list(result.shape)}")
    from ..._ops._registry import _cast_check
    _cast_check(result, target, cls.__name__)
    tv.copy_(_value(result, level))
    return target


def batched_setitem(target, key, value):
    """target[key] = value inside vmap, for keys of ints, slices, None and Ellipsis: the physical value's
    entries behind a full slice for the batch dim. Returns False when nothing is batched."""
    level = max(level_of(target), level_of(value))
    if not level:
        return False
    tv = _value(target, level)
    if tv is None:
        raise _inplace_error("index_put_")
    keys = key if type(key) is tuple else (key,)
    if not all(k is None or k is Ellipsis or type(k) in (int, slice, bool) for k in keys):
        raise RuntimeError("vmap: an indexed write (x[key] = value) with a tensor or list key into a batched tensor "
                           "is not supported by ember; use index_put or scatter out of place instead")
    vv = _value(value, level)
    if vv is not None:
        value = _pad(vv, target[key].dim() - value.dim())
    tv[(slice(None),) + keys] = value
    return True
