"""Randomised low-rank methods: torch.svd_lowrank and pca_lowrank (Halko, Martinsson and Tropp's range
finder with power iterations), and torch.lobpcg (block LOBPCG for a few extreme eigenpairs). Composed
from Tensor ops (randn, matmul, qr, svd, eigh), so svd_lowrank and pca_lowrank differentiate through them.
The random draws come from ember's generator: results agree with PyTorch's up to the subspace's signs
(exactly, for matrices of rank <= q), not bit for bit."""
from ... import _dtype
from ...autograd.function import Primitive
from .._linalg_util import mH
from .._registry import OpSpec, public, spec


# NOTE: PyTorch's three are Python code that leaks AttributeError for an A that is not a Tensor; ember's
# do the same (`_checked`: the tensor-argument guard of ember/_ops/_guards.py leaves them as they are).
def _approximate_basis(A, q, niter, M):
    """An orthonormal (m, q) basis Q with A ~ Q Q^H A, from a Gaussian sketch and niter power iterations."""
    from .svd import qr
    R = _gaussian((A.shape[-1], q), A)
    X = A @ R if M is None else A @ R - M @ R
    Q = qr(X).Q
    for _ in range(niter):
        X = mH(A) @ Q if M is None else mH(A) @ Q - mH(M) @ Q
        Q = qr(X).Q
        X = A @ Q if M is None else A @ Q - M @ Q
        Q = qr(X).Q
    return Q


def _gaussian(shape, like):
    """Standard normal samples in like's dtype; complex ones with independent parts of variance 1/2, as
    PyTorch's randn draws them."""
    from ..._random import randn
    if not like.is_complex():
        return randn(*shape, dtype=like.dtype, device=like.device)
    from ..pointwise.complex import Complex
    real = like.real.dtype
    parts = [randn(*shape, dtype=real, device=like.device) * 0.5 ** 0.5 for _ in range(2)]
    return Complex.apply(*parts)


def _svd_lowrank(A, q, niter, M):
    from .svd import svd
    m, n = A.shape[-2:]
    from .triangular import refuse_low_precision
    if A._dtype.name == "float16":  # NOTE: PyTorch's QR refuses half first (bfloat16 fails later, in matmul)
        refuse_low_precision("geqrf_cpu", A)
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:  # NOTE: work on A^H so the sketch's B = Q^H A stays small
        A = mH(A)
        M = mH(M) if M is not None else None
    Q = _approximate_basis(A, q, niter, M)
    B = mH(Q) @ A if M is None else mH(Q) @ A - mH(Q) @ M
    U, S, Vh = svd(B, full_matrices=False)
    V, U = mH(Vh), Q @ U
    return (V, S, U) if m < n else (U, S, V)


@public
def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) of a rank-q approximation of A (or of A - M), with A ~ U diag(S) V^H; randomised."""
    return _svd_lowrank(A, 6 if q is None else q, niter, M)


@public
def pca_lowrank(A, q=None, center=True, niter=2):
    """(U, S, V) of the principal components of A's rows (centred unless center=False); randomised."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (isinstance(q, int) and 0 <= q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if center:
        A = A - A.mean(-2, keepdim=True)
    return _svd_lowrank(A, q, niter, None)


# --- lobpcg ----------------------------------------------------------------------------------------------------
@public
def lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None, method=None,
           tracker=None, ortho_iparams=None, ortho_fparams=None, ortho_bparams=None):
    """(E, X): k extreme eigenvalues (largest unless largest=False) and eigenvectors of symmetric A
    (A X = B X diag(E) with a generalised B), by block LOBPCG with Rayleigh-Ritz on [X, R, P].

    Differences from PyTorch: one iteration scheme serves method 'basic' and 'ortho' (the results agree;
    the iteration counts may not), tracker and the ortho_* tuning parameters are accepted and ignored, and
    gradients reach A through the eigenvalues only: backward through the eigenvectors raises."""
    needs_grad = A.requires_grad  # NOTE: read first, as PyTorch does (a non-Tensor A fails here, AttributeError)
    if A.shape[-1] != A.shape[-2]:
        raise AssertionError(f"A must be square, got shape {A.shape}")
    size = A.shape[-1]
    k = (X.shape[-1] if X is not None else 1) if k is None else k
    block = (X.shape[-1] if X is not None else k) if n is None else n
    if size < 3 * block:
        raise ValueError(f"LOBPCG algorithm is not applicable when the number of A rows (={size}) is smaller than "
                         f"3 x the number of requested eigenpairs (={block})")
    largest = True if largest is None else largest
    niter = 1000 if niter is None else niter
    from ...autograd.grad_mode import no_grad
    with no_grad():
        E, V = _lobpcg(A.detach(), None if B is None else B.detach(), X, block, iK, niter, tol, largest)
    E, V = E[..., :k], V[..., :k]
    if needs_grad:
        # NOTE: each eigenvalue as the Rayleigh quotient of its (converged) eigenvector: d(lambda) = v^H dA v
        BV = V if B is None else B.detach() @ V
        E = ((mH(V) @ A @ V).diagonal(0, -2, -1) / (mH(V) @ BV).diagonal(0, -2, -1)).real
        V = _LobpcgVectors.apply(A, V._data)
    return E, V


class _LobpcgVectors(Primitive):
    """lobpcg's eigenvectors, recorded against A so that a gradient through them is refused, not dropped."""
    batch_rule = None

    @staticmethod
    def forward(ctx, a, vectors):
        return vectors.copy()

    @staticmethod
    def backward(ctx, g):
        if bool((g != 0).any()):
            raise NotImplementedError("ember: the gradient of lobpcg's eigenvectors is not implemented (its "
                                      "eigenvalues' gradient is)")
        return g.new_zeros(ctx._in_meta[0][0])


svd_lowrank._checked = pca_lowrank._checked = lobpcg._checked = True


def _lobpcg(A, B, X, block, iK, niter, tol, largest):
    from ..shape.join import cat
    size = A.shape[-1]
    batch = tuple(A.shape[:-2])
    if X is None:
        X = _gaussian(batch + (size, block), A)
    X = X.detach().to(A.dtype)
    tol = tol if tol is not None else _dtype.finfo(A.dtype).eps ** 0.5
    Bm = (lambda Y: Y) if B is None else (lambda Y: B @ Y)
    X = _b_orthonormal(X, Bm)
    E, X = _rayleigh_ritz(A, Bm, X, block, largest)
    P = None
    for _ in range(niter):
        R = A @ X - Bm(X) * E.unsqueeze(-2)
        norms = R.norm(dim=-2) / (A.norm(dim=(-2, -1)).unsqueeze(-1) * X.norm(dim=-2)).clamp_min(1e-300)
        if bool((norms < tol).all()):
            break
        W = R if iK is None else iK @ R
        basis = cat([X, W] + ([P] if P is not None else []), -1)
        basis = _b_orthonormal(basis, Bm)
        if basis.shape[-1] < block:
            break
        E_new, C = _rayleigh_ritz(A, Bm, basis, min(block, basis.shape[-1]), largest, coefficients=True)
        X_new = basis @ C
        P = X_new - X @ (mH(Bm(X)) @ X_new)
        X, E = X_new, E_new
    return E, X


def _b_orthonormal(Y, Bm):
    """Columns of Y made B-orthonormal, dropping those that are numerically dependent (an SVD of Y^H B Y)."""
    from .svd import eigh
    G = mH(Y) @ Bm(Y)
    G = (G + mH(G)) * 0.5
    w, Z = eigh(G)
    keep = w > w.amax(-1, keepdim=True) * _dtype.finfo(w.dtype).eps * Y.shape[-2] * 10
    # NOTE: the same count per batch element keeps the block rectangular; the smallest are dropped first
    count = int(keep.sum(-1).min())
    Z, w = Z[..., -count:], w[..., -count:]
    return Y @ (Z / w.sqrt().unsqueeze(-2).to(Z.dtype))


def _rayleigh_ritz(A, Bm, S, count, largest, coefficients=False):
    """The count extreme Ritz pairs of A on the B-orthonormal basis S (values ordered as PyTorch's)."""
    from .svd import eigh
    T = mH(S) @ A @ S
    w, C = eigh((T + mH(T)) * 0.5)
    if largest:
        w, C = w.flip(-1), C.flip(-1)
    w, C = w[..., :count], C[..., :count]
    return (w, C) if coefficients else (w, S @ C)


def _lowrank_matrix(g):
    m, n, r = g.integers(2, 6), g.integers(2, 6), g.integers(1, 2)
    return g.values((m, r)) @ g.values((r, n)) + 0 * g.values((m, n))


# NOTE: rank <= 2 <= q: only then are the singular values independent of the random sketch
spec(OpSpec("svd_lowrank", sample=lambda g: ((_lowrank_matrix(g),), {"q": g.integers(2, 3)}), dtypes=("float64",),
            grad=False, large=False, call=lambda torch, A, **kw: torch.svd_lowrank(A, **kw)[1][..., :1]),
     OpSpec("pca_lowrank", sample=lambda g: ((_lowrank_matrix(g),), {"center": False}), dtypes=("float64",),
            grad=False, large=False, call=lambda torch, A, **kw: torch.pca_lowrank(A, **kw)[1][..., :1]))
