"""Solves with triangular factors in PyTorch's older argument order: torch.cholesky_solve (a primitive, for
PyTorch's gradient) and torch.triangular_solve (composed from linalg.solve_triangular)."""
import warnings

from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor
from .._linalg_util import check_float, mH, type_name
from .._registry import OpSpec, public, spec, write_outs
from ..reduction.reduce import _return_type

TriangularSolveResult = _return_type("triangular_solve", ("solution", "cloned_coefficient"))


def require_tensors(name, *arguments):
    """PyTorch's TypeError for a tensor argument that is not a Tensor: arguments are (parameter name, value),
    in position order (PyTorch's own parameter names, which may differ from ember's)."""
    from ..._arguments import type_name
    for position, (arg, value) in enumerate(arguments, 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not {type_name(value)}")


def refuse_low_precision(kernel, *tensors):
    """PyTorch's NotImplementedError for a float16/bfloat16 operand of a LAPACK-backed kernel."""
    for t in tensors:
        if t._dtype.category == _dtype.FLOAT and t._dtype.itemsize == 2:
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(t)}'")


def _check_pair(name, b, A):
    """PyTorch's checks of a (b, A) pair for the cholesky/triangular solves."""
    if b._data.ndim < 2:
        if name == "triangular_solve":
            raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has "
                               f"{b._data.ndim} dimensions instead")
        raise RuntimeError(f"b should have at least 2 dimensions, but has {b._data.ndim} dimensions instead")
    if A._data.ndim < 2:
        raise RuntimeError(f"A should have at least 2 dimensions, but has {A._data.ndim} dimensions instead")
    if b._dtype is not A._dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {type_name(b)} and A of "
                           f"type {type_name(A)} instead.")
    m, n = A.shape[-2:]
    if m != n:
        raise RuntimeError(f"A must be batches of square matrices, but they are {m} by {n} matrices")
    if b.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for {name}: each A matrix is {n} by {n} but each b matrix is "
                           f"{b.shape[-2]} by {b.shape[-1]}")
    if A._dtype.category < _dtype.FLOAT:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{type_name(A)}'")
    refuse_low_precision(f"{name}_cpu", A)


# --- cholesky_solve --------------------------------------------------------------------------------------------
class CholeskySolve(Primitive):
    """X with (L L^H) X = B, or (U^H U) X = B when upper; only the named triangle of the factor is read.

    NOTE: a primitive rather than two triangular solves: PyTorch's gradient for the factor is the full
    matrix -(G X^H + X G^H) L (it is not masked to the triangle), and the generic test compares with it."""
    complex_grad = True
    inputs = 2
    node_name = "CholeskySolveBackward0"

    @staticmethod
    def forward(ctx, b, f, upper=False):
        xp = ctx.xp
        t = xp.triu(f) if upper else xp.tril(f)
        t_h = xp.conj(xp.swapaxes(t, -1, -2))
        first, second = (t_h, t) if upper else (t, t_h)
        batch = xp.broadcast_shapes(b.shape[:-2], f.shape[:-2])
        if b.size == 0 or f.size == 0:
            x = xp.zeros(batch + b.shape[-2:], dtype=b.dtype)
        else:
            first = xp.broadcast_to(first, batch + first.shape[-2:])
            second = xp.broadcast_to(second, batch + second.shape[-2:])
            x = xp.linalg.solve(second, xp.linalg.solve(first, xp.broadcast_to(b, batch + b.shape[-2:])))
        ctx.upper = upper
        ctx.save_for_backward(f, x)
        return x.astype(b.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        from ..._tensor import sum_to
        f, x = ctx.saved_tensors
        gb = CholeskySolve.apply(g, f, ctx.upper)
        gf = None
        if ctx.needs_input_grad[1]:
            common = gb @ mH(x)
            common = common + mH(common)
            gf = sum_to(-(f @ common) if ctx.upper else -(common @ f), f.shape)
        return sum_to(gb, ctx._in_meta[0][0]), gf


@public(method=True)
def cholesky_solve(input, input2, upper=False, *, out=None):
    """X with A X = input for A = L L^H given its Cholesky factor input2 (U^H U when upper)."""
    require_tensors("cholesky_solve", ("input", input), ("input2", input2))
    _check_pair("cholesky_solve", input, input2)
    result = CholeskySolve.apply(input, input2, bool(upper))
    from .._registry import write_out
    return result if out is None else write_out(out, result, "cholesky_solve")


# --- triangular_solve ------------------------------------------------------------------------------------------
@public(method=True)
def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """(solution, cloned_coefficient): X with A X = input (A^T X = input when transpose), A triangular,
    and a copy of A (deprecated in PyTorch in favour of linalg.solve_triangular)."""
    warnings.warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed "
                  "in a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not "
                  "return a copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced "
                  "with\nX = torch.linalg.solve_triangular(A, B).", UserWarning, stacklevel=2)
    _check_pair("triangular_solve", input, A)
    check_float("triangular_solve", A)
    from .solvers import solve_triangular
    coefficient = A.mT if transpose else A
    solution = solve_triangular(coefficient, input, upper=bool(upper) != bool(transpose),
                                unitriangular=bool(unitriangular))
    from ..._tensor import broadcast_shapes
    batch = tuple(broadcast_shapes(input.shape[:-2], A.shape[:-2]))
    clone = A.expand(*batch, *A.shape[-2:]).clone() if batch != tuple(A.shape[:-2]) else A.clone()
    return write_outs(out, TriangularSolveResult(solution, clone), "triangular_solve")


# --- specs -----------------------------------------------------------------------------------------------------
def _factor(g):
    from .decomp import _chol_factor
    return _chol_factor(g)


def _cholesky_solve_sample(g):
    from .decomp import _maybe_complex
    f = _maybe_complex(g, _factor(g))
    n = f.shape[-1]
    b = g.values((2,) * g.integers(0, 1) + (n, g.integers(1, 3)))
    return (_maybe_complex(g, b), f), {"upper": g.boolean()}


def _triangular_sample(g):
    # NOTE: b and A share their batch: PyTorch's forward-mode AD of triangular_solve fails on a broadcast one
    # ("Trying to set a forward gradient that has a different size"), which the forward-AD sweep would read
    f = _factor(g)
    n = f.shape[-1]
    batch = (2,) * g.integers(0, 1)
    b = g.values(batch + (n, g.integers(1, 3)))
    f = f + g.values(batch + (n, n)) * 0 if batch else f
    return (b, f), {"upper": g.boolean(), "transpose": g.boolean(), "unitriangular": g.integers(0, 3) == 0}


def _triangular_call(torch, b, A, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tuple(torch.triangular_solve(b, A, **kw))


# NOTE: no gradcheck for cholesky_solve: as PyTorch's, its gradient reaches the triangle the forward never reads
# (the generic test still compares it with PyTorch's)
spec(OpSpec("cholesky_solve", arity=2, sample=_cholesky_solve_sample, dtypes=("float32", "float64", "complex64"),
            gradcheck=False),
     OpSpec("triangular_solve", arity=2, sample=_triangular_sample, call=_triangular_call))
