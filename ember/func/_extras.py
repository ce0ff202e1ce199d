"""torch.func's remaining transforms: functionalize, linearize, replace_all_batch_norm_modules_, debug_unwrap."""
import functools

from .._tensor import Tensor
from ._forward import _flatten, jvp

__all__ = ["functionalize", "linearize", "replace_all_batch_norm_modules_", "debug_unwrap"]

_REMOVE_HELP = (
    " Valid options are:\n"
    "     remove='mutations': all inplace and out= operators will be removed from the program, and replaced"
    " with their out-of-place equivalents.\n"
    "     remove='mutations_and_views': In addition to the above, all aliasing operators {view} will be"
    " replaced with their non-aliasing counterparts, {view}_copy.\n")


def functionalize(func, *, remove="mutations"):
    """A function computing what `func` computes, its in-place writes to its inputs included.

    NOTE: PyTorch traces func and replaces mutations (and with remove='mutations_and_views', views) by
    out-of-place ops, which only changes what a graph capture (make_fx) sees. ember has no such capture, so
    the returned function runs func as it is: same values, same writes into the inputs, same gradients."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}."
                           + _REMOVE_HELP)

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapped


def _describe_spec(spec):
    if spec is None:
        return "*"
    kind, n, subs = spec
    return f"{kind.__name__}[{', '.join(_describe_spec(s) for s in subs)}]"


def linearize(func, *primals):
    """(func(*primals), jvp_fn): jvp_fn(*tangents) is the jvp of func at primals along tangents.

    NOTE: PyTorch traces the jvp once and replays that graph; ember's jvp_fn runs jvp(func, primals, tangents)
    each call (same values; func runs again per call)."""
    flat_p, spec_p = _flatten(primals)
    for p in flat_p:
        if not isinstance(p, Tensor):  # NOTE: PyTorch's error: it makes each tangent with p.new_empty
            raise AttributeError(f"'{type(p).__name__}' object has no attribute 'new_empty'")
    output = func(*primals)

    def jvp_fn(*tangents):
        flat_t, spec_t = _flatten(tangents)
        if spec_t != spec_p:
            raise RuntimeError(f"Expected the tangents {_describe_spec(spec_t)} to have the same argspec as the "
                               f"primals {_describe_spec(spec_p)}")
        for i, (p, t) in enumerate(zip(flat_p, flat_t)):
            if isinstance(p, Tensor) and isinstance(t, Tensor):
                if t.shape != p.shape:
                    raise RuntimeError(f"tangent:{i} with shape {t.shape} in flattened pytree doesn't match the "
                                       f"shape {p.shape} of the corresponding primal.")
                if t.dtype != p.dtype:
                    raise RuntimeError(f"tangent:{i} with dtype {t.dtype} in flattened pytree doesn't match the "
                                       f"dtype {p.dtype} of the corresponding primal.")
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn


def replace_all_batch_norm_modules_(root):
    """Turn off running statistics in every BatchNorm module of root (in place): running_mean, running_var and
    num_batches_tracked become None, track_running_stats False. Returns root."""
    from ..nn.modules.batchnorm import _BatchNorm
    for module in root.modules():  # NOTE: modules() starts with root itself
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root


def debug_unwrap(tensor, *, recurse=True):
    """The tensor under a vmap-batched tensor (all of the batch, batch dim first); every level with recurse.
    For debugging only, as in PyTorch."""
    from ._batching.tensor import BatchedTensor
    while isinstance(tensor, BatchedTensor):
        tensor = tensor._value
        if not recurse:
            break
    return tensor
