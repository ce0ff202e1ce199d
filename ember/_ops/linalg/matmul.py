"""Matrix products: mm, mv, dot, bmm and matmul (with batching and broadcasting); complex operands
get conjugate-transposed gradients."""
import math

from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor
from .._linalg_util import mH
from .._registry import OpSpec, bind_method, public, register, spec, write_out


def _conj(t):
    return t.conj() if t.is_complex() else t


# NOTE: PyTorch names dtypes by their C++ type in these messages ("long int != float").
_C10 = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
        "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
        "bool": "bool", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _c10_name(x):
    name = x.dtype.name if hasattr(x.dtype, "name") else str(x.dtype)
    return _C10.get(name, name)


def _same_dtype(a, b, names=("m1", "m2")):
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected {names[0]} and {names[1]} to have the same dtype, but got: "
                           f"{_c10_name(a)} != {_c10_name(b)}")


def _product(result, a):
    # NOTE: NumPy multiplies bfloat16 in float32 and returns float32; PyTorch returns bfloat16.
    return result.astype(a.dtype, copy=False)


def check_mm(a, b):
    """PyTorch's refusals of mm(a, b) (arrays or Tensors)."""
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                           f"{b.shape[0]}x{b.shape[1]})")
    _same_dtype(a, b)


class Mm(Primitive):
    """Matrix product of two 2-D tensors."""
    batch_rule = ("matmul", (2, 2))
    complex_grad = True
    inputs = 2

    @staticmethod
    def forward(ctx, a, b):
        check_mm(a, b)
        # NOTE: each factor is saved only for the other's gradient, as in PyTorch
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        return _product(a @ b, a)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g.mm(mH(b)) if ctx.needs_input_grad[0] else None
        gb = mH(a).mm(g) if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        return _bilinear_tangent(Mm, ctx, ta, tb)


def _bilinear_tangent(cls, ctx, ta, tb):
    """Forward AD of a product bilinear in its two operands: ta·b + a·tb."""
    a, b = ctx.inputs
    left = None if ta is None else cls.apply(ta, b.to(ta.dtype))
    right = None if tb is None else cls.apply(a.to(tb.dtype), tb)
    return right if left is None else left if right is None else left + right


register(OpSpec("mm", arity=2, shapes=[((3, 4), (4, 5)), ((1, 3), (3, 1)), ((0, 2), (2, 3))],
                dtypes=("float32", "float64", "float16", "bfloat16", "complex64")),
         torch="mm", method="mm")(Mm)


class Dot(Primitive):
    """Inner product of two 1-D tensors."""
    batch_rule = ("matmul", (1, 1))
    complex_grad = True
    inputs = 2

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim != 1 or b.ndim != 1:
            raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
        if a.shape[0] != b.shape[0]:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] "
                               f"to have the same number of elements, but got {a.shape[0]} and {b.shape[0]} "
                               "elements respectively")
        if a.dtype != b.dtype:
            names = [_dtype.scalar_type_name(_dtype._BY_NP[x.dtype]) for x in (a, b)]
            raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {names[0]} and {names[1]}")
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        return _product(ctx.xp.dot(a, b), a)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (g * _conj(b) if need[0] else None), (g * _conj(a) if need[1] else None)


register(OpSpec("dot", arity=2, shapes=[((5,), (5,)), ((0,), (0,))]), torch="dot", method="dot")(Dot)


class Mv(Primitive):
    """Matrix-vector product."""
    batch_rule = ("matmul", (2, 1))
    complex_grad = True
    inputs = 2

    @staticmethod
    def forward(ctx, a, v):
        if a.ndim != 2 or v.ndim != 1:
            raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {v.ndim}")
        if a.shape[1] != v.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), "
                               f"vec ({v.shape[0]})")
        _same_dtype(a, v)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, v if ctx.needs_input_grad[0] else None)
        return _product(a @ v, a)

    @staticmethod
    def backward(ctx, g):
        a, v = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (g.unsqueeze(1) * _conj(v) if need[0] else None), (mH(a).mv(g) if need[1] else None)


register(OpSpec("mv", arity=2, shapes=[((3, 4), (4,))]), torch="mv", method="mv")(Mv)


class Matmul(Primitive):
    """Batched matrix product with broadcast batch dims (1-D operands promoted as in NumPy)."""
    batch_rule = ("matmul", None)
    complex_grad = True
    inputs = 2
    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, a, b):
        _same_dtype(a, b)
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            sa = "x".join(map(str, a.shape if a.ndim <= 2 else (-1,) + a.shape[-1:]))
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{', '.join(map(str, b.shape[:-2] + (ka,)))}] but got: "
                               f"[{', '.join(map(str, b.shape[:-1]))}]." if b.ndim > 2 and a.ndim > 2 else
                               f"mat1 and mat2 shapes cannot be multiplied "
                               f"({_mat(a)} and {_mat(b)})")
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        ctx.nd = (a.ndim, b.ndim)
        if ka == 1 and a.ndim >= 2 and b.ndim >= 2 and not (a.ndim > 2 and b.ndim == 2):
            # NOTE: an inner dim of 1 makes each product an outer product: a broadcast multiply computes it in
            # one pass (the same numbers: no sums), where matmul loops over the stack with tiny products.
            # vmap(grad) hits this in every Linear's weight gradient (a per-example g ⊗ x), ~15x faster.
            return _product(a * b, a)
        if a.ndim > 2 and b.ndim == 2:
            # NOTE: a stack of matrices times one matrix is one 2-D product over the stacked rows: BLAS
            # runs it ~3x faster than matmul's loop over the stack (every Linear on 3-D input)
            rows = a.reshape(math.prod(a.shape[:-1]), a.shape[-1])  # NOTE: not -1: that fails on empty shapes
            return _product(ctx.xp.matmul(rows, b).reshape(a.shape[:-1] + b.shape[-1:]), a)
        return _product(ctx.xp.matmul(a, b), a)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.nd
        a2 = a.unsqueeze(0) if na == 1 and a is not None else a
        b2 = b.unsqueeze(-1) if nb == 1 and b is not None else b
        g2 = g
        if na == 1:
            g2 = g2.unsqueeze(-2)
        if nb == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g2.matmul(mH(b2))
            ga = ga.squeeze(-2) if na == 1 else ga
        if ctx.needs_input_grad[1]:
            if na > 2 and nb == 2 and g.dim() == na:  # NOTE: one 2-D product over the stacked rows, as forward
                rows = math.prod(a.shape[:-1])
                gb = mH(a.reshape(rows, a.shape[-1])).matmul(g.reshape(rows, g.shape[-1]))
            else:
                gb = mH(a2).matmul(g2)
                gb = gb.squeeze(-1) if nb == 1 else gb
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        return _bilinear_tangent(Matmul, ctx, ta, tb)


def _mat(x):
    if x.ndim == 1:
        return f"1x{x.shape[0]}"
    rows = 1
    for s in x.shape[:-1]:
        rows *= s
    return f"{rows}x{x.shape[-1]}"


@public(method=True)
def matmul(input, other, *, out=None):
    """Matrix product: dot for 1-D, mm for 2-D, batched with broadcasting above."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor")
    na, nb = input._data.ndim, other._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    if na == 1 and nb == 1:
        result = Dot.apply(input, other)
    elif na == 2 and nb == 2:
        result = Mm.apply(input, other)
    elif na == 2 and nb == 1:
        result = Mv.apply(input, other)
    else:
        result = Matmul.apply(input, other)
    return result if out is None else write_out(out, result, "matmul")


bind_method("__matmul__", matmul)
bind_method("__rmatmul__", lambda self, other: matmul(other, self))
spec(OpSpec("matmul", arity=2, shapes=[((3,), (3,)), ((2, 3), (3, 4)), ((2, 3), (3,)), ((3,), (3, 2)),
                                       ((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((4,), (2, 4, 3)),
                                       ((2, 3, 4), (4,))], dtypes=("float32", "float64", "complex128")))


def check_bmm(input, mat2):
    """PyTorch's refusals of bmm(input, mat2) (Tensors)."""
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input._data.ndim != 3 else "batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")


@public(method=True)
def bmm(input, mat2, *, out=None):
    """Batched matrix product of two 3-D tensors with the same batch size."""
    check_bmm(input, mat2)
    result = Matmul.apply(input, mat2)
    return result if out is None else write_out(out, result, "bmm")


spec(OpSpec("bmm", arity=2, shapes=[((2, 3, 4), (2, 4, 5)), ((1, 0, 2), (1, 2, 3))]))
