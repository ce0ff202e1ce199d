"""Shared pieces of the linear-algebra ops: LinAlgError, PyTorch's input checks, named tuples and
the conjugate transpose."""
from .. import _dtype
from .reduction.reduce import _return_type


class LinAlgError(RuntimeError):
    """Raised when a linear-algebra routine fails on its input (singular, not positive-definite)."""


LinAlgError.__module__ = "torch.linalg"


def type_name(t):
    """PyTorch's short name of a tensor's dtype (Float, Long, ComplexDouble...)."""
    return _dtype.scalar_type_name(t._dtype)


def check_float(name, A, what="input"):
    """linalg ops take float32/64 and complex inputs only."""
    cat = A._dtype.category
    if cat < _dtype.FLOAT:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as {what}. Got {type_name(A)}")
    if A._dtype.itemsize < 4 and not A.is_complex():
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {type_name(A)}")


def check_matrix(name, A, square=True, what="A"):
    """At least 2-D; square in the last two dims when `square`."""
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions.")
    m, n = A._data.shape[-2:]
    if square and m != n:
        raise RuntimeError(f"{name}: {what} must be batches of square matrices, but they are {m} by {n} matrices")


def check_square_float(name, A):
    check_matrix(name, A)
    check_float(name, A)


def mH(t):
    """Conjugate transpose of the last two dims."""
    t = t.mT
    return t.conj() if t.is_complex() else t


def batch_prefix(batch_shape, flat_index):
    """PyTorch's "(Batch element i): " prefix for errors in a batched routine."""
    if not batch_shape:
        return ""
    return f"(Batch element {flat_index}): "


SlogdetResult = _return_type("linalg_slogdet", ("sign", "logabsdet"))
InvExResult = _return_type("linalg_inv_ex", ("inverse", "info"))
CholeskyExResult = _return_type("linalg_cholesky_ex", ("L", "info"))
QRResult = _return_type("linalg_qr", ("Q", "R"))
SVDResult = _return_type("linalg_svd", ("U", "S", "Vh"))
EighResult = _return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
EigResult = _return_type("linalg_eig", ("eigenvalues", "eigenvectors"))
SolveExResult = _return_type("linalg_solve_ex", ("result", "info"))
LstsqResult = _return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))


def zero_path(t):
    """Zeros shaped like t that still route a (zero) gradient to t, NaN or not."""
    from .._creation import zeros
    return t.where(zeros(t.shape, dtype=_dtype.bool, device=t.device), 0)


def _adjoint(self):
    """Conjugate transpose of the last two dims (a view, as x.mT.conj())."""
    return mH(self)


from ._registry import bind_method, public  # noqa: E402

bind_method("mH", property(_adjoint))
bind_method("adjoint", _adjoint)
public(_adjoint, name="adjoint")
