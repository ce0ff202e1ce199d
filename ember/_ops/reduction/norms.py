"""Norms and distances: torch.linalg.vector_norm, matrix_norm, norm, cond, torch.norm, dist, cdist,
and the cross product (torch.cross, torch.linalg.cross)."""
import math

from ... import _dtype
from ...autograd.function import Primitive, float32_backward
from ..._tensor import Tensor, norm_dims
from .._linalg_util import check_float, check_matrix, type_name
from .._registry import OpSpec, public, spec, write_out


def _out(result, out, name):
    return result if out is None else write_out(out, result, name)


# --- vector norm -----------------------------------------------------------------------------------------------
class VectorNorm(Primitive):
    """(sum |x|^p)^(1/p) over dims (max |x| for inf, min for -inf, count of nonzeros for 0)."""
    batch_rule = ("dim", (1,), 2)
    complex_grad = True
    upcast = True
    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, ord, dims, keepdim):
        xp = ctx.xp
        a = xp.abs(x)
        if ord == math.inf:
            out = a.max(axis=dims, keepdims=True)
        elif ord == -math.inf:
            out = a.min(axis=dims, keepdims=True)
        elif ord == 0:
            out = (a != 0).sum(axis=dims, keepdims=True).astype(a.dtype)
        elif ord == 1:
            out = a.sum(axis=dims, keepdims=True)
        elif ord == 2:
            out = xp.sqrt((a * a).sum(axis=dims, keepdims=True))
        else:
            out = (a ** ord).sum(axis=dims, keepdims=True) ** (1.0 / ord)
        ctx.args = (ord, dims, keepdim)
        result = out if keepdim else out.squeeze(axis=dims)
        # NOTE: the returned array is saved (so backward sees the output with its history, and double
        # backward differentiates through it); the keepdim shape comes back in backward
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        x, norm = ctx.saved_tensors
        ord, dims, keepdim = ctx.args
        if not keepdim:
            for d in sorted(dims):
                g, norm = g.unsqueeze(d), norm.unsqueeze(d)
        return _norm_grad(x, norm, g, ord, dims)


def _norm_grad(x, norm, g, p, dims):
    """PyTorch's subgradients: 0 where the norm is 0; max/min ties share the gradient evenly."""
    zero = norm == 0
    if p == 0:  # NOTE: PyTorch gives no gradient at all (autograd.grad then calls x unused)
        return None
    if p == 1:
        return x.sgn() * g
    if p == 2:
        return g * (x / norm).masked_fill(zero, 0)
    if math.isinf(p):
        a = x.abs()
        mask = ((a == norm) | (a != a)).to(x.dtype if not x.is_complex() else a.dtype)
        return x.sgn() * ((g / mask.sum(list(dims), keepdim=True)) * mask)
    if p < 1:
        scaled = x.sgn() * x.abs().pow(p - 1).masked_fill(x == 0, 0)
        return scaled * g * norm.pow(1 - p)
    scaled = x.sgn() * x.abs().pow(p - 1) if p < 2 else x * x.abs().pow(p - 2)
    return scaled * (g / norm.pow(p - 1)).masked_fill(zero, 0)


def _vector_dims(x, dim):
    nd = x._data.ndim
    if dim is None:
        return tuple(range(nd))
    if isinstance(dim, int):
        dim = (dim,)
    return tuple(norm_dims(tuple(dim), nd)) if nd else ()


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The vector p-norm of x over dim (all elements when dim is None)."""
    _check_float_or_half("linalg.vector_norm", x)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord}")
    if dtype is not None:
        x = x.to(dtype)
    dims = _vector_dims(x, dim)
    if x.numel() == 0 and ord < 0 or (x.numel() == 0 and math.isinf(ord)):
        if any(x.shape[d] == 0 for d in dims) or not dims:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
                               "operation does not have an identity")
    return _out(VectorNorm.apply(x, float(ord), dims, bool(keepdim)), out, "linalg.vector_norm")


def _check_float_or_half(name, x):
    """The norms that PyTorch computes for every floating dtype (float16/bfloat16 accumulate in float32)."""
    if x._dtype.category < _dtype.FLOAT:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {type_name(x)}")


# --- matrix norm -----------------------------------------------------------------------------------------------
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Frobenius, nuclear, max-row/column-sum (inf, 1) or spectral (2) norm of matrices."""
    check_matrix("linalg.matrix_norm", A, square=False)
    if ord in ("nuc", 2, -2):  # NOTE: only the singular-value norms refuse float16/bfloat16 in PyTorch
        check_float("linalg.matrix_norm", A)
    else:
        _check_float_or_half("linalg.matrix_norm", A)
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = norm_dims(tuple(dim), A._data.ndim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        result = vector_norm(A, 2, (d0, d1), keepdim)
    elif ord in ("nuc", 2, -2):
        result = _spectral(A, ord, d0, d1, keepdim)
    elif ord in (math.inf, -math.inf, 1, -1):
        result = _sum_norm(A, ord, d0, d1, keepdim)
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return _out(result, out, "linalg.matrix_norm")


def _sum_norm(A, ord, d0, d1, keepdim):
    summed, other = (d1, d0) if abs(ord) == math.inf else (d0, d1)
    sums = A.abs().sum(summed, keepdim=True)
    result = sums.amax(other, keepdim=True) if ord > 0 else sums.amin(other, keepdim=True)
    return result if keepdim else result.squeeze(max(d0, d1)).squeeze(min(d0, d1))


def _spectral(A, ord, d0, d1, keepdim):
    from ..linalg.svd import svdvals
    s = svdvals(A.movedim((d0, d1), (-2, -1)))
    result = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
    if keepdim:
        for d in sorted((d0, d1)):
            result = result.unsqueeze(d)
    return result


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """torch.linalg.norm: a vector norm over one dim (or all of a 1-D input), a matrix norm over two."""
    if dim is not None and not isinstance(dim, int) and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
    if dim is None and ord is not None:
        if A._data.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
        if A._data.ndim != 1:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                               f"Got {A._data.ndim}D.")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 2. Got {[dim] if isinstance(dim, int) else list(dim or [])}")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


@public(method=True, name="norm")
def _torch_norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm (legacy): 'fro' and numbers are vector norms; 'nuc' is the nuclear matrix norm."""
    if p == "nuc":
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype, out=out)
    if p == "fro":
        if dim is not None and not isinstance(dim, int) and len(dim) > 2:
            raise RuntimeError("Expected at most 2 dims for the Frobenius norm")
        p = 2
    return vector_norm(input, p, dim, keepdim, dtype=dtype, out=out)


def cond(A, p=None, *, out=None):
    """Condition number of A in the p-norm (2-norm through singular values when p is None)."""
    check_matrix("linalg.cond", A, square=p not in (None, 2, -2))
    if p in (None, 2, -2, "nuc") and A._dtype.itemsize < 4 and A._dtype.category == _dtype.FLOAT:
        raise NotImplementedError(f'"linalg_svd_cpu" not implemented for \'{type_name(A)}\'')
    check_float("linalg.inv" if p not in (None, 2, -2) else "linalg.cond", A)
    if A.numel() == 0:  # NOTE: PyTorch returns a fresh (graph-less) result for an empty batch
        return _out(A.detach().new_zeros(A.shape[:-2]).to(_real(A)), out, "linalg.cond")
    if p in (None, 2, -2):
        from ..linalg.svd import svdvals
        s = svdvals(A)
        result = s.amax(-1) / s.amin(-1) if p != -2 else s.amin(-1) / s.amax(-1)
    else:
        from ..linalg.decomp import inv
        result = matrix_norm(A, p) * matrix_norm(inv(A), p)
    return _out(result, out, "linalg.cond")


def _real(A):
    return A.real.dtype if A.is_complex() else A.dtype


# --- distances -------------------------------------------------------------------------------------------------
@public(method=True)
def dist(input, other, p=2):
    """The p-norm of input - other (broadcast)."""
    return vector_norm(input - other, p)


@public
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of x1 (.., P, M) and of x2 (.., R, M)."""
    if x1._data.ndim < 2 or x2._data.ndim < 2:
        which = "X1" if x1._data.ndim < 2 else "X2"
        raise RuntimeError(f"cdist only supports at least 2D tensors, {which} got: {min(x1._data.ndim, x2._data.ndim)}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if not x1.is_floating_point():
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {type_name(x1)}")
    if x1._dtype.itemsize < 4:
        raise NotImplementedError(f'"cdist" not implemented for \'{type_name(x1)}\'')
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == math.inf:
        return _inf_distance(diff)
    return vector_norm(diff, p, -1)


def _inf_distance(diff):
    """max |diff| over the last dim, where (unlike amax) every tied element gets the full gradient,
    as PyTorch's cdist backward gives it."""
    a = diff.abs()
    d = a.amax(-1, keepdim=True).detach()
    mask = (a == d).to(a.dtype)
    count = mask.sum(-1, keepdim=True)
    return ((a * mask).sum(-1, keepdim=True) - (count - 1) * d).squeeze(-1)


# --- cross product ---------------------------------------------------------------------------------------------
def _cross(a, b, dim):
    # NOTE: (a x b)_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}, indices mod 3: two rolls of each operand
    return a.roll(-1, dim) * b.roll(-2, dim) - a.roll(-2, dim) * b.roll(-1, dim)


def _linalg_cross(input, other, dim, name):
    from ..._tensor import broadcast_shapes
    if input._dtype is not other._dtype:
        raise RuntimeError(f"{name}: expected both inputs to have same dtype, but input has dtype "
                           f"{type_name(input)} and other has dtype {type_name(other)}")
    if input._data.ndim != other._data.ndim:
        raise RuntimeError(f"{name}: inputs must have the same number of dimensions.")
    nd = max(input._data.ndim, other._data.ndim)
    d = norm_dims((dim,), nd)[0] if nd else 0
    da = d - (nd - input._data.ndim)
    db = d - (nd - other._data.ndim)
    sa = input.shape[da] if 0 <= da < input._data.ndim else 1
    sb = other.shape[db] if 0 <= db < other._data.ndim else 1
    if sa != 3 or sb != 3:
        raise RuntimeError(f"{name}: inputs dimension {dim} must have length 3. Got {sa} and {sb}")
    shape = broadcast_shapes(input.shape, other.shape)
    return _cross(input.expand(*shape), other.expand(*shape), d)


def cross_linalg(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along dim (inputs broadcast)."""
    return _out(_linalg_cross(input, other, dim, "linalg.cross"), out, "linalg.cross")


@public(method=True, name="cross")
def _torch_cross(input, other, dim=None, *, out=None):
    """torch.cross: dim defaults to the first dim of size 3 (deprecated in PyTorch: pass dim)."""
    if dim is None:
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        from ..._tensor import broadcast_shapes
        shape = broadcast_shapes(input.shape, other.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return _out(_linalg_cross(input, other, dim, "linalg.cross"), out, "cross")


# --- specs -----------------------------------------------------------------------------------------------------
def _with_zeros(g, shape):
    a = g.values(shape)
    if a.size and g.boolean():  # NOTE: zeros and ties exercise the subgradient conventions
        a.reshape(-1)[:: max(1, a.size // 2)] = 0
    return a


def _vnorm_sample(g):
    shape = g.shape(1, 3, 1, 4)
    kw = {"ord": g.choice([2, 1, 3, 1.5, 0.5, math.inf, -math.inf, 0, -1])}
    if g.boolean():
        kw["dim"] = g.dim(len(shape))
        kw["keepdim"] = g.boolean()
    return (_with_zeros(g, shape),), kw


def _mnorm_sample(g):
    m, n = g.integers(1, 3), g.integers(1, 3)
    ord = g.choice(["fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2])
    a = g.values((g.integers(1, 2),) * g.integers(0, 1) + (m, n))
    if ord in ("nuc", 2, -2):
        from ..linalg.svd import _distinct_sv
        a = _distinct_sv(g)
    return (a,), {"ord": ord, "keepdim": g.boolean()}


def _norm_sample(g):
    kind = g.integers(0, 2)
    if kind == 0:
        return (g.values(g.shape(1, 3, 1, 3)),), {}
    if kind == 1:
        return (g.values((g.integers(1, 4),)),), {"ord": g.choice([1, 2, math.inf, 3])}
    return (g.values((2, 3)),), {"ord": g.choice(["fro", math.inf, 1]), "dim": (0, 1)}


def _cross_sample(g):
    shape = list(g.shape(1, 2, 1, 3))
    d = g.integers(0, len(shape) - 1)
    shape[d] = 3
    other = [1 if i != d and g.boolean() else s for i, s in enumerate(shape)]
    return (g.values(shape), g.values(other)), {"dim": d - len(shape)}


def _cdist_sample(g):
    m = g.integers(1, 3)
    batch = (2,) * g.integers(0, 1)
    x1 = g.values(batch + (g.integers(1, 3), m))
    x2 = g.values(batch + (g.integers(1, 3), m))
    if g.boolean():
        x2[..., :1, :] = x1[..., :1, :]  # a zero distance
    return (x1, x2), {"p": g.choice([2.0, 1.0, 3.0, math.inf, 0.5])}


spec(OpSpec("linalg.vector_norm", sample=_vnorm_sample, dtypes=("float32", "float64", "complex64"),
            rtol=1e-4, atol=1e-5,
            call=lambda torch, x, **kw: torch.linalg.vector_norm(x, **kw), gradcheck=False),
     OpSpec("linalg.vector_norm_smooth", sample=lambda g: ((g.values(g.shape(1, 3, 1, 4)),), {"ord": g.choice([2, 3, 1.5])}),
            dtypes=("float64",), call=lambda torch, x, **kw: torch.linalg.vector_norm(x, **kw)),
     OpSpec("linalg.matrix_norm", sample=_mnorm_sample, call=lambda torch, A, **kw: torch.linalg.matrix_norm(A, **kw)),
     OpSpec("linalg.norm", sample=_norm_sample, call=lambda torch, A, **kw: torch.linalg.norm(A, **kw)),
     # NOTE: torch.norm's specs live in stats.py (written against this implementation)
     OpSpec("linalg.cond", sample=lambda g: ((_cond_matrix(g),), {"p": g.choice([None, 2, -2, "fro", 1, math.inf])}),
            call=lambda torch, A, **kw: torch.linalg.cond(A, **kw)),
     OpSpec("dist", arity=2, sample=lambda g: ((_with_zeros(g, (3,)), _with_zeros(g, (2, 3))), {"p": g.choice([2, 1, 3])}),
            gradcheck=False),
     OpSpec("cdist", arity=2, sample=_cdist_sample, gradcheck=False),
     OpSpec("linalg.cross", arity=2, sample=_cross_sample, call=lambda torch, a, b, **kw: torch.linalg.cross(a, b, **kw)),
     OpSpec("cross", arity=2, sample=_cross_sample))


def _cond_matrix(g):
    from ..linalg.decomp import _invertible
    return _invertible(g)
