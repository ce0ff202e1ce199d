"""jacrev and jacfwd vectorized as PyTorch's are: one vmap over the rows (vjp) or columns (jvp) of the standard
basis, `chunk_size` rows or columns at a time, instead of one backward or forward pass per element.

- jacrev: the backward of the function's graph runs once per chunk with batched cotangents (each example of
  the vmap one row of the identity): the graph is recorded outside the vmap, so its backward formulas see
  unbatched saved tensors and batched gradients, and each op's batching rule keeps the rows apart.
- jacfwd: the function runs once per chunk under vmap with batched tangents (each example one column).

NOTE: the vectorized form is taken where it is exact and simple: no vmap around the transform and, for jacrev,
no outer transform that differentiates the Jacobian (its rows then keep their graph one by one, in
_reverse.py's loop). An op whose batching rule is missing still runs per example inside vmap, with PyTorch's
warning; where vmap cannot run the jvp at all (an op reading a batched tensor's raw data, forward-over-reverse
such as jacfwd(jacrev(f)), whose reverse pass works on physical values) jacfwd falls back to its loop.
"""
from .. import _state
from ..autograd import grad as _autograd_grad
from ..autograd.grad_mode import enable_grad
from ._vmap import vmap

from ._batching.random import DIFFERENT_UNBATCHED_INPLACE, ERROR_MODE, SAME_BATCHED

_RANDOMNESS_ERRORS = (ERROR_MODE, SAME_BATCHED, DIFFERENT_UNBATCHED_INPLACE)


def basis_chunks(flat, numels, chunk_size):
    """The rows of the identity over all elements of `flat` (tensors), chunk_size rows at a time: per chunk,
    one tensor per member of `flat`, shaped (rows,) + its shape."""
    total = sum(numels)
    step = total if chunk_size is None else max(1, min(chunk_size, total))
    ref = flat[0]
    for start in range(0, total, step):
        n = min(step, total - start)
        eye = ref.new_zeros((n, total))
        if n:
            from .._creation import arange
            rows = arange(n, device=ref.device)
            eye[rows, rows + start] = 1
        parts = eye.split(list(numels), 1) if len(flat) > 1 else (eye,)
        yield [p.reshape((n,) + tuple(t.shape)).to(t.dtype) for p, t in zip(parts, flat)]


def can_vectorize_jacrev(forward):
    """Whether jacrev may run its rows under one vmap (see the module's NOTE)."""
    if _state.vmap_depth or _state.fw_visible:
        return False
    return not forward.call.keeps_graph(forward.flat_out, True)


def jacrev_rows(forward, numels, chunk_size):
    """Per differentiated input, the vjps of every row of the identity, stacked: (total,) + input shape."""
    return vjp_rows(forward.flat_out, list(forward.flat_diff), numels, chunk_size)


def vjp_rows(outs, ins, numels, chunk_size=None):
    """Per input in `ins`, the vjps of `outs` (graph recorded outside any vmap) with every row of the identity
    over all their elements, stacked: (total,) + input shape (zeros where an output does not reach it)."""
    from .._ops.shape.join import cat
    pairs = [k for k, o in enumerate(outs) if o.requires_grad]

    def rows(*cts):
        if not pairs:
            return tuple(x.new_zeros(x.shape) for x in ins)
        with enable_grad():
            got = _autograd_grad([outs[k] for k in pairs], ins, [cts[k] for k in pairs], retain_graph=True,
                                 allow_unused=True)
        return tuple(x.new_zeros(x.shape) if g is None else g for g, x in zip(got, ins))

    parts = [vmap(rows)(*chunk) for chunk in basis_chunks(outs, numels, chunk_size)]
    if len(parts) == 1:
        return list(parts[0])
    return [cat([p[k] for p in parts]) for k in range(len(ins))]


def jacfwd_columns(push, leaves, randomness, chunk_size=None):
    """Per input leaf, per output leaf: the tangents of the output for every element of the input, as one
    tensor (input numel,) + output shape; None when vmap cannot run the function (raw data read).

    push(tangent_leaves) -> flat output tangents: one jvp of the function."""
    from .._ops.shape.join import cat
    numels = [x.numel() for x in leaves]
    chunks = []
    try:
        for chunk in basis_chunks(leaves, numels, chunk_size):
            chunks.append(vmap(lambda *ts: tuple(push(list(ts))), randomness=randomness)(*chunk))
    except RuntimeError as e:
        # NOTE: what vmap refuses by the function's randomness is the function's error; anything else it cannot
        # batch (a raw data read, forward-over-reverse through ember's physical graphs, BatchedTangentUnsupported)
        # is computed column by column instead, which raises again if the function itself is at fault
        if str(e) in _RANDOMNESS_ERRORS:
            raise
        return None
    per_output = [cat([c[k] for c in chunks]) if len(chunks) > 1 else chunks[0][k] for k in range(len(chunks[0]))]
    # NOTE: the columns of all leaves come in one basis: cut them per leaf
    result = []
    for k, tangents in enumerate(per_output):
        result.append(tangents.split(numels, 0))
    return [[result[k][i] for k in range(len(per_output))] for i in range(len(leaves))]
