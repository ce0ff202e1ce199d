"""Products composed from the matrix-product primitives: vdot, inner, outer/ger, kron, tensordot and
the fused forms addmm, addmv, addr, baddbmm, addbmm (beta * input + alpha * product)."""
from ..._tensor import Tensor
from ...autograd.function import Primitive
from ... import _dtype
from .._linalg_util import type_name, zero_path
from .matmul import Dot, Mm, Mv, bmm, check_bmm, check_mm
from .._registry import OpSpec, bind_method, public, spec, write_out


def _out(result, out, name):
    return result if out is None else write_out(out, result, name)


@public(method=True)
def vdot(input, other, *, out=None):
    """sum(conj(input) * other) of two 1-D tensors."""
    a = input.conj() if input.is_complex() else input
    return _out(Dot.apply(a, other), out, "vdot")


@public(method=True)
def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return _out(input.unsqueeze(1) * vec2, out, "outer")


@public(method=True)
def ger(input, vec2, *, out=None):
    """Alias of outer."""
    return outer(input, vec2, out=out)


@public(method=True)
def inner(input, other, *, out=None):
    """Sum of products over the last dims (a product with a scalar when either is 0-d)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return _out(input * other, out, "inner")
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return _out(tensordot(input, other, ([-1], [-1])), out, "inner")


@public(method=True)
def kron(input, other, *, out=None):
    """Kronecker product: every element of input times the whole of other, tiled."""
    nd = max(input._data.ndim, other._data.ndim)
    a = input.reshape((1,) * (nd - input._data.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other._data.ndim) + tuple(other.shape))
    a_shape, b_shape = [], []
    for sa, sb in zip(a.shape, b.shape):
        a_shape += [sa, 1]
        b_shape += [1, sb]
    prod = a.reshape(a_shape) * b.reshape(b_shape)
    return _out(prod.reshape([sa * sb for sa, sb in zip(a.shape, b.shape)]), out, "kron")


# --- tensordot -------------------------------------------------------------------------------------------------
def _tensordot_dims(a, b, dims):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a._data.ndim or dims > b._data.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(a._data.ndim - dims, a._data.ndim)), list(range(dims))
    da, db = dims
    da = [da] if isinstance(da, int) else list(da)
    db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    return [d % max(a._data.ndim, 1) for d in da], [d % max(b._data.ndim, 1) for d in db]


@public
def tensordot(a, b, dims=2, out=None):
    """Contract dims of a with dims of b (an int: the last `dims` of a with the first of b)."""
    if a._dtype is not b._dtype:
        raise RuntimeError("both inputs should have same dtype")
    da, db = _tensordot_dims(a, b, dims)
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} "
                               f"and second has size {b.shape[y]} in dim {y}")
    free_a = [d for d in range(a._data.ndim) if d not in da]
    free_b = [d for d in range(b._data.ndim) if d not in db]
    k = 1
    for d in da:
        k *= a.shape[d]
    left = a.permute(free_a + da).reshape(-1, k)
    right = b.permute(db + free_b).reshape(k, -1)
    shape = [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]
    return _out(left.mm(right).reshape(shape), out, "tensordot")


# --- beta * input + alpha * product ----------------------------------------------------------------------------
def _scaled_sum(input, product, beta, alpha):
    """beta * input + alpha * product, with input broadcast to product's shape; beta=0 ignores input."""
    _check_scalars(input, beta, alpha)
    base = input.expand(*product.shape)
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # NOTE: PyTorch ignores input (NaN included) but still routes a zero gradient to it
        return product + zero_path(base)
    return product + (base if beta == 1 else base * beta)


def _check_scalars(input, beta, alpha):
    if input._dtype.category < _dtype.FLOAT:
        for n, v in (("beta", beta), ("alpha", alpha)):
            if isinstance(v, float):
                raise RuntimeError(f"For integral input tensors, argument {n} must not be a floating point number.")


class AddmmLow(Primitive):
    """beta * input + alpha * (mat1 @ mat2) for float16/bfloat16 operands (2-D, or 3-D batches for baddbmm),
    as PyTorch's addmm/baddbmm kernels compute it: in float32, rounded once. NOTE: a primitive because the
    composition rounds the product before the sum (an ulp off in a third of the elements), and its backward
    rounds as PyTorch's does: each factor's gradient is the product rounded, then scaled by alpha."""
    upcast = True
    inputs = 3

    @staticmethod
    def forward(ctx, input, mat1, mat2, beta, alpha):
        ctx.beta, ctx.alpha = beta, alpha
        need = ctx.needs_input_grad
        ctx.save_for_backward(mat1 if need[2] else None, mat2 if need[1] else None)
        product = ctx.xp.matmul(mat1, mat2)
        if alpha != 1:
            product *= alpha
        if beta != 0:  # NOTE: beta=0 ignores input, NaN included, as PyTorch
            product += input if beta == 1 else beta * input
        return product

    @staticmethod
    def backward(ctx, g):
        mat1, mat2 = ctx.saved_tensors
        need = ctx.needs_input_grad
        beta, alpha = ctx.beta, ctx.alpha
        g_input = (g if beta == 1 else g * beta) if need[0] else None
        g1 = g.matmul(mat2.mT) if need[1] else None
        g2 = mat1.mT.matmul(g) if need[2] else None
        if alpha != 1:
            g1, g2 = (None if t is None else t * alpha for t in (g1, g2))
        return g_input, g1, g2


def _add_product(product, check, input, mat1, mat2, beta, alpha):
    """beta * input + alpha * product(mat1, mat2); float16/bfloat16 through AddmmLow (rounded once)."""
    low = (_dtype.float16, _dtype.bfloat16)
    if input._dtype in low and mat1._dtype is input._dtype and mat2._dtype is input._dtype:
        _check_scalars(input, beta, alpha)
        check(mat1, mat2)
        shape = tuple(mat1.shape[:-1]) + (mat2.shape[-1],)
        return AddmmLow.apply(input.expand(*shape), mat1, mat2, beta, alpha)
    return _scaled_sum(input, product(mat1, mat2), beta, alpha)


@public(method=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2)."""
    _dtype_check("addmm", input, mat1, mat2)
    for name, t in (("mat1", mat1), ("mat2", mat2)):
        if t.dim() != 2:
            raise RuntimeError(f"{name} must be a matrix, got {t.dim()}-D tensor")
    return _out(_add_product(Mm.apply, check_mm, input, mat1, mat2, beta, alpha), out, "addmm")


@public(method=True)
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec)."""
    _dtype_check("addmv", input, mat, vec)
    if mat.shape[-1] == 0 and beta != 0:
        # NOTE: PyTorch, with an empty inner dim, returns beta * input in input's own shape (0-d stays 0-d).
        return _out(input * beta + Mv.apply(mat, vec).sum() * 0, out, "addmv")
    return _out(_scaled_sum(input, Mv.apply(mat, vec), beta, alpha), out, "addmv")


@public(method=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2)."""
    return _out(_scaled_sum(input, outer(vec1, vec2), beta, alpha), out, "addr")


@public(method=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * bmm(batch1, batch2)."""
    _dtype_check("baddbmm", input, batch1, batch2)
    return _out(_add_product(bmm, check_bmm, input, batch1, batch2, beta, alpha), out, "baddbmm")


@public(method=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (sum over the batch of batch1[i] @ batch2[i])."""
    _dtype_check("addbmm", input, batch1, batch2)
    return _out(_scaled_sum(input, bmm(batch1, batch2).sum(0), beta, alpha), out, "addbmm")


def _dtype_check(name, input, a, b):
    if a._dtype is not b._dtype or input._dtype is not a._dtype:
        if name == "addmv":
            raise RuntimeError(f"addmv input tensors must have the same dtype, but got {type_name(input)}, "
                               f"{type_name(a)}, and {type_name(b)}")
        bad = b if a._dtype is input._dtype else a
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {type_name(input)} and {type_name(bad)}")


def _inplace(fn):
    def method(self, *args, **kwargs):
        return self.copy_(fn(self.clone(), *args, **kwargs))  # NOTE: clone: the product may save self
    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place version of {fn.__name__}."
    return method


for _fn in (addmm, addmv, addr, baddbmm, addbmm):
    bind_method(_fn.__name__ + "_", _inplace(_fn))


# --- specs -----------------------------------------------------------------------------------------------------
def _vecs(g, same=True):
    n = g.integers(0, 4)
    return (g.values((n,)), g.values((n if same else g.integers(0, 4),))), {}


def _inner_sample(g):
    k = g.integers(1, 3)
    a = g.values(g.shape(0, 2, 1, 3) + (k,)) if g.integers(0, 4) else g.values(())
    return (a, g.values(g.shape(0, 1, 1, 3) + (k,))), {}


def _tensordot_sample(g):
    a = g.values(g.shape(1, 3, 1, 3))
    ndim = a.ndim
    if g.boolean():
        d = g.integers(0, ndim)
        b = g.values(a.shape[ndim - d:] + g.shape(0, 1, 1, 3))
        return (a, b), {"dims": d}
    da = [ndim - 1] if g.boolean() else [0]
    b = g.values((a.shape[da[0]],) + g.shape(0, 1, 1, 3))
    return (a, b), {"dims": (da, [0])}


def _scaled(g, shape_fn):
    kw = g.choice([{}, {"beta": 0.5, "alpha": 2.0}, {"beta": 0}])
    ins, out_shape = shape_fn(g)
    bshape = out_shape[g.integers(0, len(out_shape)):] if g.boolean() else out_shape
    return (g.values(bshape),) + ins, kw


def _addmm_shapes(g):
    n, k, p = g.integers(1, 3), g.integers(0, 3), g.integers(1, 3)
    return (g.values((n, k)), g.values((k, p))), (n, p)


def _addmv_shapes(g):
    n, k = g.integers(1, 3), g.integers(0, 3)
    return (g.values((n, k)), g.values((k,))), (n,)


def _addr_shapes(g):
    n, p = g.integers(1, 3), g.integers(1, 3)
    return (g.values((n,)), g.values((p,))), (n, p)


def _bmm_shapes(g, summed=False):
    b, n, k, p = g.integers(1, 3), g.integers(1, 3), g.integers(0, 3), g.integers(1, 3)
    return (g.values((b, n, k)), g.values((b, k, p))), ((n, p) if summed else (b, n, p))


def _inplace_call(name):
    return lambda torch, x, *a, **kw: getattr(x.clone(), name + "_")(*a, **kw)


spec(OpSpec("vdot", arity=2, sample=_vecs, dtypes=("float32", "float64", "complex64")),
     OpSpec("outer", arity=2, sample=lambda g: _vecs(g, False), dtypes=("float32", "float64", "int64")),
     OpSpec("ger", dtypes=("float64",), arity=2, sample=lambda g: _vecs(g, False)),
     OpSpec("inner", arity=2, sample=_inner_sample),
     # NOTE: contiguous copies: torch.kron itself raises a view error on some transposed inputs
     OpSpec("kron", arity=2, sample=lambda g: ((g.values(g.shape(0, 3, 1, 3)).copy(),
                                                 g.values(g.shape(0, 2, 1, 3)).copy()), {}),
            dtypes=("float32", "float64", "int64")),
     OpSpec("tensordot", arity=2, sample=_tensordot_sample),
     OpSpec("addmm", arity=3, sample=lambda g: _scaled(g, _addmm_shapes)),
     OpSpec("addmv", arity=3, sample=lambda g: _scaled(g, _addmv_shapes)),
     OpSpec("addr", arity=3, sample=lambda g: _scaled(g, _addr_shapes)),
     OpSpec("baddbmm", arity=3, sample=lambda g: _scaled(g, _bmm_shapes)),
     OpSpec("addbmm", arity=3, sample=lambda g: _scaled(g, lambda g: _bmm_shapes(g, True))),
     OpSpec("addmm_", dtypes=("float64",), arity=3, sample=lambda g: _full(g, _addmm_shapes), call=_inplace_call("addmm")),
     OpSpec("addmv_", dtypes=("float64",), arity=3, sample=lambda g: _full(g, _addmv_shapes), call=_inplace_call("addmv")),
     OpSpec("addr_", dtypes=("float64",), arity=3, sample=lambda g: _full(g, _addr_shapes), call=_inplace_call("addr")),
     OpSpec("baddbmm_", dtypes=("float64",), arity=3, sample=lambda g: _full(g, _bmm_shapes), call=_inplace_call("baddbmm")),
     OpSpec("addbmm_", dtypes=("float64",), arity=3, sample=lambda g: _full(g, lambda g: _bmm_shapes(g, True)),
            call=_inplace_call("addbmm")))


def _full(g, shape_fn):
    """In-place forms need input of the full result shape."""
    ins, out_shape = shape_fn(g)
    return (g.values(out_shape),) + ins, g.choice([{}, {"beta": 0.5, "alpha": 2.0}])
