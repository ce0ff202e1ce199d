"""torch.func's forward-mode transforms: jvp and jacfwd, on ember's dual tensors (autograd/forward_ad.py).

Each call of `jvp` opens its own dual level, so jvp nests (jvp of jvp gives second directional
derivatives): the inner level's tangents carry the outer level's, as torch.func's do.
jacfwd runs one jvp vmapped over the columns of the identity, as PyTorch's (ember/func/_vectorized.py), with
`randomness=` passed to that vmap; under an outer vmap, or where an op reads a batched tensor's raw data, it
runs one jvp per input element instead.
"""
from .. import _state
from .._tensor import Tensor
from ..autograd import forward_ad
from ._vectorized import jacfwd_columns

__all__ = ["jvp", "jacfwd"]


# --- python structures (PyTorch's pytrees: tuples, lists, dicts of tensors) ------------------------------
def _flatten(tree):
    """(leaves, spec): the leaves of nested tuples, lists and dicts, and how to rebuild them."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            sub, spec = _flatten(item)
            leaves += sub
            specs.append(spec)
        return leaves, (type(tree), len(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key in tree:
            sub, spec = _flatten(tree[key])
            leaves += sub
            specs.append(spec)
        return leaves, (dict, tuple(tree), specs)
    return [tree], None


def _unflatten(leaves, spec):
    it = iter(leaves)
    return _build(it, spec)


def _build(it, spec):
    if spec is None:
        return next(it)
    kind, keys, specs = spec
    items = [_build(it, s) for s in specs]
    if kind is dict:
        return dict(zip(keys, items))
    return kind(items) if kind is list else tuple(items)


def _describe(spec):
    """PyTorch's TreeSpec text for the error messages that show structures."""
    if spec is None:
        return "*"
    kind, keys, specs = spec
    inner = ",\n  ".join(_describe(s) for s in specs)
    name = {tuple: "tuple", list: "list", dict: "dict"}[kind]
    context = list(keys) if kind is dict else None
    return f"TreeSpec({name}, {context}, [{inner}])"


# --- jvp --------------------------------------------------------------------------------------------------
def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J·tangents) [, aux]: the output and its directional derivative along tangents.

    `strict` is accepted and unused, as in PyTorch 2.13."""
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be valid "
                           "to call f(*primals).")
    flat_p, spec_p = _flatten(primals)
    flat_t, spec_t = _flatten(tangents)
    if spec_p != spec_t:
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, tangents also must be. "
                           f"Got primals with structure {_describe(spec_p)} and tangents with structure "
                           f"{_describe(spec_t)}")
    for name, flat in (("primals", flat_p), ("tangents", flat_t)):
        for x in flat:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"jvp(f, primals, tangents): Expected {name} to only contain Tensors, got "
                                   f"{type(x)}")
    return _jvp(func, flat_p, spec_p, flat_t, has_aux)


def _jvp(func, flat_p, spec_p, flat_t, has_aux):
    if forward_ad.public_level_active():
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    level = forward_ad.push_level()
    try:
        duals = []
        for p, t in zip(flat_p, flat_t):
            if not (p.is_floating_point() or p.is_complex()):
                raise ValueError(f"Expected primal to be floating point or complex, but got: {p.dtype}")
            if not (t.is_floating_point() or t.is_complex()):
                raise ValueError(f"Expected tangent to be floating point or complex, but got: {t.dtype}")
            duals.append(forward_ad.make_dual_at(p, t, level))
        result = func(*_unflatten(duals, spec_p))
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError("jvp(f, primals, tangents): output of function f should be a tuple: "
                                   "(output, aux) if has_aux is True")
            result, aux = result
        flat_out, spec_out = _flatten(result)
        outs, tans = [], []
        for o in flat_out:
            if not isinstance(o, Tensor):
                raise RuntimeError("jvp(f, primals, tangents): expected f(*primals) to return only tensors, got "
                                   f"unsupported type {type(o)}")
            primal, tangent = forward_ad.unpack_dual(o, level=level)
            outs.append(primal)
            tans.append(tangent if tangent is not None else o.new_zeros(o.shape))
        if has_aux:
            aux = _unwrap_aux(aux, level)
    finally:
        forward_ad.pop_level(level)
    if has_aux:
        return _unflatten(outs, spec_out), _unflatten(tans, spec_out), aux
    return _unflatten(outs, spec_out), _unflatten(tans, spec_out)


def _unwrap_aux(aux, level):
    """aux as plain tensors: without the tangents of this jvp's level."""
    flat, spec = _flatten(aux)
    for x in flat:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    return _unflatten([forward_ad.unpack_dual(x, level=level).primal for x in flat], spec)


# --- jacfwd -----------------------------------------------------------------------------------------------
def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of func with respect to the arguments `argnums`, column by column in forward mode."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")

    def wrapper(*args):
        nums = _check_argnums(argnums, len(args))
        flat_args = [_flatten(args[n]) for n in nums]
        leaves = [leaf for flat, _ in flat_args for leaf in flat]
        base, spec_args = _flatten(args)
        positions = _leaf_positions(args, nums)

        def push(tangent_leaves):
            tangents = [x.new_zeros(x.shape) if isinstance(x, Tensor) else x for x in base]
            for pos, t in zip(positions, tangent_leaves):
                tangents[pos] = t
            return _jvp(func, base, spec_args, tangents, has_aux)

        zero_leaves = [x.new_zeros(x.shape) for x in leaves]
        first = push(zero_leaves)  # NOTE: the primal output (and aux) once, and the output structure
        out_flat, out_spec = _flatten(first[0])
        columns = None
        if not _state.vmap_depth and sum(x.numel() for x in leaves):
            # NOTE: all columns at once: one vmapped jvp over the identity's columns (ember/func/_vectorized.py)
            columns = jacfwd_columns(lambda ts: _flatten(push(ts)[1])[0], leaves, randomness)
        if columns is not None:
            per_output = [[_columns_to_block(columns[i][k], o, x) for i, x in enumerate(leaves)]
                          for k, o in enumerate(out_flat)]
            jac = _unflatten([_per_argnums(blocks, argnums, flat_args) for blocks in per_output], out_spec)
            return (jac, first[2]) if has_aux else jac
        columns = []  # per input leaf: per output leaf, the tangents (one per input element)
        for i, x in enumerate(leaves):
            cols = [[] for _ in out_flat]
            for j in range(x.numel()):
                basis = x.new_zeros(x.numel())
                basis[j] = 1
                ts = list(zero_leaves)
                ts[i] = basis.reshape(x.shape)
                tan_flat, _ = _flatten(push(ts)[1])
                for k, t in enumerate(tan_flat):
                    cols[k].append(t)
            columns.append(cols)
        per_output = []
        for k, o in enumerate(out_flat):
            blocks = []
            for i, x in enumerate(leaves):
                blocks.append(_stack_columns(columns[i][k], o, x))
            per_output.append(blocks)
        jac = _unflatten([_per_argnums(blocks, argnums, flat_args) for blocks in per_output], out_spec)
        return (jac, first[2]) if has_aux else jac
    return wrapper


def _columns_to_block(cols, out, x):
    """Tangents of `out` stacked over the elements of `x` ((x.numel(),) + out.shape) as out.shape + x.shape."""
    nd = out.dim()
    moved = cols.reshape((x.numel(),) + tuple(out.shape)).movedim(0, nd) if nd else cols.reshape((x.numel(),))
    return moved.reshape(tuple(out.shape) + tuple(x.shape))


def _stack_columns(cols, out, x):
    """The tangents of `out` for each element of `x`, as one tensor of shape out.shape + x.shape."""
    from .._ops.shape.join import stack
    if not cols:
        return out.new_zeros(tuple(out.shape) + tuple(x.shape))
    return stack(cols, dim=-1).reshape(tuple(out.shape) + tuple(x.shape))


def _per_argnums(blocks, argnums, flat_args):
    """One output's Jacobian blocks arranged as argnums asks: one argument's structure, or a tuple of them."""
    it = iter(blocks)
    per_arg = [_unflatten([next(it) for _ in flat], spec) for flat, spec in flat_args]
    return per_arg[0] if isinstance(argnums, int) else tuple(per_arg)


def _leaf_positions(args, nums):
    """Where the leaves of args[n] (n in nums) sit among the leaves of all args."""
    offsets = []
    start = 0
    for a in args:
        offsets.append(start)
        start += len(_flatten(a)[0])
    positions = []
    for n in nums:
        count = len(_flatten(args[n])[0])
        positions += list(range(offsets[n], offsets[n] + count))
    return positions


def _check_argnums(argnums, nargs):
    if isinstance(argnums, tuple):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        nums = argnums
    elif isinstance(argnums, int) and not isinstance(argnums, bool):
        nums = (argnums,)
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    out = []
    for n in nums:
        if not isinstance(n, int) or isinstance(n, bool):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not -nargs <= n < nargs:
            raise RuntimeError(f"Got argnum={n}, but only {nargs} positional inputs")
        out.append(n % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"argnums must be unique, got {argnums}")
    return out
