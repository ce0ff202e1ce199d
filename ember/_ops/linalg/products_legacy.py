"""PyTorch's older matrix helpers kept for JIT compatibility (after products.py, whose addmv_ it binds as a function):
torch.frobenius_norm, nuclear_norm, chain_matmul, renorm (and Tensor.renorm/renorm_), and torch.addmv_."""
import warnings

from ..._tensor import Tensor
from .._registry import OpSpec, bind, bind_method, public, spec, write_out


def _out(result, out, name):
    return result if out is None else write_out(out, result, name)


@public
def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """sqrt of the sum of squares over dim (at most two dims); deprecated in PyTorch for linalg.vector_norm."""
    from ..reduction.norms import vector_norm
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead.")
    warnings.warn("at::frobenius_norm is deprecated and it is just left for JIT compatibility. It will be removed in "
                  "a future PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` instead",
                  UserWarning, stacklevel=2)
    return _out(vector_norm(input, 2.0, dims, keepdim), out, "frobenius_norm")


@public
def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """The sum of singular values over the last two dims (or the two dims given); deprecated in PyTorch."""
    from ..reduction.norms import matrix_norm
    if isinstance(dim, bool):  # NOTE: nuclear_norm(input, keepdim) is PyTorch's first overload
        dim, keepdim = None, dim
    warnings.warn("at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be removed in a "
                  "future PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead",
                  UserWarning, stacklevel=2)
    dims = (-2, -1) if dim is None else tuple(dim)
    return _out(matrix_norm(input, "nuc", dims, keepdim), out, "nuclear_norm")


@public
def chain_matmul(*matrices, out=None):
    """The product of the given 2-D matrices, left to right (deprecated in PyTorch for linalg.multi_dot)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=2)
    from ..._arguments import type_name
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    for i, m in enumerate(matrices):
        if not isinstance(m, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type_name(m)}")
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        if m._data.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m._data.ndim}, expected 2 instead.")
    result = matrices[0].clone() if len(matrices) == 1 else matrices[0]
    for m in matrices[1:]:
        result = result @ m
    return _out(result, out, "chain_matmul")


@public(method=True)
def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice along dim whose p-norm exceeds maxnorm is scaled to norm maxnorm (by maxnorm / (norm + 1e-7))."""
    from ..reduction.norms import vector_norm
    from ..._arguments import check_dim, is_number, type_name
    check_dim(dim, "renorm")
    if isinstance(dim, (list, tuple)):
        raise TypeError(f"renorm(): argument 'dim' (position 3) must be int, not {type_name(dim)}")
    for arg, pos, value in (("p", 2, p), ("maxnorm", 4, maxnorm)):
        if not is_number(value):
            raise TypeError(f"renorm(): argument '{arg}' (position {pos}) must be Number, not {type_name(value)}")
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {ndim} dimensions")
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    others = tuple(d for d in range(ndim) if d != dim % ndim)
    norm = vector_norm(input, p, others, True)
    # NOTE: the factor's own gradient counts (as in PyTorch's renorm backward); slices within maxnorm get 1
    factor = (maxnorm / (norm + 1e-7)).where(norm > maxnorm, norm.new_ones(()))
    return _out(input * factor.to(input.dtype), out, "renorm")


def _renorm_(self, p, dim, maxnorm):
    """In-place renorm."""
    # NOTE: computed from a clone, so the graph saves the clone and the write into self bumps no saved version
    return self.copy_(renorm(self.clone(), p, dim, maxnorm))


bind_method("renorm_", _renorm_)
bind("addmv_", Tensor.__dict__["addmv_"])


def _renorm_sample(g):
    x = g.values(g.shape(2, 3, 1, 4))
    return (x,), {"p": g.choice([1, 2, 3.5]), "dim": g.dim(x.ndim), "maxnorm": g.choice([0.5, 1.0, 5.0])}


def _quiet(fn):
    def call(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    return call


spec(OpSpec("renorm", sample=_renorm_sample),
     OpSpec("renorm_", dtypes=("float32",), grad=False, sample=_renorm_sample,
            call=lambda torch, x, **kw: x.detach().clone().renorm_(**kw)),
     OpSpec("frobenius_norm", sample=lambda g: ((g.values((2, 3, 2)),), {"dim": g.choice([1, (0, 2), [-1, -2]]),
                                                                         "keepdim": g.boolean()}),
            call=_quiet(lambda torch, x, **kw: torch.frobenius_norm(x, **kw))),
     OpSpec("nuclear_norm", sample=lambda g: ((g.values((g.integers(1, 2), 3, 2)),), {"keepdim": g.boolean()}),
            call=_quiet(lambda torch, x, **kw: torch.nuclear_norm(x, **kw)), rtol=1e-4),
     OpSpec("chain_matmul", sample=lambda g: (tuple(g.values((s, t)) for s, t in ((2, 3), (3, 1), (1, 2))), {}),
            call=_quiet(lambda torch, *ms: torch.chain_matmul(*ms))),
     OpSpec("addmv_", arity=3, shapes=[(2,), (2, 3), (3,)], grad=False,
            call=lambda torch, x, m, v: torch.addmv_(x.detach().clone(), m, v)))
