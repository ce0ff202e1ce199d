"""torch.linalg: linear algebra (norms, inverses, decompositions, solvers)."""
from .._ops._linalg_util import LinAlgError
from .._ops.linalg.decomp import cholesky, cholesky_ex, det, inv, inv_ex, slogdet, solve
from .._ops.linalg.svd import eig, eigh, eigvals, eigvalsh, qr, svd, svdvals
from .._ops.linalg.householder import householder_product
from .._ops.linalg.ldl import ldl_factor, ldl_factor_ex, ldl_solve
from .._ops.linalg.lu import lu, lu_factor, lu_factor_ex, lu_solve
from .._ops.linalg.tensor_linalg import tensorinv, tensorsolve, vander
from .._ops.reduction.norms import cond, cross_linalg as cross, matrix_norm, norm, vector_norm
from .._ops.linalg.solvers import (diagonal, lstsq, matmul, matrix_exp, matrix_power, matrix_rank, multi_dot, pinv,
                            solve_ex, solve_triangular, vecdot)

from .._ops._guards import checked_function as _checked  # noqa: E402

# NOTE: PyTorch's TypeError (naming linalg_<op> and the argument) for a first argument that is not a Tensor.
for _name in ("cholesky", "cholesky_ex", "det", "inv", "inv_ex", "slogdet", "solve", "eig", "eigh", "eigvals",
              "eigvalsh", "qr", "svd", "svdvals", "tensorinv", "tensorsolve", "vander", "cond", "cross",
              "matrix_norm", "norm", "vector_norm", "diagonal", "lstsq", "matmul", "matrix_exp", "matrix_power",
              "matrix_rank", "pinv", "solve_ex", "solve_triangular", "vecdot", "lu", "lu_factor", "lu_factor_ex", "lu_solve",
              "householder_product", "ldl_factor", "ldl_factor_ex", "ldl_solve"):
    globals()[_name] = _checked(globals()[_name], "linalg_" + _name)
del _name
