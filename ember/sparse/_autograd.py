"""Autograd through sparse COO tensors, as PyTorch's: a sparse tensor may require grad (a leaf made with
requires_grad=True, or one built from values that require grad), and its gradient is a sparse tensor.

Each differentiable step is an autograd Function whose forward works on the raw structure (ember/_sparse.py)
and whose backward is written in ember's ops (so it is differentiable again). The gradient of a sparse input
follows PyTorch's masked semantics: where the op reads the input only at its specified positions
(to_dense, torch.sparse.mm/addmm/sum, values()), the gradient is given at the input's coalesced positions
only; the ops that act elementwise on the stored values (x * c, x + y, neg, clone, coalesce, to(dtype))
pass the incoming sparse gradient through. The gradient of the values a sparse tensor was built from is
the incoming gradient read at each stored position (a position stored twice gets it twice).
"""
from .. import _state
from .._sparse import SparseTensor, _make
from ..autograd.function import Function


def tracking(*tensors):
    """True when an op on these tensors must record the graph."""
    return _state.local.grad_enabled and any(getattr(t, "requires_grad", False) for t in tensors)


def dense_of(g):
    """A gradient as a dense tensor (differentiably)."""
    return g.to_dense() if isinstance(g, SparseTensor) else g


def gather(g, indices):
    """The dense-space gradient g read at each column of `indices`: the (nnz, *dense dims) values."""
    dense = dense_of(g)
    k, nnz = indices.shape
    if not k:
        return dense.unsqueeze(0).expand((nnz,) + tuple(dense.shape))
    return dense[tuple(indices[d] for d in range(k))]


def from_values(values, indices, shape, coalesced):
    """A sparse tensor of `values` (which may require grad: then it is recorded) at `indices`."""
    if tracking(values):
        return Build.apply(values, indices, tuple(shape), coalesced)
    return _make(indices, values, shape, coalesced)


def masked(g, like):
    """g (dense or sparse) at the coalesced positions of the sparse tensor `like`, as a sparse tensor."""
    mask = like.detach().coalesce()
    return from_values(gather(g, mask._idx), mask._idx, mask.shape, True)


class Build(Function):
    """sparse_coo_tensor(indices, values): the values' gradient is the sparse gradient at each position."""
    node_name = "SparseCooTensorWithDimsAndTensorsBackward0"

    @staticmethod
    def forward(ctx, values, indices, shape, coalesced):
        ctx.indices = indices
        return _make(indices, values.detach(), shape, coalesced)

    @staticmethod
    def backward(ctx, g):
        return gather(g, ctx.indices), None, None, None


class ToDense(Function):
    """to_dense(): the gradient masked to the input's positions (PyTorch's default), or all of it (as a
    sparse tensor of its nonzeros) with masked_grad=False."""
    node_name = "ToDenseBackward0"

    @staticmethod
    def forward(ctx, s, masked_grad):
        ctx.like, ctx.masked = s.detach(), masked_grad
        return s._raw_dense()

    @staticmethod
    def backward(ctx, g):
        if ctx.masked:
            return masked(g, ctx.like), None
        return g.to_sparse(ctx.like.sparse_dim()), None


class ToSparse(Function):
    """Tensor.to_sparse(): the dense gradient."""
    node_name = "ToSparseBackward0"

    @staticmethod
    def forward(ctx, x, sparse_dim):
        from .._sparse import _raw_to_sparse
        return _raw_to_sparse(x.detach(), sparse_dim)

    @staticmethod
    def backward(ctx, g):
        return dense_of(g), None


class Values(Function):
    """values() of a coalesced sparse tensor: its gradient is sparse, at the same positions."""
    node_name = "ValuesBackward0"

    @staticmethod
    def forward(ctx, s):
        ctx.like = s.detach()
        return s._vals.detach()  # NOTE: an alias, so that the graph is recorded on it, not on the stored values

    @staticmethod
    def backward(ctx, g):
        like = ctx.like
        return from_values(g, like._idx, like.shape, like._coalesced)


class Coalesce(Function):
    """coalesce(): the same tensor in the dense space, so the gradient passes through."""
    node_name = "CoalesceBackward0"

    @staticmethod
    def forward(ctx, s):
        return s.detach()._raw_coalesce()

    @staticmethod
    def backward(ctx, g):
        return g


class Identity(Function):
    """clone(): the gradient passes through."""
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, s):
        return s.detach().clone()

    @staticmethod
    def backward(ctx, g):
        return g


class Cast(Function):
    """to(dtype/device): the gradient cast back."""
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, s, args, kwargs):
        ctx.dtype, ctx.device = s.dtype, s.device
        return s.detach().to(*args, **kwargs)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.device).to(ctx.dtype), None, None


class Scale(Function):
    """sparse * c, sparse / c, -sparse (c a number or a 0-d tensor that does not require grad)."""

    @staticmethod
    def forward(ctx, s, factor, divide):
        ctx.factor, ctx.divide = factor, divide
        return s._raw_scale(factor, divide)

    @staticmethod
    def backward(ctx, g):
        return (g / ctx.factor if ctx.divide else g * ctx.factor), None, None


class Mul(Scale):
    node_name = "MulBackward0"


class Div(Scale):
    node_name = "DivBackward0"


class Neg(Scale):
    node_name = "NegBackward0"


class Add(Function):
    """sparse + alpha * sparse (sparse), or dense + alpha * sparse (dense): each input gets the gradient."""

    @staticmethod
    def forward(ctx, a, b, alpha, raw):
        ctx.alpha = alpha
        return raw(a.detach(), b.detach())

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * ctx.alpha), None, None


class AddSparse(Add):
    node_name = "AddBackward0"


class SubSparse(Add):
    node_name = "SubBackward0"


def scale(s, factor, kind):
    """s * factor (kind "mul"), s / factor ("div") or -s ("neg"), recorded when s requires grad."""
    if getattr(factor, "requires_grad", False) and _state.local.grad_enabled:
        # NOTE: refused rather than giving the factor no gradient
        raise NotImplementedError("ember multiplies a sparse tensor by a 0-d tensor that requires grad only "
                                  "under no_grad()")
    divide = kind == "div"
    if tracking(s):
        return {"mul": Mul, "div": Div, "neg": Neg}[kind].apply(s, factor, divide)
    return s._raw_scale(factor, divide)


class Transpose(Function):
    """t() / transpose of a 2-D sparse tensor's two sparse dims."""
    node_name = "TBackward0"

    @staticmethod
    def forward(ctx, s):
        return s.detach()._raw_t()

    @staticmethod
    def backward(ctx, g):
        return g.t()


class DenseGradMm(Function):
    """torch.mm(sparse, dense) (and @): unlike torch.sparse.mm, the sparse operand's gradient is the whole
    dense product g @ dense^T, as PyTorch's MmBackward0 gives it."""
    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, s, d):
        from . import mm
        ctx.s, ctx.d = s, d  # NOTE: the inputs themselves, so that backward is differentiable (create_graph)
        return mm(s.detach(), d.detach())

    @staticmethod
    def backward(ctx, g):
        from . import mm
        gs = g.mm(ctx.d.t().to(g.dtype)) if ctx.needs_input_grad[0] else None
        gd = mm(ctx.s.t(), g) if ctx.needs_input_grad[1] else None
        return gs, gd
