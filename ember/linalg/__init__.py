"""torch.linalg: linear algebra (norms, inverses, decompositions, solvers)."""
from .._ops._linalg_util import LinAlgError
from .._ops.decomp import cholesky, cholesky_ex, det, inv, inv_ex, slogdet, solve
from .._ops.svd import eig, eigh, eigvals, eigvalsh, qr, svd, svdvals
from .._ops.tensor_linalg import tensorinv, tensorsolve, vander
from .._ops.norms import cond, cross_linalg as cross, matrix_norm, norm, vector_norm
from .._ops.solvers import (diagonal, lstsq, matmul, matrix_exp, matrix_power, matrix_rank, multi_dot, pinv,
                            solve_ex, solve_triangular, vecdot)
