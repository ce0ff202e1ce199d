"""The kernels PyTorch has for one layout only: native_norm (sparse COO) and Tensor.to_padded_tensor (nested
tensors, which ember does not have); and Tensor.chalf, which needs the complex32 dtype ember does not have."""
import builtins

from . import _dtype, _state
from ._ops._registry import bind_method, public
from .autograd.function import Primitive, not_implemented_backward


def _no_grad():
    from .autograd.grad_mode import no_grad
    return no_grad()


def _dispatch_key(t):
    """PyTorch's name for the kernel table a tensor of t's layout and device dispatches to ('CPU', 'SparseCPU')."""
    device = "CUDA" if t.device.type == "cuda" else "CPU"
    layout = str(getattr(t, "layout", "torch.strided"))
    prefix = {"torch.sparse_coo": "Sparse", "torch.strided": ""}.get(layout, "SparseCsr")
    return prefix + device


def _no_kernel(op, t):
    return NotImplementedError(
        f"Could not run '{op}' with arguments from the '{_dispatch_key(t)}' backend. This could be because the "
        "operator doesn't exist for this backend, or was omitted during the selective/custom build process (if "
        "using custom build). If you are a Facebook employee using PyTorch on mobile, please visit "
        "https://fburl.com/ptmfixes for possible resolutions. NOTE (ember): PyTorch runs it for nested tensors "
        "only, which ember does not have.")


def _to_padded_tensor(self, padding, output_size=None):
    """Nested tensors only: as PyTorch does for every other tensor, raises NotImplementedError (ember has no
    nested tensors, so no tensor of ember's has this kernel)."""
    raise _no_kernel("aten::to_padded_tensor", self)


class _NativeNorm(Primitive):
    """native_norm's node: the norm (computed beforehand, passed in) recorded as PyTorch records it."""
    node_name = "NotImplemented"  # NOTE: PyTorch records native_norm, and its backward refuses
    forward = staticmethod(lambda ctx, values, norm: norm)
    backward = not_implemented_backward("native_norm")


@public
def native_norm(input, p=2, dim=None, keepdim=False, dtype=None):
    """The p-norm of all the elements of a sparse COO tensor. As in PyTorch, a kernel for sparse COO tensors
    only: other tensors raise NotImplementedError; dim must be all dims (or empty), no keepdim, no dtype."""
    if str(getattr(input, "layout", "")) != "torch.sparse_coo":
        raise _no_kernel("aten::native_norm" if dim is None else "aten::native_norm.ScalarOpt_dim_dtype", input)
    if input.dtype.is_floating_point is False and not input.dtype.is_complex:
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{_dtype.scalar_type_name(input._dtype)} instead.")
    if keepdim:
        raise RuntimeError("norm_sparse currently does not support keepdim=True")
    if dtype is not None:
        raise RuntimeError("norm_sparse currently does not support 'dtype' argument")
    if dim is not None:
        from ._tensor import norm_dim
        dims = [norm_dim(d, input.dim()) for d in ([dim] if isinstance(dim, int) else dim)]
        if dims and sorted(dims) != list(builtins.range(input.dim())):
            raise RuntimeError("norm_sparse currently only supports full reductions, so 'dim' must either be empty "
                               "or contain all dimensions of the input")
    from ._ops.reduction.norms import vector_norm
    values = input.coalesce().values()
    with _no_grad():
        norm = vector_norm(values, p)
    if not (values.requires_grad and _state.local.grad_enabled):
        return norm
    return _NativeNorm.apply(values, norm._data)


def _chalf(self, memory_format=None):
    """Differs from PyTorch: ember has no complex32 (ComplexHalf) dtype (NumPy has no complex of two float16),
    so this raises NotImplementedError instead of returning a complex32 copy."""
    raise NotImplementedError("ember has no complex32 (ComplexHalf) dtype: Tensor.chalf() cannot make one; "
                              "use Tensor.cfloat() (complex64)")


for _name, _fn in (("to_padded_tensor", _to_padded_tensor), ("chalf", _chalf)):
    _fn.__name__ = _name
    bind_method(_name, _fn)
