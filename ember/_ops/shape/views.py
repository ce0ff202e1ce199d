"""Views: view/reshape, transpose/t/permute, expand, squeeze/unsqueeze, select/slice (basic indexing).

A view op's forward returns a view of its input's array; `Primitive.apply` links the result to
its base (shared version counter, a recipe to rebuild it) so in-place ops on views rebase the
graph as PyTorch does.
"""
from ...autograd.function import Primitive
from ..._tensor import Tensor, norm_dim, norm_dims, sum_to
from .._registry import OpSpec, bind_method, public, register, spec
from .._strides import (_elem_strides, check_numel, restride, settle, storage_view, view_array, view_strides,
                       writeable_view)


def _fmt_shape(shape):
    return f"[{', '.join(str(s) for s in shape)}]"


def infer_shape(shape, numel):
    """Resolve one -1 in `shape`; PyTorch's RuntimeError when sizes disagree."""
    shape = [int(s) for s in shape]
    known = 1
    free = None
    for i, s in enumerate(shape):
        if s == -1:
            if free is not None:
                raise RuntimeError("only one dimension can be inferred")
            free = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {_fmt_shape(shape)}")
        else:
            known *= s
    if free is not None:
        if known == 0:
            if numel == 0:
                raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {_fmt_shape(shape)} because the "
                                   "unspecified dimension size -1 can be any value and is ambiguous")
            raise RuntimeError(f"shape '{_fmt_shape(shape)}' is invalid for input of size {numel}")
        if numel % known:
            raise RuntimeError(f"shape '{_fmt_shape(shape)}' is invalid for input of size {numel}")
        shape[free] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{_fmt_shape(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def _is_int(v):
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        hasattr(v, "__index__") and not isinstance(v, (bool, float)) and getattr(v, "ndim", 0) == 0
        and getattr(getattr(v, "dtype", None), "is_floating_point", False) is False
        and not isinstance(v, (tuple, list)))


def int_list(args, name, argname):
    """`f(2, 3)`, `f((2, 3))`, `f(torch.Size([2, 3]))` as a tuple of ints, with PyTorch's TypeErrors."""
    if not args:
        raise TypeError(f'{name}() missing 1 required positional arguments: "{argname}"')
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        for i, v in enumerate(args[0]):
            if not _is_int(v):
                raise TypeError(f"{name}(): argument '{argname}' (position 1) must be tuple of ints, but found "
                                f"element of type {type(v).__name__} at pos {i}")
        return tuple(int(v) for v in args[0])
    if isinstance(args[0], (tuple, list)):
        raise TypeError(f"{name}() takes 1 positional argument but {len(args)} were given")
    if len(args) == 1 and not _is_int(args[0]):
        raise TypeError(f"{name}(): argument '{argname}' (position 1) must be tuple of ints, not "
                        f"{type(args[0]).__name__}")
    for i, v in enumerate(args):
        if not _is_int(v):
            raise TypeError(f"{name}(): argument '{argname}' failed to unpack the object at pos {i + 1} with error "
                            f"\"type must be tuple of ints,but got {type(v).__name__}\"")
    return tuple(int(v) for v in args)


class View(Primitive):
    """The same data seen with another shape; needs compatible strides."""
    batch_rule = ("view",)
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, shape):
        x = settle(ctx.xp, x)
        shape = infer_shape(shape, x.size)
        ctx.shape = x.shape
        out = view_array(ctx.xp, x, shape)
        if out is None:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
        return out

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class _ReshapeCopy(Primitive):
    """reshape of data whose strides allow no view: a copy (PyTorch's _reshape_copy/clone)."""
    batch_rule = ("view",)
    complex_grad = True
    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(infer_shape(shape, x.size)).copy()

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class ViewDtype(Primitive):
    """The same bytes read as another dtype (view(dtype)); not differentiable across dtypes."""
    view = True
    differentiable = False

    @staticmethod
    def forward(ctx, x, dtype, size, stride, offset):
        return storage_view(x, size, stride, offset, dtype.np)


def _dtype_geometry(self, dtype):
    """(size, stride, storage offset) of self viewed as `dtype`, with PyTorch's checks and messages."""
    from ... import _dtype
    have = self._dtype
    size, stride, offset = list(self._data.shape), list(self.stride()), self.storage_offset()
    if dtype.itemsize == have.itemsize:
        return size, stride, offset
    what = f"to view {_dtype.scalar_type_name(have)} as {_dtype.scalar_type_name(dtype)} (different element sizes)"
    if not size:
        raise RuntimeError(f"self.dim() cannot be 0 {what}")
    if have.itemsize > dtype.itemsize:
        ratio = have.itemsize // dtype.itemsize
        if stride[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {stride[-1]}")
        return size[:-1] + [size[-1] * ratio], [st * ratio for st in stride[:-1]] + [1], offset * ratio
    ratio = dtype.itemsize // have.itemsize
    if size[-1] % ratio:
        raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got {size[-1]}")
    if offset % ratio:
        raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, but got {offset}")
    if stride[-1] != 1:
        raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {stride[-1]}")
    for i, st in enumerate(stride[:-1]):
        if st % ratio:
            raise RuntimeError(f"self.stride({i}) must be divisible by {ratio} {what}, but got {st}")
    return size[:-1] + [size[-1] // ratio], [st // ratio for st in stride[:-1]] + [1], offset // ratio


def _view(self, *shape):
    """A view of the same data with another shape (or, given a dtype, the same bytes as that dtype)."""
    from ..._dtype import dtype as _dtype_cls
    if len(shape) == 1 and isinstance(shape[0], _dtype_cls):
        # NOTE: even to its own dtype, view(dtype) keeps the geometry and leaves the graph, as in PyTorch
        return ViewDtype.apply(self, shape[0], *_dtype_geometry(self, shape[0]))
    if not shape or not (len(shape) == 1 and isinstance(shape[0], (tuple, list)) or all(_is_int(s) for s in shape)):
        got = ", ".join(type(s).__name__ for s in shape)
        raise TypeError(f"view() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                        " * (torch.dtype dtype)\n * (tuple of ints size)\n")
    return View.apply(self, int_list(shape, "view", "size"))


bind_method("view", _view)


@public(method=True)
def reshape(input, *shape):
    """A view when strides allow, otherwise a copy."""
    shape = infer_shape(int_list(shape, "reshape", "shape"), input._data.size)
    if shape == input._data.shape or input._data.flags.c_contiguous:
        return View.apply(input, shape)
    if view_strides(input._data.shape, _elem_strides(input._data), shape) is not None:
        return View.apply(input, shape)
    return _ReshapeCopy.apply(input, shape)


bind_method("view_as", lambda self, other: self.view(other.shape))
bind_method("reshape_as", lambda self, other: self.reshape(other.shape))


@public(method=True)
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    shape = input._data.shape
    if not shape:
        return input.reshape(1)
    s, e = norm_dim(start_dim, len(shape)), norm_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return input.reshape(shape[:s] + (n,) + shape[e + 1:])


@public(method=True)
def ravel(input):
    """The elements as a 1-D tensor (a view when possible)."""
    return input.reshape(-1)


class Transpose(Primitive):
    """Swap two dims (a view)."""
    batch_rule = ("dim", (0, 1), None)
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, dim0, dim1):
        x = settle(ctx.xp, x)
        d0, d1 = norm_dim(dim0, x.ndim), norm_dim(dim1, x.ndim)
        ctx.dims = (d0, d1)
        return writeable_view(ctx.xp, ctx.xp.swapaxes(x, d0, d1) if x.ndim else x.view())

    @staticmethod
    def backward(ctx, g):
        return Transpose.apply(g, *ctx.dims)


register(OpSpec("transpose", shapes=[((2, 3, 4),)], kwargs=({"dim0": 0, "dim1": 2},), method=True),
         torch="transpose", method="transpose")(Transpose)


class T(Transpose):
    complex_grad = True
    node_name = "TBackward0"

    @staticmethod
    def backward(ctx, g):
        return T.apply(g, *ctx.dims)


@public(method=True)
def t(input):
    """Transpose a tensor of at most 2 dims."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return T.apply(input, 0, input._data.ndim - 1 if input._data.ndim else 0)


def _T(self):
    nd = self._data.ndim
    if nd != 2:
        import warnings
        if nd == 0:
            warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",
                          UserWarning, stacklevel=2)
        else:
            warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                          "deprecated and it will throw an error in a future release. Consider `x.mT` to transpose "
                          "batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the "
                          "dimensions of a tensor.", UserWarning, stacklevel=2)
        return Permute.apply(self, tuple(range(nd - 1, -1, -1)))
    return t(self)


bind_method("T", property(_T))
bind_method("mT", property(lambda self: Transpose.apply(self, -2, -1)))
bind_method("H", property(_T))


class Permute(Primitive):
    """Reorder the dims (a view)."""
    batch_rule = ("permute",)
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, dims):
        x = settle(ctx.xp, x)
        dims = tuple(norm_dim(d, x.ndim) for d in dims)
        if len(dims) != x.ndim:
            raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                               f"length of the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not "
                               f"equal to len(dims) = {len(dims)}")
        if len(set(dims)) != len(dims):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        ctx.dims = dims
        return writeable_view(ctx.xp, ctx.xp.transpose(x, dims))

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return Permute.apply(g, tuple(inverse))


@public(method=True)
def permute(input, *dims):
    """Reorder the dims (a view)."""
    return Permute.apply(input, int_list(dims, "permute", "dims"))


spec(OpSpec("permute", shapes=[((2, 3, 4),)], call=lambda torch, x: x.permute(2, 0, 1)))


@public(method=True)
def movedim(input, source, destination):
    """Move dims from `source` to `destination` positions (a view)."""
    nd = input._data.ndim
    src = [norm_dim(d, nd) for d in (source if isinstance(source, (tuple, list)) else (source,))]
    dst = [norm_dim(d, nd) for d in (destination if isinstance(destination, (tuple, list)) else (destination,))]
    if nd == 0:
        return Permute.apply(input, ())
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return input.permute(*order)


bind_method("moveaxis", Tensor.movedim)


class Expand(Primitive):
    """Broadcast size-1 dims to larger sizes without copying (stride 0)."""
    batch_rule = ("expand",)
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, sizes):
        x = settle(ctx.xp, x)
        shape = expanded_shape(x.shape, sizes, x.dtype)
        ctx.shape = x.shape
        if 1 not in shape and shape != x.shape and x.size:
            # NOTE: without size-1 dims NumPy's broadcast_to gives PyTorch's strides (and a read-only view)
            return ctx.xp.broadcast_to(x, shape)
        # NOTE: PyTorch gives stride 0 only to new and broadcast dims; a size-1 dim that stays 1 keeps
        # its stride (NumPy's broadcast_to would give it 0).
        lead = len(shape) - x.ndim
        strides = [0] * lead + [0 if have == 1 and want != 1 else st
                                for have, want, st in zip(x.shape, shape[lead:], x.strides)]
        for i in range(lead - 1, -1, -1):  # a new size-1 dim strides over the dims after it
            if shape[i] == 1:
                strides[i] = shape[i + 1] * strides[i + 1] if i + 1 < len(shape) else 0
        return restride(ctx.xp, x, shape, tuple(strides))

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.shape)


def expanded_shape(have, sizes, np_dtype=None):
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < len(have):
        raise RuntimeError(f"expand({_tname(np_dtype)}{{{list(have)}}}, size=[{', '.join(map(str, sizes))}]): the number "
                           "of sizes provided (%d) must be greater or equal to the number of dimensions in the tensor "
                           "(%d)" % (len(sizes), len(have)))
    lead = len(sizes) - len(have)
    out = list(sizes[:lead])
    for i, (h, s) in enumerate(zip(have, sizes[lead:])):
        if s == -1:
            s = h
        elif h != s and h != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({h}) at "
                               f"non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(have)}")
        out.append(s)
    for i, s in enumerate(out[:lead]):
        if s == -1 and have:  # NOTE: for a 0-d input PyTorch reports the overflow below instead
            raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing "
                               f"dimension {i}")
    if any(s < 0 for s in out):
        raise RuntimeError("numel: integer multiplication overflow")
    check_numel(out)
    return tuple(out)


def _tname(np_dtype):
    from ... import _dtype
    d = _dtype._BY_NP.get(np_dtype, _dtype.float32) if np_dtype is not None else _dtype.float32
    return "torch." + d._legacy


def expand(input, *sizes):
    """Broadcast to `sizes` without copying; -1 keeps a dim."""
    return Expand.apply(input, int_list(sizes, "expand", "size"))


bind_method("expand", expand)  # NOTE: a Tensor method only; torch has no torch.expand


bind_method("expand_as", lambda self, other: self.expand(other.shape))
spec(OpSpec("expand", shapes=[((3, 1),), ((1,),)], call=lambda torch, x: x.expand(2, 3, 4) if x.dim() == 2
            else x.expand(5)))


@public
def broadcast_to(input, size):
    """Broadcast to `size` (a view)."""
    return input.expand(size)


class Squeeze(Primitive):
    """Remove size-1 dims (all of them, or those named)."""
    batch_rule = ("squeeze",)
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, dims):
        x = settle(ctx.xp, x)
        if dims is None:
            dims = tuple(i for i, s in enumerate(x.shape) if s == 1)
        else:
            dims = tuple(d for d in norm_dims(dims, x.ndim) if x.ndim and x.shape[d] == 1)
        ctx.shape = x.shape
        return writeable_view(ctx.xp, x.squeeze(axis=dims) if dims else x.view())

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class SqueezeDim(Squeeze):
    complex_grad = True
    node_name = "SqueezeBackward1"


@public(method=True)
def squeeze(input, dim=None):
    """Remove size-1 dims: all of them, or `dim` (int or tuple) if it has size 1."""
    if dim is None:
        return Squeeze.apply(input, None)
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    return SqueezeDim.apply(input, dims)


class Unsqueeze(Primitive):
    """Insert a size-1 dim at `dim`."""
    batch_rule = ("unsqueeze",)
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, dim):
        x = settle(ctx.xp, x)
        d = norm_dim(dim, x.ndim + 1)
        ctx.dim = d
        # NOTE: PyTorch's stride for the new dim is size * stride of the dim it lands before (1 at the end).
        new = x.shape[d] * x.strides[d] if d < x.ndim else x.itemsize
        return restride(ctx.xp, x, x.shape[:d] + (1,) + x.shape[d:], x.strides[:d] + (new,) + x.strides[d:])

    @staticmethod
    def backward(ctx, g):
        return g.squeeze(ctx.dim)


register(OpSpec("unsqueeze", shapes=[((2, 3),), ((),)], kwargs=({"dim": 0}, {"dim": -1})),
         torch="unsqueeze", method="unsqueeze")(Unsqueeze)
spec(OpSpec("squeeze", shapes=[((2, 1, 3, 1),), ((1,),)], kwargs=({}, {"dim": 1}, {"dim": 0})))


from ..indexing.slicing import Index, IndexInto, Select, Slice, _BasicKey, narrow, select  # noqa: E402,F401  (re-exported)
from . import splits  # noqa: E402,F401  (unbind, split, chunk...: views composed from the ones above)


# --- specs -------------------------------------------------------------------------------------------------
def _target_shape(g, shape):
    """Another shape with as many elements as `shape`, maybe with one -1."""
    n = 1
    for s in shape:
        n *= s
    dims = []
    rest = n
    for _ in range(g.integers(0, 3)):
        f = g.choice([d for d in range(1, 5) if rest % d == 0] if rest else [0, 1, 2])
        dims.append(f)
        rest = rest // f if f else 0
    if rest or not dims or n:
        dims.append(rest if n else 0)
    if n and g.boolean():
        dims[g.integers(0, len(dims) - 1)] = -1
    return tuple(dims)


def _reshape_sample(g, contiguous=False):
    x = g.values(g.shape(0, 3))
    x = x.copy() if contiguous else x  # NOTE: view() refuses most non-contiguous inputs (as PyTorch does)
    return (x, _target_shape(g, x.shape)), {}


def _like_sample(g):
    x = g.values(g.shape(0, 3)).copy()
    return (x, g.values(_resolved(_target_shape(g, x.shape), x.size))), {}


def _resolved(shape, n):
    known = 1
    for s in shape:
        known *= s if s != -1 else 1
    return tuple(n // known if s == -1 else s for s in shape)


def _flatten_sample(g):
    x = g.values(g.shape(0, 4))
    nd = max(x.ndim, 1)
    s = g.integers(0, nd - 1)
    e = g.integers(s, nd - 1)
    return (x,), {"start_dim": s - nd if g.boolean() else s, "end_dim": e - nd if g.boolean() else e}


def _squeeze_sample(g):
    x = g.values(tuple(g.choice([1, 1, 2, 3]) for _ in range(g.integers(0, 4))))
    dims = tuple(sorted({g.dim(x.ndim) % max(x.ndim, 1) for _ in range(g.integers(1, 3))}))
    return (x,), {"dim": dims if g.boolean() else dims[0]}


def _expand_as_sample(g):
    x = g.values(g.shape(0, 2, 1, 3))
    target = tuple(g.integers(1, 3) for _ in range(g.integers(0, 1))) + tuple(
        s if s != 1 else g.integers(1, 3) for s in x.shape)
    return (x, g.values(target)), {}


_FLOATS = ("float32", "float64")
spec(OpSpec("view", sample=lambda g: _reshape_sample(g, True), method=True, dtypes=_FLOATS + ("int64",)),
     OpSpec("view_noncontiguous", sample=_reshape_sample, call=lambda torch, x, s: x.view(s), gradcheck=False),
     OpSpec("reshape", sample=_reshape_sample, dtypes=_FLOATS + ("bool",)),
     OpSpec("Tensor.reshape", sample=_reshape_sample, call=lambda torch, x, s: x.reshape(*s)),
     OpSpec("view_as", sample=_like_sample, method=True),
     OpSpec("reshape_as", sample=_like_sample, method=True),
     OpSpec("expand_as", sample=_expand_as_sample, method=True),
     OpSpec("ravel", dtypes=_FLOATS + ("int64",)),
     OpSpec("flatten", sample=_flatten_sample),
     OpSpec("t", shapes=[((2, 3),), ((3,),), ((),)]),
     OpSpec("contiguous", method=True, call=lambda torch, x: x.contiguous()),
     OpSpec("squeeze_dims", sample=_squeeze_sample, call=lambda torch, x, **kw: torch.squeeze(x, **kw)),
     OpSpec("type_as", arity=2, shapes=[((2, 3), (1,)), ((), (2,))], method=True, dtypes=_FLOATS + ("int64",)),
     OpSpec("type_as_double", shapes=[((2, 3),)], call=lambda torch, x: x.type_as(torch.zeros(1, dtype=torch.float64))),
     OpSpec("new_zeros", shapes=[((2, 3),)], grad=False, dtypes=("float64", "int64"),
            call=lambda torch, x: x.new_zeros((3, 1))),
     OpSpec("new_ones", shapes=[((2,),)], grad=False, dtypes=("float32", "bool"), call=lambda torch, x: x.new_ones(2, 2)),
     OpSpec("new_full", shapes=[((2,),)], grad=False, dtypes=("float32", "int64"),
            call=lambda torch, x: x.new_full((2, 1), 7)),
     OpSpec("new_empty", shapes=[((2,),)], grad=False, call=lambda torch, x: x.new_empty((0, 3))),
     OpSpec("new_tensor", shapes=[((2,),)], grad=False, dtypes=("float64", "int64"),
            call=lambda torch, x: x.new_tensor([[1, 2], [3, 4]])))
