"""Householder reflectors, as LAPACK stores them: torch.geqrf (the QR factorisation in that form),
torch.linalg.householder_product / torch.orgqr (the Q they make) and torch.ormqr (multiplying by Q).
geqrf is a primitive with no gradient (as in PyTorch); the others are compositions of matrix
products over the k reflectors, so their gradients come from those."""
from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor
from .._linalg_util import type_name
from .triangular import refuse_low_precision, require_tensors
from .._registry import OpSpec, public, spec, write_out, write_outs
from ..reduction.reduce import _return_type

GeqrfResult = _return_type("geqrf", ("a", "tau"))


# --- geqrf -----------------------------------------------------------------------------------------------------
class Geqrf(Primitive):
    """(a, tau): R on and above a's diagonal, the reflectors' vectors below it, and their scales tau."""
    node_name = "GeqrfBackward0"
    batch_rule = None

    @staticmethod
    def forward(ctx, a):
        return _geqr2(ctx.xp, a)

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def _geqr2(xp, a):
    """LAPACK's unblocked Householder QR (geqr2/larfg) over a batch: each reflector H = I - tau v v^H,
    v = [1, x / (alpha - beta)], beta = -sign(Re alpha) |(alpha, x)|, so the factors are LAPACK's."""
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    k = min(m, n)
    count = 1
    for size in batch:
        count *= size
    r = a.reshape((count, m, n)).copy()
    tau = xp.zeros((count, k), dtype=a.dtype)
    cplx = a.dtype.kind == "c"
    for j in range(k):
        alpha = r[:, j, j].copy()
        x = r[:, j + 1:, j]
        xnorm = xp.sqrt((xp.abs(x) ** 2).sum(axis=1))
        # NOTE: nothing to annihilate (and a real alpha): LAPACK leaves the column as it is, tau = 0
        skip = (xnorm == 0) & ((alpha.imag == 0) if cplx else True)
        norm = xp.sqrt(xp.abs(alpha) ** 2 + xnorm ** 2)
        beta = xp.where(alpha.real >= 0, -norm, norm)
        safe_beta = xp.where(skip, 1, beta)
        t = (safe_beta - alpha) / safe_beta
        scale = 1 / xp.where(skip, 1, alpha - safe_beta)
        tau[:, j] = xp.where(skip, 0, t)
        r[:, j + 1:, j] = xp.where(skip[:, None], x, x * scale[:, None])
        r[:, j, j] = xp.where(skip, alpha, beta)
        if j + 1 < n:
            # NOTE: apply H^H = I - conj(tau) v v^H to the columns on the right
            v = r[:, j:, j].copy()
            v[:, 0] = 1
            c = r[:, j:, j + 1:]
            w = (xp.conj(v)[:, :, None] * c).sum(axis=1)
            r[:, j:, j + 1:] = c - xp.conj(tau[:, j])[:, None, None] * v[:, :, None] * w[:, None, :]
    return r.reshape(a.shape), tau.reshape(batch + (k,))


@public(method=True)
def geqrf(input, *, out=None):
    """(a, tau): the QR factorisation in LAPACK's form (R on and above the diagonal, reflectors below)."""
    if input._data.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if input._dtype.category < _dtype.FLOAT:
        raise NotImplementedError(f"\"geqrf_cpu\" not implemented for '{type_name(input)}'")
    refuse_low_precision("geqrf_cpu", input)
    return write_outs(out, GeqrfResult(*Geqrf.apply(input)), "geqrf")


# --- householder_product / orgqr -------------------------------------------------------------------------------
def _reflector(A, i):
    """The i-th Householder vector: 0 above row i, 1 at it, A's column i below it (a column, (..., m, 1))."""
    from ..._creation import zeros, ones
    from ..shape.join import cat
    m = A.shape[-2]
    batch = tuple(A.shape[:-2])
    parts = []
    if i:
        parts.append(zeros(batch + (i, 1), dtype=A.dtype, device=A.device))
    parts.append(ones(batch + (1, 1), dtype=A.dtype, device=A.device))
    if i + 1 < m:
        parts.append(A[..., i + 1:, i:i + 1])
    return cat(parts, -2) if len(parts) > 1 else parts[0]


def _apply_left(A, tau, C, order, conj):
    """C after the reflectors H_i = I - tau_i v_i v_i^H (conj: their adjoints) are applied from the left, in order."""
    if tau.shape[-1] == 0 or A.shape[-2] == 1:
        # NOTE: no reflector reads A (or tau): PyTorch still gives them (zero) gradients
        from .._linalg_util import zero_path
        C = C + (zero_path(A).sum() + zero_path(tau).sum()).to(C.dtype)
    for i in order:
        v = _reflector(A, i)
        t = tau[..., i:i + 1].unsqueeze(-1)
        t = t.conj() if conj and t.is_complex() else t
        C = C - (t * v) @ (v.mH @ C)
    return C


def householder_product(A, tau, *, out=None):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H with v_i from A's i-th column below
    the diagonal (1 on it); A is (m, n) with m >= n >= k."""
    _check_householder("torch.linalg.householder_product", A, tau)
    from ..._creation import eye
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    E = eye(m, n, dtype=A.dtype, device=A.device).expand(*A.shape[:-2], m, n)
    # NOTE: Q E = H_1 (H_2 (... (H_k E))): k rank-one updates of an (m, n) block
    Q = _apply_left(A, tau, E, range(k - 1, -1, -1), conj=False)
    return Q if out is None else write_out(out, Q, "linalg.householder_product")


def _check_householder(name, A, tau):
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if tau._data.ndim and n < tau.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if tau._data.ndim != A._data.ndim - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim equal to "
                           f"{tau._data.ndim} and input.ndim is equal to {A._data.ndim}")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
                           f"{list(tau.shape[:-1])}")
    if tau._dtype is not A._dtype:
        raise RuntimeError(f"{name}: tau dtype {type_name(tau)} does not match input dtype {type_name(A)}")
    if A._dtype.category < _dtype.FLOAT:
        raise NotImplementedError(f"\"orgqr_cpu\" not implemented for '{type_name(A)}'")
    refuse_low_precision("orgqr_cpu", A)


@public(method=True)
def orgqr(input, tau):
    """Alias of torch.linalg.householder_product."""
    require_tensors("orgqr", ("input", input), ("input2", tau))
    return householder_product(input, tau)


# --- ormqr -----------------------------------------------------------------------------------------------------
@public(method=True)
def ormqr(input, tau, other, left=True, transpose=False, *, out=None):
    """Q @ other (other @ Q when not left), Q^H instead when transpose; Q = H_1 ... H_k from input and tau."""
    require_tensors("ormqr", ("input", input), ("input2", tau), ("input3", other))
    _check_ormqr(input, tau, other, left)
    k = tau.shape[-1]
    forward, backward = range(k), range(k - 1, -1, -1)
    if left:
        # NOTE: Q C = H_1 (... (H_k C)); Q^H C = H_k^H (... (H_1^H C))
        result = _apply_left(input, tau, other, forward if transpose else backward, conj=transpose)
    else:
        # NOTE: C Q = (Q^H C^H)^H and C Q^H = (Q C^H)^H
        result = _apply_left(input, tau, other.mH, backward if transpose else forward, conj=not transpose).mH
    return result if out is None else write_out(out, result, "ormqr")


def _check_ormqr(input, tau, other, left):
    if input._data.ndim < 2:
        raise RuntimeError("torch.ormqr: input must have at least 2 dimensions.")
    if other._data.ndim < 2:
        raise RuntimeError("torch.ormqr: other must have at least 2 dimensions.")
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        raise RuntimeError(f"torch.ormqr: other.shape[{side}] must be equal to input.shape[-2]")
    if tau.shape[-1] != min(other.shape[side], input.shape[-1]):
        raise RuntimeError(f"torch.ormqr: tau.shape[-1] must be equal to min(other.shape[{side}], input.shape[-1])")
    if input._dtype is not other._dtype:
        raise RuntimeError(f"torch.ormqr: Expected input and other to have the same dtype, but input has dtype"
                           f"{type_name(input)} and other has dtype {type_name(other)}")
    if tau._dtype is not input._dtype:
        raise RuntimeError(f"torch.ormqr: Expected input and tau to have the same dtype, but input has dtype"
                           f"{type_name(input)} and tau has dtype {type_name(tau)}")
    refuse_low_precision("ormqr_cpu", input)


# --- specs -----------------------------------------------------------------------------------------------------
def _reflectors(g, full=False):
    """(A, tau) with m >= n >= k reflectors (k = n when full, as ormqr requires)."""
    from .decomp import _maybe_complex
    m = g.integers(1, 4)
    n = g.integers(1, m)
    a = _maybe_complex(g, g.values((2,) * g.integers(0, 1) + (m, n)))
    tau = _maybe_complex(g, g.values(a.shape[:-2] + (n if full else g.integers(0, n),), domain=(0.2, 1.8)))
    return a, tau


def _ormqr_sample(g):
    from .decomp import _maybe_complex
    a, tau = _reflectors(g, full=True)
    left = g.boolean()
    m = a.shape[-2]
    c = _maybe_complex(g, g.values(a.shape[:-2] + ((m, g.integers(1, 3)) if left else (g.integers(1, 3), m))))
    return (a, tau, c), {"left": left, "transpose": g.boolean()}


def _geqrf_sample(g):
    from .decomp import _maybe_complex
    return (_maybe_complex(g, g.values((2,) * g.integers(0, 1) + (g.integers(1, 4), g.integers(1, 4)))),), {}


_C = ("float32", "float64", "complex64")
spec(OpSpec("linalg.householder_product", arity=2, sample=lambda g: (_reflectors(g), {}), dtypes=_C, rtol=3e-4,
            call=lambda torch, A, tau: torch.linalg.householder_product(A, tau)),
     OpSpec("orgqr", arity=2, sample=lambda g: (_reflectors(g), {}), dtypes=("float64",)),
     # NOTE: float32 gradients lose ~1e-4 of the largest gradient to cancellation in both libraries' sums, so
     # a small element next to large ones is off by more than rtol of itself (CI drew 0.0028 on elements of 33)
     OpSpec("ormqr", arity=3, sample=_ormqr_sample, dtypes=_C, rtol=3e-4, atol={"float32": 1e-2, "complex64": 1e-2}),
     OpSpec("geqrf", sample=_geqrf_sample, dtypes=_C, grad=False, call=lambda torch, A: tuple(torch.geqrf(A))))
