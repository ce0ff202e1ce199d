"""torch.func's reverse-mode transforms: grad, grad_and_value, vjp, jacrev, hessian.

PyTorch's functorch gives each transform a "level" and wraps tensors per level. ember does the same
job with the ordinary autograd graph:

- each differentiated argument gets a stand-in for the call: a fresh leaf (`x.detach()
  .requires_grad_()`) when `x` does not require grad, or `x.view_as(x)` when it does, so that the
  result stays connected to `x` for an outer transform or an outer `backward`;
- the gradient is taken with `autograd.grad` w.r.t. those stand-ins only (no `.grad` is touched);
- every tensor handed back to the caller is "unwrapped": it keeps its graph only when that graph
  reaches something from outside the call (an argument that requires grad, a captured tensor that
  does, an enclosing transform's stand-in) and grad mode was on when the transform was called;
  otherwise it is detached, as PyTorch's results are. The same test decides whether the backward
  needs `create_graph=True`, so a transform that nothing outside differentiates builds no second graph.

Nesting (grad(grad(f)), jacrev(grad(f)), a function that itself calls grad) needs nothing more: an
inner transform's arguments are the outer one's stand-ins, which require grad, so they are "outside".

Under vmap (vmap(grad(f)): per-example gradients), an argument is a BatchedTensor whose graph is recorded
on its physical value (the whole batch): the stand-in is made on the physical value after `lift` has
batched the argument at every active vmap level, the backward runs on physical outputs seeded with ones,
and each gradient is wrapped back (`rewrap`) in its argument's levels. Outside vmap all three are no-ops.

Under forward-mode AD (jvp(grad(f)), jacfwd(jacrev(f)): forward-over-reverse), an argument may carry
tangents, which `detach` drops: the stand-in and every detached result get their tangents back, and a
backward that carries tangents builds its graph (create_graph) so that the tangents flow through it.
"""
import functools

from .. import _state
from .._tensor import Tensor
from ..autograd import grad as _autograd_grad_fn
from ..autograd.grad_mode import enable_grad
from ..autograd.graph import AccumulateGrad
from ._vectorized import can_vectorize_jacrev, jacrev_rows
from ._vmap import lift, physical, rewrap

__all__ = ["grad", "grad_and_value", "vjp", "jacrev", "hessian"]


# ----------------------------------------------------------------------------------------------------
# pytrees: tuples, lists, dicts (and namedtuples) of tensors, as torch.utils._pytree sees them
# ----------------------------------------------------------------------------------------------------

class TreeSpec:
    """The shape of a pytree: a leaf (kind None) or a container kind with its keys and child specs."""

    __slots__ = ("kind", "context", "children")

    def __init__(self, kind=None, context=None, children=()):
        self.kind = kind          # None for a leaf, else the container's type (tuple, list, a dict or namedtuple type)
        self.context = context    # a dict's keys, in order
        self.children = children

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.kind == other.kind and self.context == other.context
                and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, tuple(self.children)))

    def __str__(self):
        """PyTorch's treespec_pprint: `*` for a leaf, `(*, *)`, `[*]`, `{'a': *}`."""
        if self.kind is None:
            return "*"
        inner = [str(c) for c in self.children]
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(self.context, inner)) + "}"
        if self.kind is list:
            return "[" + ", ".join(inner) + "]"
        if self.kind is tuple:
            return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
        return f"{self.kind.__name__}(" + ", ".join(inner) + ")"


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def tree_flatten(tree):
    """(leaves, spec): the leaves of `tree` in order, and what tree_unflatten needs to rebuild it."""
    leaves = []
    return leaves, _flatten_into(tree, leaves)


def _flatten_into(tree, leaves):
    # NOTE: as in torch.utils._pytree, None is a leaf (an output of None is reported as such).
    if isinstance(tree, dict):
        keys = list(tree)
        return TreeSpec(type(tree), keys, [_flatten_into(tree[k], leaves) for k in keys])
    if _is_namedtuple(tree):
        return TreeSpec(type(tree), None, [_flatten_into(v, leaves) for v in tree])
    if type(tree) in (tuple, list):
        return TreeSpec(type(tree), None, [_flatten_into(v, leaves) for v in tree])
    leaves.append(tree)
    return TreeSpec()


def tree_unflatten(leaves, spec):
    """The pytree of shape `spec` whose leaves are `leaves` (in order)."""
    it = iter(leaves)
    return _build(spec, it)


def _build(spec, it):
    if spec.kind is None:
        return next(it)
    values = [_build(c, it) for c in spec.children]
    if issubclass(spec.kind, dict):
        return spec.kind(zip(spec.context, values))
    if spec.kind in (tuple, list):
        return spec.kind(values)
    return spec.kind(*values)


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


# ----------------------------------------------------------------------------------------------------
# argnums
# ----------------------------------------------------------------------------------------------------

def _wrap_argnum(argnum, num_args):
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if -num_args <= argnum < num_args:
        return argnum % num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def _check_argnums(argnums, num_args):
    """argnums (an int or a non-empty tuple of distinct ints) with negative positions made positive."""
    if isinstance(argnums, int):
        return _wrap_argnum(argnums, num_args)
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    wrapped = tuple(_wrap_argnum(a, num_args) for a in argnums)
    if not wrapped:
        raise RuntimeError("argnums must be non-empty")
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return wrapped


def _positions(argnums):
    return (argnums,) if isinstance(argnums, int) else argnums


# ----------------------------------------------------------------------------------------------------
# one transform call: stand-ins in, unwrapped results out
# ----------------------------------------------------------------------------------------------------

class _Call:
    """The bookkeeping of one transform call: its stand-in leaves, and the outer grad mode."""

    def __init__(self):
        self.outer_grad = _state.local.grad_enabled
        self._inner = {}     # id -> the fresh leaves made here (held, so the ids stay valid)
        self._views = {}     # id(stand-in view) -> (the view, the argument it stands for)
        self._clean = set()  # graph nodes already known to reach nothing outside this call

    def stand_in(self, x):
        """The differentiable tensor that replaces argument `x` inside the call."""
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if not (x.is_floating_point() or x.is_complex()):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        # NOTE: inside vmap, the argument is first made batched at every active level (lift), and the
        # gradient is taken w.r.t. its physical value, so that each example gets its own gradient.
        lifted = lift(x)
        value = physical(lifted)
        if value.requires_grad:
            # NOTE: a view keeps the result connected to x (an outer transform's stand-in or a tensor
            # an outer backward will differentiate), and autograd.grad w.r.t. the view stops there.
            inner = value.view_as(value)
            stand_in = rewrap(inner, lifted)
            self._views[id(stand_in)] = (stand_in, x)
            return stand_in
        leaf = value.detach().requires_grad_()
        self._inner[id(leaf)] = leaf
        return rewrap(_with_tangents_of(value, leaf), lifted)

    def reaches_outside(self, t):
        """Whether t's graph reaches a tensor from outside this call (so an outer level may differentiate it)."""
        t = physical(t)
        if not isinstance(t, Tensor) or not t.requires_grad:
            return False
        if t.grad_fn is None:
            return id(t) not in self._inner
        seen = set()
        stack = [t.grad_fn]
        while stack:
            node = stack.pop()
            if node in seen or node in self._clean:
                continue
            seen.add(node)
            if isinstance(node, AccumulateGrad):
                leaf = node.variable
                if leaf is not None and id(leaf) not in self._inner:
                    return True
                continue
            stack.extend(nxt for nxt, _ in node.next_functions if nxt is not None)
        # NOTE: only a walk that found nothing may be remembered: an early return saw part of the graph.
        self._clean |= seen
        return False

    def keeps_graph(self, tensors, grad_mode=None):
        """Whether results computed from `tensors` must stay differentiable after the call.

        grad_mode: the caller's grad mode the results go back to (the one at the call by default)."""
        grad_mode = self.outer_grad if grad_mode is None else grad_mode
        return grad_mode and any(self.reaches_outside(t) for t in tensors)

    def unwrap_aux(self, aux):
        """has_aux's second output, unwrapped: a pytree of tensors only, as PyTorch requires."""
        for leaf in tree_flatten(aux)[0]:
            if not isinstance(leaf, Tensor):
                raise RuntimeError(f"Expected tensors, got unsupported type {type(leaf)}")
        return self.unwrap(aux)

    def unwrap(self, tree, grad_mode=None):
        """The pytree with every tensor that must not stay differentiable detached."""
        def one(t):
            if not isinstance(t, Tensor) or not t.requires_grad:
                return t
            if not self.keeps_graph([t], grad_mode):
                # NOTE: the tangents (forward-over-reverse) are results of this call too
                return _with_tangents_of(t, t.detach(), lambda tangent: self.unwrap(tangent, grad_mode))
            if id(t) in self._views:  # NOTE: an argument handed back is the caller's own tensor
                return self._views[id(t)][1]
            return t
        return tree_map(one, tree)


def _tangents(t):
    """t's forward-mode tangents, by dual level (autograd/forward_ad.py keeps them in the `_fw` slot)."""
    return getattr(physical(t), "_fw", None) or {}


def _with_tangents_of(t, detached, fit=None):
    """`detached` (t.detach(), which drops tangents) given t's tangents back (each through `fit`):
    forward-over-reverse (jvp(grad(f)), jacfwd(jacrev(f))) needs them."""
    tangents = _tangents(t)
    if not tangents:
        return detached
    from ..autograd.forward_ad import make_dual_at  # NOTE: here only: tangents exist only under forward AD
    for level, tangent in sorted(tangents.items()):
        detached = make_dual_at(detached, tangent if fit is None else fit(tangent), level)
    return detached


def _grads(outputs, inputs, cotangents, retain_graph, create_graph):
    """autograd.grad of the outputs that require grad (a cotangent of None: ones); zeros for inputs they
    do not reach. Inside vmap it works on the physical values: every example's gradient at once."""
    pairs = []
    for o, c in zip(outputs, cotangents):
        if o.requires_grad:
            o = physical(lift(o))
            pairs.append((o, o.new_ones(o.shape) if c is None else physical(lift(c))))
    values = [physical(x) for x in inputs]
    if not pairs:
        return tuple(x.new_zeros(x.shape) for x in inputs)
    outs, cts = zip(*pairs)
    got = _autograd_grad_fn(outs, values, cts, retain_graph=retain_graph, create_graph=create_graph,
                            allow_unused=True)
    return tuple(x.new_zeros(x.shape) if g is None else rewrap(g, x) for g, x in zip(got, inputs))


def _replace_args(args, argnums, call):
    """(new args, the differentiated pytree): the arguments at argnums replaced by stand-ins."""
    positions = _positions(argnums)
    new_args = list(args)
    for i in positions:
        new_args[i] = tree_map(call.stand_in, args[i])
    diff = new_args[argnums] if isinstance(argnums, int) else tuple(new_args[i] for i in argnums)
    return tuple(new_args), diff


# ----------------------------------------------------------------------------------------------------
# grad and grad_and_value
# ----------------------------------------------------------------------------------------------------

def grad_and_value(func, argnums=0, has_aux=False):
    """A function computing (gradient of func w.r.t. the args at argnums, func's value); with has_aux,
    func returns (value, aux) and the result is (gradient, (value, aux))."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _grad_and_value(func, argnums, has_aux, args, kwargs)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function computing the gradient of func (a scalar) w.r.t. the args at argnums
    (and returning (gradient, aux) when has_aux)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradient, value = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (gradient, value[1]) if has_aux else gradient
    return wrapper


def _grad_and_value(func, argnums, has_aux, args, kwargs):
    call = _Call()
    with enable_grad():
        argnums = _check_argnums(argnums, len(args))
        new_args, diff = _replace_args(args, argnums, call)
        output = func(*new_args, **kwargs)
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError("grad_and_value(f)(*args): output of function f should be a tuple: "
                                   "(output, aux) if has_aux is True")
            output, aux = output
        if not isinstance(output, Tensor):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(output)}")
        if output.dim() != 0:
            raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor "
                               f"with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
        flat_diff, spec = tree_flatten(diff)
        # NOTE: a backward that carries forward-mode tangents needs the graph of its own ops
        create_graph = call.keeps_graph([output]) or bool(_tangents(output))
        flat_grads = _grads([output], flat_diff, [None], retain_graph=create_graph, create_graph=create_graph)
        gradient = call.unwrap(tree_unflatten(list(flat_grads), spec))
        output = call.unwrap(output)
        aux = call.unwrap_aux(aux) if has_aux else None
    return (gradient, (output, aux)) if has_aux else (gradient, output)


# ----------------------------------------------------------------------------------------------------
# vjp
# ----------------------------------------------------------------------------------------------------

class _VJP:
    """The forward half of vjp: func run on stand-ins, its outputs kept for the vjp_fn calls."""

    def __init__(self, func, primals, argnums, has_aux):
        self.call = _Call()
        with enable_grad():
            if argnums is None:
                new_args = tuple(tree_map(self.call.stand_in, p) for p in primals)
                diff = new_args
            else:
                argnums = _check_argnums(argnums, len(primals))
                new_args, diff = _replace_args(primals, argnums, self.call)
            out = func(*new_args)
            self.aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError("vjp(f, *primals): output of function f should be a tuple: (output, aux) "
                                       "if has_aux is True")
                out, self.aux = out
                self.aux = self.call.unwrap_aux(self.aux)
            self.flat_out, self.out_spec = tree_flatten(out)
            _check_outputs(self.flat_out)
            self.flat_diff, self.diff_spec = tree_flatten(diff)
            self.output = self.call.unwrap(out)

    def __call__(self, cotangents, retain_graph=True, create_graph=None):
        """The vector-Jacobian product of `cotangents` (a pytree shaped as func's output)."""
        if create_graph is None:
            create_graph = _state.local.grad_enabled
        flat_ct, ct_spec = tree_flatten(cotangents)
        if ct_spec != self.out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {ct_spec}, primal output: {self.out_spec}")
        return tree_unflatten(list(self.flat_vjp(flat_ct, retain_graph, create_graph)), self.diff_spec)

    def flat_vjp(self, flat_ct, retain_graph=True, create_graph=False):
        """The vjp of a flat list of cotangents, as a flat tuple over the differentiated primals."""
        # NOTE: a graph is built only when an outer level can use it (see the module docstring); the
        # level the results go back to is the caller of vjp_fn, whose grad mode create_graph follows.
        call = self.call
        keep = create_graph and (call.keeps_graph(self.flat_out, True) or call.keeps_graph(flat_ct, True))
        build = keep or any(_tangents(t) for t in list(self.flat_out) + list(flat_ct))
        with enable_grad():
            got = _grads(self.flat_out, self.flat_diff, flat_ct, retain_graph=retain_graph or build,
                         create_graph=build)
        return tuple(call.unwrap(list(got), grad_mode=keep))


def _check_outputs(flat_out, api="vjp(f, *primals)"):
    if len(flat_out) < 1 or (len(flat_out) == 1 and flat_out[0] is None):
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got output = {flat_out})")
    for o in flat_out:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type {type(o)}")
    for o in flat_out:
        if not (o.is_floating_point() or o.is_complex()):
            raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got Tensor "
                               f"with dtype {o.dtype}")


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) gives the vector-Jacobian product w.r.t. every primal.

    vjp_fn takes `retain_graph=True` and `create_graph=None` (grad mode at the call) as PyTorch's does, and
    may be called many times."""
    forward = _VJP(func, primals, None, has_aux)
    if has_aux:
        return forward.output, forward, forward.aux
    return forward.output, forward


# ----------------------------------------------------------------------------------------------------
# jacrev and hessian
# ----------------------------------------------------------------------------------------------------

def _error_if_complex(func_name, flat, is_input):
    for idx, t in enumerate(flat):
        if isinstance(t, Tensor) and t.is_complex():
            kind = "inputs" if is_input else "outputs"
            raise RuntimeError(f"{func_name}: Expected all {kind} to be real but received complex tensor at "
                               f"flattened input idx: {idx}")


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """A function computing the Jacobian of func w.r.t. the args at argnums: vjps of the rows of the identity,
    vmapped over chunk_size rows at a time (all at once by default), as PyTorch's.

    NOTE: under an outer vmap or an outer transform that differentiates the Jacobian, each row is its own
    backward pass instead (ember/func/_vectorized.py says why); the values are the same."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args):
        _error_if_complex("jacrev", tree_flatten(args)[0], is_input=True)
        forward = _VJP(func, args, argnums, has_aux)
        flat_out = forward.flat_out
        _error_if_complex("jacrev", flat_out, is_input=False)
        numels = [o.numel() for o in flat_out]
        # NOTE: as PyTorch does, the rows of all outputs are stacked into one tensor per input and then
        # cut per output, so the blocks of one input share their graph (and requires_grad).
        if sum(numels) and can_vectorize_jacrev(forward):
            stacked = jacrev_rows(forward, numels, chunk_size)
        else:
            rows = _standard_basis_rows(flat_out, numels)
            create_graph = _state.local.grad_enabled
            per_row = [forward.flat_vjp(row, retain_graph=True, create_graph=create_graph) for row in rows]
            stacked = [_stack_rows([row[k] for row in per_row], primal) for k, primal in enumerate(forward.flat_diff)]
        blocks = [s.split(numels, 0) for s in stacked]
        jac_of_output = [tree_unflatten([b[j].view(tuple(out.shape) + tuple(primal.shape))
                                         for b, primal in zip(blocks, forward.flat_diff)], forward.diff_spec)
                         for j, out in enumerate(flat_out)]
        result = tree_unflatten(jac_of_output, forward.out_spec)
        return (result, forward.aux) if has_aux else result
    return wrapper


def _standard_basis_rows(flat_out, numels):
    """The rows of the identity over all output elements, each split into cotangents shaped as the outputs.

    NOTE: a generator: one row at a time, so the basis (total² elements) is never held whole."""
    for r in range(sum(numels)):
        row = []
        start = 0
        for out, n in zip(flat_out, numels):
            ct = out.new_zeros(n)
            if start <= r < start + n:
                ct[r - start] = 1
            row.append(ct.view(out.shape))
            start += n
        yield row


def _stack_rows(block, primal):
    from .. import stack  # NOTE: at call time: ember.func is imported before the ops are published
    if not block:
        return primal.new_zeros((0,) + tuple(primal.shape))
    return stack(block, 0)


def hessian(func, argnums=0):
    """The Hessian of func w.r.t. the args at argnums.

    NOTE: computed as jacrev(jacrev(func)); PyTorch uses jacfwd(jacrev(func)). The values are the same."""
    return jacrev(jacrev(func, argnums), argnums)
