"""torch.func.vmap: run a function written for one example on a whole batch, without a Python loop.

Design (functorch's, on ember's op boundary):
- Each batched input enters the function as a BatchedTensor (ember/func/_batching/tensor.py): a
  Tensor subclass holding the physical batch (batch dim first) and reporting the logical shape of one
  example. Each call of vmap is one level; a nested vmap wraps the BatchedTensors of the level below.
- Every op ends in `Primitive.apply`; while a vmap is active (one flag read there, nothing when none is),
  an op with batched operands runs by its family's batching rule on the physical values
  (ember/func/_batching/rules.py), and the results are wrapped again. Ops without a rule run once per
  example and warn once, so results are always those of a loop over the batch.
- NOTE: autograd records the physical ops, not logical ones (functorch records logical ones): simpler,
  and as fast. The price is that a gradient of batched outputs with respect to an UNBATCHED input would
  sum over the batch; `lift` makes an input batched at every active level first (an expand: no copy), so
  a gradient taken inside vmap (per-example gradients, `vmap(grad(f))`) is one per example.

A gradient transform works inside vmap with three helpers (identities when no vmap is active):
    x = lift(x).detach(); leaf = physical(x).requires_grad_()   # the physical leaf, one row per example
    out = physical(f(rewrap(leaf, x)))                          # f sees x's logical tensor
    g = rewrap(autograd.grad(out, leaf, ones_like(out))[0], x)  # each example's gradient, batched like x
Random ops follow `randomness=` (ember/func/_batching/random.py). Limits: ops without a rule (sort, topk,
BatchNorm, ...) loop over the examples, with PyTorch's warning.
"""
import functools
import threading

from .. import _state
from .._tensor import Tensor
from ._batching.random import ERROR_MODE
from ._batching.tensor import BatchedTensor, Level, batched, levels, physical

_RANDOMNESS = ("error", "different", "same")


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """torch.vmap: `func` mapped over dim `in_dims` of its inputs, the results stacked at `out_dims`.

    in_dims/out_dims: an int, None (not mapped / not stacked: the same for every example) or a nested
    tuple/list/dict matching the inputs/outputs. randomness: 'error' (random ops raise), 'same' (one draw
    shared by the batch) or 'different' (each example draws its own values).
    chunk_size: map that many examples at a time (None: all at once)."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        name = _name(func)
        if not args:
            raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                             "trying to vmap over a function with no inputs. The latter is unsupported.")
        if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
            raise ValueError(f"vmap({name}, in_dims={in_dims!r}, ...)(<inputs>): expected `in_dims` to be int or a "
                             f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        leaves = []  # (tensor, in_dim) of every mapped input, in order
        _match_dims(dims, args, leaves, name, in_dims)
        if not leaves:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        sizes = [t.shape[d] for t, d in leaves]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sizes} for the mapped dimension")
        size = sizes[0]
        if chunk_size is None or chunk_size >= size:
            return _run(func, name, args, kwargs, dims, size, randomness, out_dims)
        chunks = []
        for start in range(0, size, chunk_size):
            n = min(chunk_size, size - start)
            part = _map_leaves(args, dims, lambda t, d: t.narrow(d, start, n))
            chunks.append(_run(func, name, part, kwargs, dims, n, randomness, out_dims))
        return _join_chunks(chunks, out_dims)

    return wrapped


def _name(func):
    return getattr(func, "__name__", None) or repr(func)


def _match_dims(dims, value, leaves, name, in_dims):
    """Check `dims` against the structure of `value`, collecting (tensor, normalised dim) of mapped tensors."""
    if dims is None:
        return
    if isinstance(dims, int) and not isinstance(dims, bool):
        if isinstance(value, (tuple, list)):
            for v in value:
                _match_dims(dims, v, leaves, name, in_dims)
        elif isinstance(value, dict):
            for v in value.values():
                _match_dims(dims, v, leaves, name, in_dims)
        elif isinstance(value, Tensor):
            nd = value.dim()
            if not -nd <= dims < nd:
                raise ValueError(f"vmap({name}, in_dims={in_dims!r}, ...)(<inputs>): Got in_dim={dims} for some "
                                 f"input, but that input is a Tensor of dimensionality {nd} so expected in_dim to "
                                 f"satisfy -{nd} <= in_dim < {nd}.")
            leaves.append((value, dims + nd if dims < 0 else dims))
        else:
            raise ValueError(f"vmap({name}, in_dims={in_dims!r}, ...)(<inputs>): Got in_dim={dims} for an input but "
                             f"the input is of type {type(value)}. We cannot vmap over non-Tensor arguments, please "
                             "use None as the respective in_dim")
        return
    same = _same_structure(dims, value)
    if not same:
        raise ValueError(f"vmap({name}, in_dims={in_dims!r}, ...)(<inputs>): in_dims is not compatible with the "
                         f"structure of `inputs`. in_dims has structure {_structure(dims)} but inputs has structure "
                         f"{_structure(value)}.")
    if isinstance(dims, dict):
        for k in dims:
            _match_dims(dims[k], value[k], leaves, name, in_dims)
    else:
        for d, v in zip(dims, value):
            _match_dims(d, v, leaves, name, in_dims)


def _same_structure(dims, value):
    """Whether a tuple/list/dict of dims has the node type and length (keys) of `value`, as PyTorch's pytrees
    compare them (a list is not a tuple)."""
    for kind in (tuple, list):
        if isinstance(dims, kind):
            return isinstance(value, kind) and len(dims) == len(value)
    return isinstance(dims, dict) and isinstance(value, dict) and dims.keys() == value.keys()


def _structure(tree):
    """A short description of a pytree's structure for error messages (`*` for a leaf)."""
    if isinstance(tree, (tuple, list)):
        inner = ", ".join(_structure(t) for t in tree)
        return f"({inner},)" if isinstance(tree, tuple) and len(tree) == 1 else \
            (f"({inner})" if isinstance(tree, tuple) else f"[{inner}]")
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {_structure(v)}" for k, v in tree.items()) + "}"
    return "*"


def _map_leaves(value, dims, fn):
    """`value` with fn(tensor, dim) applied to each mapped tensor (dims already checked by _match_dims)."""
    if dims is None:
        return value
    if isinstance(dims, int):
        if isinstance(value, (tuple, list)):
            return _same_kind(value, [_map_leaves(v, dims, fn) for v in value])
        if isinstance(value, dict):
            return {k: _map_leaves(v, dims, fn) for k, v in value.items()}
        return fn(value, dims + value.dim() if dims < 0 else dims)
    if isinstance(dims, dict):
        return {k: _map_leaves(value[k], dims[k], fn) for k in value}
    return _same_kind(value, [_map_leaves(v, d, fn) for v, d in zip(value, dims)])


def _same_kind(seq, items):
    """A tuple, list or named tuple (torch.return_types.max, ...) like `seq`, holding `items`."""
    return type(seq)(*items) if hasattr(type(seq), "_fields") else type(seq)(items)


_DEPTH_LOCK = threading.Lock()


def _run(func, name, args, kwargs, dims, size, randomness, out_dims):
    stack = levels()
    stack.append(Level(size, randomness))
    level = len(stack)
    with _DEPTH_LOCK:
        _state.vmap_depth += 1
    try:
        inputs = _map_leaves(args, dims, lambda t, d: batched(t.movedim(d, 0), level))
        outputs = func(*inputs, **kwargs)
        return _unwrap_outputs(outputs, out_dims, level, size, name)
    finally:
        with _DEPTH_LOCK:
            _state.vmap_depth -= 1
        stack.pop()


def _unwrap_outputs(outputs, out_dims, level, size, name):
    def one(out, od):
        if od is None and not isinstance(out, Tensor):
            return out  # NOTE: anything may come back unstacked
        if not isinstance(out, Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(out)}. Did you "
                             "mean to set out_dims= to None for output?")
        is_batched = type(out) is BatchedTensor and out._level == level
        if od is None:
            if is_batched:
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
            return out
        value = out._value if is_batched else out.unsqueeze(0).expand((size,) + tuple(out.shape))
        return value.movedim(0, od)

    def walk(out, od):
        if isinstance(od, (int, type(None))) and not isinstance(od, bool):
            if isinstance(out, (tuple, list)):
                return _same_kind(out, [walk(o, od) for o in out])
            if isinstance(out, dict):
                return {k: walk(v, od) for k, v in out.items()}
            return one(out, od)
        same = _same_structure(od, out)
        if not same:
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims!r})(<inputs>): out_dims is not compatible with "
                             f"the structure of `outputs`. out_dims has structure {_structure(od)} but outputs has "
                             f"structure {_structure(out)}.")
        if isinstance(od, dict):
            return {k: walk(out[k], od[k]) for k in out}
        return _same_kind(out, [walk(o, d) for o, d in zip(out, od)])

    return walk(outputs, out_dims)


def _join_chunks(chunks, out_dims):
    """The chunks' outputs joined along their out_dims (an out_dim None output: the first chunk's)."""
    from .._ops.shape.join import cat

    def walk(parts, od):
        first = parts[0]
        if isinstance(first, (tuple, list)):
            ods = od if isinstance(od, (tuple, list)) else (od,) * len(first)
            return _same_kind(first, [walk([p[i] for p in parts], ods[i]) for i in range(len(first))])
        if isinstance(first, dict):
            return {k: walk([p[k] for p in parts], od[k] if isinstance(od, dict) else od) for k in first}
        return first if od is None else cat(parts, od)

    return walk(chunks, out_dims)


def check_random():
    """Called by every draw of ember's random sampling while a vmap is active. The public samplers resolve the
    vmap levels first (ember/func/_batching/random.py), so a level still active here is one that a sampler
    without that marking (an internal draw) reached: PyTorch's error in 'error' mode, and a refusal in
    'different' mode rather than one draw silently shared by the batch."""
    modes = {lvl.randomness for lvl in levels()}
    if "error" in modes:
        raise RuntimeError(ERROR_MODE)
    if "different" in modes:
        raise NotImplementedError("vmap: this random operation draws one sample for the whole batch in ember, "
                                  "so randomness='different' is not supported for it; use randomness='same' or "
                                  "draw the random values outside vmap")


def lift(t):
    """`t` batched at every active vmap level (expanded where it is not batched yet, without a copy).

    A gradient taken inside vmap differentiates the physical values: an input that is not batched at some
    level would receive the gradient summed over that level's batch, so `grad` lifts its inputs first."""
    for number, lvl in enumerate(levels(), 1):
        t = _lift_at(t, number, lvl.size)
    return t


def _lift_at(t, number, size):
    """`t` batched at level `number` too. NOTE: levels nest in order, the highest outside: a level below
    t's own goes inside them, around (or into) its value."""
    if type(t) is BatchedTensor:
        if t._level == number:
            return t
        if t._level > number:
            return batched(_lift_at(t._value, number, size), t._level)
    return batched(t.unsqueeze(0).expand((size,) + tuple(t.shape)), number)


def rewrap(value, like):
    """`value` (a physical tensor shaped like physical(like)) wrapped in the same levels as `like`."""
    chain = []
    while type(like) is BatchedTensor:
        chain.append(like._level)
        like = like._value
    for number in reversed(chain):
        value = batched(value, number)
    return value


__all__ = ["vmap", "lift", "rewrap", "physical"]
