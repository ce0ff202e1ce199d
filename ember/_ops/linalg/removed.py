"""The linear-algebra functions PyTorch removed in 1.9 and still binds to raise: torch.solve, eig, symeig,
lstsq, matrix_rank (and the Tensor methods solve, eig, symeig, lstsq). Each raises PyTorch's RuntimeError."""
from .._registry import bind

_REMOVED = "This function was deprecated since version 1.9 and is now removed."

# NOTE: the text after the common sentence, as PyTorch 2.13 words it (it names each replacement).
_ADVICE = {
    "solve": (
        ' `torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its arguments reversed and does not return the LU factorization.\n'
        '\n'
        'To get the LU factorization see `torch.lu`, which can be used with `torch.lu_solve` or `torch.lu_unpack`.\n'
        'X = torch.solve(B, A).solution should be replaced with:\n'
        'X = torch.linalg.solve(A, B)'
    ),
    "eig": (
        ' `torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real tensors mimicking complex tensors.\n'
        '\n'
        'L, _ = torch.eig(A) should be replaced with:\n'
        'L_complex = torch.linalg.eigvals(A)\n'
        '\n'
        'and\n'
        '\n'
        'L, V = torch.eig(A, eigenvectors=True) should be replaced with:\n'
        'L_complex, V_complex = torch.linalg.eig(A)'
    ),
    "symeig": (
        ' The default behavior has changed from using the upper triangular portion of the matrix by default to using the lower triangular portion.\n'
        '\n'
        'L, _ = torch.symeig(A, upper=upper) should be replaced with:\n'
        "L = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n"
        '\n'
        'and\n'
        '\n'
        'L, V = torch.symeig(A, eigenvectors=True) should be replaced with:\n'
        "L, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')"
    ),
    "lstsq": (
        ' `torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n'
        '`torch.linalg.lstsq` has reversed arguments and does not return the QR decomposition in the returned tuple (although it returns other information about the problem).\n'
        '\n'
        'To get the QR decomposition consider using `torch.linalg.qr`.\n'
        '\n'
        "The returned solution in `torch.lstsq` stored the residuals of the solution in the last m - n columns of the returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field 'residuals' of the returned named tuple.\n"
        '\n'
        'The unpacking of the solution, as in\n'
        'X, _ = torch.lstsq(B, A).solution[:A.size(1)]\n'
        'should be replaced with:\n'
        'X = torch.linalg.lstsq(A, B).solution'
    ),
    "matrix_rank": (
        '\n'
        "Please use the `torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'."
    ),
}


def _raise(name):
    raise RuntimeError(_REMOVED + _ADVICE[name])


# NOTE: PyTorch's own signatures, so a wrong call is Python's TypeError as in PyTorch; the bodies never
# look at their arguments (PyTorch's do not either), hence `_checked`: no tensor-argument guard.
def solve(input, A, *, out=None):
    """Removed from PyTorch in 1.9 (use torch.linalg.solve): raises RuntimeError."""
    _raise("solve")


def eig(self, eigenvectors=False, *, e=None, v=None):
    """Removed from PyTorch in 1.9 (use torch.linalg.eig): raises RuntimeError."""
    _raise("eig")


def symeig(input, eigenvectors=False, upper=True, *, out=None):
    """Removed from PyTorch in 1.9 (use torch.linalg.eigh): raises RuntimeError."""
    _raise("symeig")


def lstsq(input, A, *, out=None):
    """Removed from PyTorch in 1.9 (use torch.linalg.lstsq): raises RuntimeError."""
    _raise("lstsq")


def matrix_rank(input, tol=None, symmetric=False, *, out=None):
    """Removed from PyTorch in 1.9 (use torch.linalg.matrix_rank): raises RuntimeError."""
    _raise("matrix_rank")


for _fn in (solve, eig, symeig, lstsq, matrix_rank):
    _fn._checked = True
    bind(_fn.__name__, _fn, method=_fn is not matrix_rank)
del _fn
