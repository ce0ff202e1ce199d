"""torch.functional: the module PyTorch defines einsum, split, stft, norm, unique, meshgrid, ... in; here each name
is ember's own function (one op, one place), re-exported."""
from ._tensor import Tensor, broadcast_shapes  # noqa: F401
from .autograd._overrides import (handle_torch_function, has_torch_function, has_torch_function_unary,
                                  has_torch_function_variadic)  # noqa: F401
from .nn._functional_dispatch import boolean_dispatch  # noqa: F401

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors", "cartesian_prod",
           "block_diag", "cdist", "chain_matmul", "einsum", "istft", "lu", "norm", "meshgrid", "pca_lowrank",
           "split", "stft", "svd_lowrank", "tensordot", "unique", "unique_consecutive", "unravel_index"]


def __getattr__(name):
    # NOTE: the ops are published into the ember namespace when it finishes importing; look them up there
    if name in __all__:
        import ember
        value = getattr(ember, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ember.functional' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(__all__))

