"""Diagonals and triangles: diagonal (a view), diag_embed, diag, diagflat, trace, tril/triu and
tril_indices/triu_indices."""
from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import _wrap, norm_dim
from .._registry import OpSpec, public, register, spec
from .._strides import restride, settle


def _diagonal_view(xp, x, offset, d1, d2):
    """The diagonal of dims d1, d2 of array `x` as a view: those dims removed, the diagonal last."""
    n = max(min(x.shape[d1] + min(offset, 0), x.shape[d2] - max(offset, 0)), 0)
    if n:  # NOTE: an empty diagonal starts where x does (PyTorch's storage offset)
        if offset >= 0:
            x = x[(slice(None),) * d2 + (slice(offset, None),)]
        else:
            x = x[(slice(None),) * d1 + (slice(-offset, None),)]
    rest = [i for i in range(x.ndim) if i not in (d1, d2)]
    shape = tuple(x.shape[i] for i in rest) + (n,)
    strides = tuple(x.strides[i] for i in rest) + (x.strides[d1] + x.strides[d2],)
    return restride(xp, x, shape, strides)


def _diag_dims(ndim, dim1, dim2):
    # NOTE: a 0-d tensor's dims wrap as one dim's would (both 0: "identical"), as in PyTorch
    d1, d2 = norm_dim(dim1, max(ndim, 1)), norm_dim(dim2, max(ndim, 1))
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


class Diagonal(Primitive):
    """The diagonal (with `offset`) of dims dim1 and dim2, as a view with the diagonal as last dim."""
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        x = settle(ctx.xp, x)
        d1, d2 = _diag_dims(x.ndim, dim1, dim2)
        ctx.shape, ctx.args = x.shape, (offset, d1, d2)
        return _diagonal_view(ctx.xp, x, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        return DiagonalInto.apply(g, ctx.shape, *ctx.args)


class DiagonalInto(Primitive):
    """Zeros of `shape` with `g` written on the diagonal: diagonal's backward and diag_embed."""
    complex_grad = True
    node_name = "DiagonalBackward0"

    @staticmethod
    def forward(ctx, g, shape, offset, d1, d2):
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        _diagonal_view(ctx.xp, out, offset, d1, d2)[...] = g
        ctx.args = (offset, d1, d2)
        return out

    @staticmethod
    def backward(ctx, gg):
        return Diagonal.apply(gg, *ctx.args)


@public(method=True)
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims dim1, dim2 (offset above the main one if > 0), as a view."""
    return Diagonal.apply(input, int(offset), dim1, dim2)


@public(method=True)
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose diagonals (dims dim1, dim2) hold the last dim of input; zeros elsewhere."""
    nd = input._data.ndim + 1
    d1, d2 = _diag_dims(nd, dim1, dim2)
    n = (input._data.shape[-1] if input._data.ndim else 1) + abs(int(offset))
    rest = iter(input._data.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(nd))
    x = input if input._data.ndim else input.reshape(1)
    return DiagEmbed.apply(x, shape, int(offset), d1, d2)


class DiagEmbed(DiagonalInto):
    """diag_embed (and diag of a vector): DiagonalInto under PyTorch's node name."""
    node_name = "DiagEmbedBackward0"


@public(method=True)
def diag(input, diagonal=0):
    """1-D: a square matrix with input on a diagonal; 2-D: a copy of a diagonal."""
    nd = input._data.ndim
    if nd == 1:
        return diag_embed(input, diagonal, 0, 1)
    if nd == 2:
        return Diagonal.apply(input, int(diagonal), 0, 1).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


@public(method=True)
def diagflat(input, offset=0):
    """A 2-D tensor with the flattened input on diagonal `offset`."""
    return diag_embed(input.reshape(-1), offset, 0, 1)


@public(method=True)
def trace(input):
    """The sum of the main diagonal of a matrix."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    return Diagonal.apply(input, 0, 0, 1).sum()


# --- triangles ---------------------------------------------------------------------------------------------
class Tril(Primitive):
    """The lower triangle (on and below diagonal k) of the last two dims; zeros elsewhere."""
    complex_grad = True

    @staticmethod
    def forward(ctx, x, diagonal=0):
        if x.ndim < 2:
            raise RuntimeError("tril: input tensor must have at least 2 dimensions")
        ctx.k = diagonal
        return ctx.xp.where(_tri_mask(ctx.xp, x.shape, diagonal), x, ctx.xp.zeros((), x.dtype))

    @staticmethod
    def backward(ctx, g):
        return Tril.apply(g, ctx.k)


class Triu(Primitive):
    """The upper triangle (on and above diagonal k) of the last two dims; zeros elsewhere."""
    complex_grad = True

    @staticmethod
    def forward(ctx, x, diagonal=0):
        if x.ndim < 2:
            raise RuntimeError("triu: input tensor must have at least 2 dimensions")
        ctx.k = diagonal
        return ctx.xp.where(_tri_mask(ctx.xp, x.shape, diagonal - 1), ctx.xp.zeros((), x.dtype), x)

    @staticmethod
    def backward(ctx, g):
        return Triu.apply(g, ctx.k)


def _tri_mask(xp, shape, k):
    """True on and below diagonal k of the last two dims (NOTE: where(), so inf * 0 never appears)."""
    rows, cols = shape[-2], shape[-1]
    return xp.arange(cols)[None, :] - xp.arange(rows)[:, None] <= k


register(OpSpec("tril", shapes=[((3, 4),), ((2, 4, 3),), ((0, 2),)], kwargs=({}, {"diagonal": -1}, {"diagonal": 2}),
                dtypes=("float32", "float64", "bool")),
         torch="tril", method="tril", inplace="tril_")(Tril)
register(OpSpec("triu", shapes=[((3, 4),), ((2, 4, 3),), ((1, 2, 2),)], kwargs=({}, {"diagonal": 1}, {"diagonal": -3}),
                dtypes=("float32", "float64", "int64")),
         torch="triu", method="triu", inplace="triu_")(Triu)


def _tri_indices(row, col, offset, dtype, device, lower):
    from ..._creation import _target_device
    dtype = dtype or _dtype.int64
    if dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"\"{'tril' if lower else 'triu'}_indices\" not implemented for "
                           f"'{_dtype.scalar_type_name(dtype)}'")
    dev = _target_device(device)
    xp = dev.backend.xp
    r, c = xp.indices((row, col)).reshape(2, -1)
    keep = (c - r <= offset) if lower else (c - r >= offset)
    return _wrap(xp.stack([r[keep], c[keep]]).astype(dtype.np), dev, dtype)


@public
def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, col) indices of the lower triangle of a row x col matrix, as a 2 x N tensor."""
    return _tri_indices(row, col, offset, dtype, device, True)


@public
def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, col) indices of the upper triangle of a row x col matrix, as a 2 x N tensor."""
    return _tri_indices(row, col, offset, dtype, device, False)


# --- specs -------------------------------------------------------------------------------------------------
def _diagonal_sample(g):
    x = g.values(g.shape(2, 4, 0, 4))
    d1 = g.dim(x.ndim)
    d2 = g.choice([d for d in range(x.ndim) if d != d1 % x.ndim])
    return (x,), {"offset": g.integers(-3, 3), "dim1": d1, "dim2": d2}


def _embed_sample(g):
    x = g.values(g.shape(1, 3, 0, 3))
    nd = x.ndim + 1
    d1 = g.dim(nd)
    d2 = g.choice([d for d in range(nd) if d != d1 % nd])
    return (x,), {"offset": g.integers(-2, 2), "dim1": d1, "dim2": d2}


def _diag_sample(g):
    return (g.values(g.shape(1, 2, 0, 4)),), {"diagonal": g.integers(-3, 3)}


_FLOATS = ("float32", "float64")
spec(OpSpec("diagonal", sample=_diagonal_sample, dtypes=_FLOATS + ("int64",)),
     OpSpec("diag_embed", sample=_embed_sample),
     OpSpec("diag", sample=_diag_sample, dtypes=_FLOATS + ("bool",), large=False),  # NOTE: n -> n x n
     OpSpec("diagflat", sample=lambda g: ((g.values(g.shape(0, 3, 0, 3)),), {"offset": g.integers(-2, 2)})),
     OpSpec("trace", shapes=[((3, 3),), ((2, 4),), ((0, 3),)], dtypes=_FLOATS + ("int32",)),
     OpSpec("tril_", shapes=[((3, 4),), ((2, 3, 3),)], kwargs=({}, {"diagonal": 1}),
            call=lambda torch, x, **kw: x.clone().tril_(**kw)),
     OpSpec("triu_", shapes=[((3, 4),), ((2, 3, 3),)], kwargs=({}, {"diagonal": -1}),
            call=lambda torch, x, **kw: x.clone().triu_(**kw)),
     OpSpec("tril_indices", grad=False, dtypes=("int64",), shapes=[((),)],
            call=lambda torch, x, **kw: torch.tril_indices(3, 4, **kw), kwargs=({}, {"offset": -1}, {"offset": 5})),
     OpSpec("triu_indices", grad=False, dtypes=("int64",), shapes=[((),)],
            call=lambda torch, x, **kw: torch.triu_indices(4, 3, **kw), kwargs=({}, {"offset": 1}, {"offset": -6})))
