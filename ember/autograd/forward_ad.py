"""torch.autograd.forward_ad: forward-mode AD with dual tensors.

Inside a dual level, a tensor may carry a tangent t beside its value (its primal) x; every
differentiable op computes, with its output y = f(x), the output's tangent J·t (J the Jacobian of f
at x). `make_dual` attaches a tangent, `unpack_dual` reads it back.

How an op's tangent is found (in DESIGN terms: one mechanism at the op boundary, `Primitive.apply`):

- The generic rule, derived from the op's backward. Backward computes v = Jᵀg in ember Tensor ops
  for an incoming gradient g, and is linear in g. So <Jᵀg, t> = <g, J·t>, and differentiating the
  scalar s(g) = <Jᵀg, t> with respect to g gives exactly J·t (the "double-vjp" trick). The op runs
  once, recorded in the backward graph (operands that need no gradient are replaced by aliases that
  do), its node's backward runs on a g of ones that requires grad (any g would do: backward is linear
  in it), and ember's reverse engine gives ds/dg. This is exact, not a finite difference, and covers
  every op whose backward is written in differentiable ops; a backward computed on raw arrays is
  detected and refused (NotImplementedError), never turned into a zero tangent. Where the tangent must
  itself be differentiable (inputs that require grad: reverse over forward), the double vjp runs on
  leaf aliases of the saved tensors, and one node (ForwardADTangent) grafts the result back onto the
  inputs' history, so that each op's reverse pass walks its own few nodes only.
- Cheaper direct rules where they pay, beside backward in the op's own class:
  `linear = True` declares an op linear in its tensor operands (add, sub, neg, sum, mean...): the
  tangent is the op applied to the tangents; a view op (`view = True`) likewise gives the same view
  of the tangent, so views of a dual tensor have views of its tangent, as in PyTorch. Otherwise an op
  may define `jvp(ctx, *tangents)` (ctx.inputs, ctx.params, ctx.outputs: the op's operands, its other
  arguments and its outputs as Tensors); tests check each against the generic rule.
- Custom `autograd.Function`s give their own `jvp(ctx, *tangents)`, reading what forward passed to
  `ctx.save_for_forward` from `ctx.saved_tensors`, as in PyTorch.

Tangents live in the Tensor slot `_fw` (a dict level -> tangent, unset on plain tensors). Levels are
numbered from 0. PyTorch's public API allows one level at a time; `torch.func.jvp` nests levels (jvp of
jvp): an op sees the levels below `_state.fw_visible`, computes the tangent of the highest level its
operands carry with that level hidden, and its primal (and lower levels' tangents) by the same rule,
recursively, so a tangent at level k carries its own tangents at the levels below k.

In-place ops update the target's tangent in place (a view's tangent is a view of its base's, made zero
where the base had none); in-place view ops (t_, squeeze_...) reshape it likewise; out= refuses dual
tensors, as PyTorch's out= variants do.

NOTE: the cost when no level exists is one test of `_state.fw_visible` per op call (measured ~25 ns on a
~3 µs op boundary). Under a level, an op without a direct rule runs its forward once and its backward
twice (small graphs): correct first. Limits: complex dual tensors need a direct rule (the generic rule
refuses them).
"""
import functools
import weakref
from typing import NamedTuple, Optional

from .. import _state
from .._tensor import Tensor, _wrap

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]


class UnpackedDualTensor(NamedTuple):
    """What unpack_dual returns: the primal (a view without the tangent) and the tangent (or None)."""
    primal: Tensor
    tangent: Optional[Tensor]


# --- levels -------------------------------------------------------------------------------------------
class _Level:
    __slots__ = ("tensors", "public", "prune_at")

    def __init__(self, public):
        self.tensors = []  # weak references to every tensor given a tangent at this level
        self.public = public  # entered through enter_dual_level (not torch.func.jvp)
        self.prune_at = 1024  # NOTE: dead references are dropped when the list grows past this (a long loop)

    def note(self, t):
        """Remember t, whose tangent at this level is dropped when the level exits."""
        refs = self.tensors
        refs.append(weakref.ref(t))
        if len(refs) > self.prune_at:
            refs[:] = [r for r in refs if r() is not None]
            self.prune_at = 2 * len(refs) + 1024


def enter_dual_level():
    """Enter a new forward-AD level (PyTorch allows one at a time); returns its index."""
    if _state.dual_levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    return push_level(public=True)


def exit_dual_level(*, level=None):
    """Exit the last level: every tangent at that level is dropped."""
    if level is None:
        level = len(_state.dual_levels) - 1
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != len(_state.dual_levels) - 1:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    pop_level(level)


def push_level(public=False):
    """A new level above the existing ones (torch.func.jvp nests them); returns its index."""
    _state.dual_levels.append(_Level(public))
    _state.fw_visible = len(_state.dual_levels)
    return len(_state.dual_levels) - 1


def pop_level(level):
    entry = _state.dual_levels.pop()
    _state.fw_visible = len(_state.dual_levels)
    for ref in entry.tensors:
        t = ref()
        d = getattr(t, "_fw", None) if t is not None else None
        if d and level in d:
            d = {k: v for k, v in d.items() if k != level}
            t._fw = d or None


def public_level_active():
    return any(entry.public for entry in _state.dual_levels)


class dual_level:
    """Context manager (and decorator) for one forward-AD level; `with dual_level():` gives its index."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper


# --- dual tensors ---------------------------------------------------------------------------------------
def tangent_of(t, level):
    """t's tangent at `level`, or None."""
    d = getattr(t, "_fw", None)
    return d.get(level) if d else None


def set_tangent(t, level, tangent):
    # NOTE: copy on write: aliases made for the generic rule share their operand's dict
    d = getattr(t, "_fw", None)
    d = {} if d is None else dict(d)
    d[level] = tangent
    t._fw = d
    _state.dual_levels[level].note(t)


def _share_tangents(alias, t):
    """alias carries t's tangents (the same dict; set_tangent copies on write), each level noting it."""
    d = getattr(t, "_fw", None)
    alias._fw = d
    for level in d or ():
        _state.dual_levels[level].note(alias)


class _hidden:
    """Context: ops see only the levels below `level`."""
    __slots__ = ("n", "old")

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.old = _state.fw_visible
        _state.fw_visible = self.n

    def __exit__(self, *exc):
        _state.fw_visible = self.old
        return False


def make_dual(tensor, tangent, *, level=None):
    """A view of `tensor` whose tangent (forward gradient) at `level` is `tangent`."""
    n = len(_state.dual_levels)
    if level is None:
        if not n:
            raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                               "enter_dual_level() first.")
        level = n - 1
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if not 0 <= level < n:
        raise RuntimeError("Invalid level given to _make_dual")
    return make_dual_at(tensor, tangent, level)


def make_dual_at(tensor, tangent, level):
    """make_dual's checks on sizes and devices, and the dual view itself."""
    if tangent.shape != tensor.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")
    if tangent.device != tensor.device:
        raise RuntimeError("Trying to set a forward gradient that has a different device than that of the "
                           f"original Tensor, this is not supported. Tensor is on {tensor.device} while the given "
                           f"forward gradient is on {tangent.device}.")
    if tangent_of(tensor, level) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward gradient at the "
                           f"same level {level} is not supported.")
    with _hidden(level):
        dual = tensor.view_as(tensor)
    set_tangent(dual, level, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent) of a dual tensor: the primal is a view without the tangent at `level`."""
    if level is None:
        level = len(_state.dual_levels) - 1
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    # NOTE: a level hidden from ops (inside a custom Function's forward) is hidden from unpack_dual too
    tangent = tangent_of(tensor, level) if level < _state.fw_visible else None
    if tangent is None:
        return UnpackedDualTensor(tensor, None) if level >= len(_state.dual_levels) else \
            UnpackedDualTensor(_primal_view(tensor, level), None)
    return UnpackedDualTensor(_primal_view(tensor, level), tangent)


def _primal_view(tensor, level):
    with _hidden(level):
        return tensor.view_as(tensor)


# --- the op boundary ------------------------------------------------------------------------------------
def _top_level(operands, visible):
    """The highest level below `visible` at which an operand has a tangent (-1 if none)."""
    k = -1
    for a in operands:
        d = getattr(a, "_fw", None) if isinstance(a, Tensor) else None
        if d:
            for lv in d:
                if k < lv < visible:
                    k = lv
    return k


def apply_primitive(cls, args, plain):
    """Primitive.apply while a dual level exists: `plain` (function.py's _apply_primitive) computes the
    primal with the top level hidden, then the top level's tangent is added to the outputs."""
    visible = _state.fw_visible
    operands = args[:cls.inputs]
    k = _top_level(operands, visible)
    _state.fw_visible = max(k, 0)
    try:
        if k < 0 or not cls.differentiable:
            return plain(cls, args)
        tangents = [tangent_of(a, k) if isinstance(a, Tensor) else None for a in operands]
        params = args[cls.inputs:]
        if cls.view or cls.linear:
            out = plain(cls, args)
            if cls.inputs == 1:
                tan = cls.apply(tangents[0], *params)
            else:  # NOTE: linear in all operands together: the operands without a tangent count as 0
                tan = cls.apply(*(0 if t is None else t for t in tangents), *params)
        elif cls.jvp is not _function().Function.jvp:
            out = plain(cls, args)
            outs = out if type(out) is tuple else (out,)
            tan = cls.jvp(_PrimalRecord(operands, params, outs), *tangents)
        else:
            out, tan = _generic(cls, args, operands, params, tangents, plain)
        _attach(out, tan, k)
        return out
    finally:
        _state.fw_visible = visible


def _function():
    from . import function  # NOTE: function.py imports this module at its top
    return function


class _PrimalRecord:
    """The ctx of a primitive's `jvp`: its operands, other arguments and outputs."""
    __slots__ = ("inputs", "params", "outputs")

    def __init__(self, inputs, params, outputs):
        self.inputs, self.params, self.outputs = inputs, params, outputs


def _attach(out, tan, level):
    """Give each floating-point output its tangent, fitted to its shape and dtype."""
    outs = out if type(out) is tuple else (out,)
    tans = tan if type(tan) is tuple else (tan,)
    for o, t in zip(outs, tans):
        if not isinstance(o, Tensor) or t is None or not (o.is_floating_point() or o.is_complex()):
            continue
        if t._data.shape != o._data.shape:
            t = t.expand(o.shape).contiguous()
        if t._dtype is not o._dtype:
            t = t.to(o._dtype)
        set_tangent(o, level, t)
        if o._grad_fn is not None:
            _keep_saved_output(o)


def _keep_saved_output(o):
    """A node keeps its saved outputs as arrays (graph.SavedOutput) and rebuilds a Tensor on unpack,
    which would lose the tangent (forward-over-reverse needs it): keep the dual output itself.
    NOTE: this makes the cycle output -> node -> output that SavedOutput avoids, only under forward AD."""
    from .graph import SavedOutput
    node = o._grad_fn
    saved = node._saved
    if not saved:
        return
    node._saved = [(o, v, node, nr) if type(t) is SavedOutput and t.data is o._data else (t, v, fn, nr)
                   for t, v, fn, nr in saved]


def _generic(cls, args, operands, params, tangents, plain):
    """The double-vjp rule: J·t = d/dg <Jᵀg, t>, from the op's own backward (see the module docstring)."""
    from . import engine
    from .function import _NO_EDGE
    grad_on = _state.local.grad_enabled
    keep_graph = grad_on and any(isinstance(a, Tensor) and a._requires_grad for a in operands)
    subs = list(operands)
    aliases = []
    for i, (a, t) in enumerate(zip(operands, tangents)):
        if t is None:
            continue
        if a.is_complex() or t.is_complex():
            raise NotImplementedError(f"forward-mode AD of {cls.__name__} for complex inputs is not implemented "
                                      "in ember yet")
        if not (keep_graph and a._requires_grad):
            # NOTE: an alias (same array and version counter) that requires grad, so the op records its node
            alias = _wrap(a._data, a._device, a._dtype, requires_grad=True, vc=a._vc)
            _share_tangents(alias, a)
            subs[i] = alias
            aliases.append(alias)
    _state.local.grad_enabled = True
    try:
        out = plain(cls, tuple(subs) + tuple(params))
        outs = out if type(out) is tuple else (out,)
        node = next((o._grad_fn for o in outs if isinstance(o, Tensor) and o._grad_fn is not None), None)
        if node is None:
            return out, None
        tan = _double_vjp(node, outs, tangents, keep_graph, engine)
    finally:
        _state.local.grad_enabled = grad_on
    if not keep_graph:
        for o in outs:
            if isinstance(o, Tensor):
                o._grad_fn, o._requires_grad = None, False
    elif aliases:  # NOTE: the aliases are no inputs of the user's graph
        node.next_functions = tuple(
            _NO_EDGE if e[0] is not None and any(getattr(e[0], "variable", None) is al for al in aliases) else e
            for e in node.next_functions)
    return out, tan


def _double_vjp(node, outs, tangents, keep_graph, engine):
    """The tangents of the node's outputs: d/dg of sum_i <backward(g)_i, t_i> (see the module docstring)."""
    from . import grad as autograd_grad
    from .._creation import ones
    differentiable = keep_graph or any(t is not None and t._requires_grad for t in tangents)
    batched = _state.vmap_depth and any(t is not None and _is_batched(t) for t in tangents)
    if batched and differentiable:
        raise BatchedTangentUnsupported(
            "forward-mode AD with batched tangents (vmap over jvp) through an op without its own jvp rule, whose "
            "tangent must stay differentiable, is not supported by ember")
    gs = []
    for o in outs:
        if isinstance(o, Tensor) and o._grad_fn is node:
            # NOTE: backward is linear in g, so its derivative is the same at every g: ones, not zeros,
            # where a backward written with |g| or log|g| (logcumsumexp) is differentiable
            g = ones(o.shape, dtype=o.dtype, device=o.device)
            if batched:
                g = _batched_seed(g)
            else:
                g._requires_grad = True
            gs.append(g)
        else:
            gs.append(None)
    # NOTE: where the tangent must stay differentiable (reverse over forward), the double vjp runs on leaf
    # aliases of the saved tensors and tangents, so the reverse pass below walks only this op's small
    # graph, not the whole history behind its inputs (quadratic over a long chain); `_graft` then connects
    # the tangents to that history.
    grafts = []
    if differentiable:
        tangents = [_leaf_alias(t, grafts) if t is not None else None for t in tangents]
        kept = node._saved
        node._saved = [(None, 0, None, 0) if t is None else (_leaf_alias(t, grafts), t._vc[0], None, 0)
                       for t in node.saved_tensors]
        try:
            vs = engine._validate(node, node._backward(tuple(gs)))
        finally:
            node._saved = kept
    else:
        vs = engine._validate(node, node._backward(tuple(gs)))
    s = None
    for v, t in zip(vs, tangents):
        if v is not None and t is not None:
            _check_differentiable(node, v)
            term = (v * t).sum()
            s = term if s is None else s + term
    seeds = [g for g in gs if g is not None]
    # NOTE: with lower levels visible, the reverse pass must run as ops (create_graph) for the tangent to
    # carry their tangents; it is detached afterwards unless it must stay differentiable
    lower = _state.fw_visible > 0
    if batched:
        return _batched_jts(s, gs, seeds, lower)
    if s is None or not s._requires_grad:
        jts = [None] * len(seeds)
    else:
        jts = list(autograd_grad(s, seeds, create_graph=differentiable or lower, allow_unused=True))
    jts = [g.detach().zero_() if jt is None else jt for jt, g in zip(jts, seeds)]
    if differentiable:
        jts = _graft(jts, grafts)
    elif lower:
        jts = [_detached(jt) for jt in jts]
    return tuple(None if g is None else jts.pop(0) for g in gs)


class BatchedTangentUnsupported(RuntimeError):
    """Raised where batched tangents (jacfwd's vmap over jvp) meet a case the double-vjp rule cannot batch;
    jacfwd then computes its columns one by one (ember/func/_vectorized.py)."""


def _is_batched(t):
    from ..func._batching.tensor import is_batched
    return is_batched(t)


def _batched_seed(g):
    """Under vmap: the seed `g` made a leaf per example (batched at every active level, each its own row), so
    that the derivative of the per-example scalars <backward(g), t> is taken example by example."""
    from ..func._vmap import lift, physical, rewrap
    like = lift(g)
    leaf = physical(like).contiguous().detach().requires_grad_()
    return rewrap(leaf, like)


def _batched_jts(s, gs, seeds, lower):
    """The tangents d<backward(g), t>/dg per example: the physical scalars summed (each depends only on its
    own example's seed), differentiated with respect to the physical seeds, and wrapped back."""
    from . import grad as autograd_grad
    from ..func._vmap import lift, physical, rewrap
    leaves = [physical(g) for g in seeds]
    if s is None:
        jts = [None] * len(leaves)
    else:
        total = physical(lift(s)).sum()
        jts = list(autograd_grad(total, leaves, create_graph=lower, allow_unused=True)) if total._requires_grad \
            else [None] * len(leaves)
    out = []
    for jt, leaf, g in zip(jts, leaves, seeds):
        value = leaf.detach().zero_() if jt is None else (_detached(jt) if lower else jt.detach())
        out.append(rewrap(value, g))
    return tuple(None if g is None else out.pop(0) for g in gs)


def _leaf_alias(t, grafts):
    """t itself when it has no history; else a leaf sharing its data that requires grad (noted in grafts)."""
    if not t._requires_grad:
        return t
    alias = _wrap(t._data, t._device, t._dtype, requires_grad=True, vc=t._vc)
    _share_tangents(alias, t)
    grafts.append((alias, t))
    return alias


def _graft(jts, grafts):
    """The tangents `jts`, computed from leaf aliases, made differentiable in the tensors they alias."""
    if not grafts:
        return jts
    from .function import _apply_custom
    out = _apply_custom(_graft_function(), (jts, grafts) + tuple(t for _, t in grafts), {})
    return list(out)


@functools.lru_cache(maxsize=None)
def _graft_function():
    """The Function class of _graft, made once (function.py, where Function lives, imports this module)."""
    from .function import Function

    class ForwardADTangent(Function):
        """Identity on the tangents; backward differentiates their own small graph (see _graft)."""

        @staticmethod
        def forward(ctx, jts, grafts, *originals):
            ctx.jts, ctx.grafts = jts, grafts
            return tuple(_detached(jt) for jt in jts)

        @staticmethod
        def backward(ctx, *grads):
            from . import grad as autograd_grad
            create = _state.local.grad_enabled
            # NOTE: for double backward the result is grafted in turn: its graph ends at the aliases and at
            # (aliases of) the incoming gradients, and must reach what they stand for
            more = []
            if create:
                grads = tuple(_leaf_alias(g, more) for g in grads)
            got = autograd_grad(ctx.jts, [a for a, _ in ctx.grafts], grads, retain_graph=True, create_graph=create,
                                allow_unused=True)
            if create:
                present = [g for g in got if g is not None]
                grafted = iter(_graft(present, list(ctx.grafts) + more))
                got = [None if g is None else next(grafted) for g in got]
            return (None, None) + tuple(got)
    return ForwardADTangent


def _check_differentiable(node, v):
    """The rule needs a backward written in differentiable ops: refuse (never a silent zero tangent) where
    it computed on arrays (a once_differentiable backward, or a nonzero result with no graph to g)."""
    from .function import _DelayedError
    if getattr(v._grad_fn, "_fn", None) is _DelayedError or (not v._requires_grad and bool(v._data.any())):
        raise NotImplementedError(f"forward-mode AD through {node.name()} is not implemented in ember: its "
                                  "backward is not differentiable")


def _detached(t):
    """t.detach() that keeps t's tangents (themselves detached)."""
    d = t.detach()
    for level, tangent in (getattr(t, "_fw", None) or {}).items():
        set_tangent(d, level, _detached(tangent))
    return d


def after_inplace(target, result):
    """After an in-place op wrote `result` into `target`: target's tangent at each visible level follows, in
    place (a view's tangent is a view of its base's, made zero first where the base had none)."""
    from .function import replay_view
    for level in range(_state.fw_visible):
        rt = tangent_of(result, level)
        tt = tangent_of(target, level)
        if rt is None and tt is None:
            continue
        with _hidden(level):
            if tt is None and target._base is None:
                set_tangent(target, level, rt)
                continue
            if tt is None:
                base = target._base
                bt = tangent_of(base, level)
                if bt is None:
                    bt = base.new_zeros(base.shape)
                    set_tangent(base, level, bt)
                tt = replay_view(bt, target._view_chain)
                set_tangent(target, level, tt)
            if rt is None:
                tt.zero_()
            else:
                tt.copy_(rt)


def refuse_out(name, out, result):
    """PyTorch's error for an out= write where a tangent is involved (out= variants have no forward AD)."""
    if _top_level((out, result), _state.fw_visible) >= 0:
        raise NotImplementedError(f"Trying to use forward AD with {name}_out that does not support it because it "
                                  "is an out= function")


def take_tangents(target, result):
    """An in-place view op (t_, squeeze_...) made `target` take `result`'s geometry: its tangents too."""
    target._fw = None
    for level, tangent in (getattr(result, "_fw", None) or {}).items():
        set_tangent(target, level, tangent)


# --- custom Functions ---------------------------------------------------------------------------------
def save_for_forward(ctx, *tensors):
    """ctx.save_for_forward: tensors the Function's jvp reads back from ctx.saved_tensors."""
    ctx.__dict__["_fw_saved"] = tensors


def apply_custom(cls, args, kwargs, plain):
    """Function.apply while a dual level exists: forward sees no tangents at the top level, then the
    Function's jvp gives the outputs' tangents (PyTorch's error when it has none)."""
    visible = _state.fw_visible
    k = _top_level(list(args) + list(kwargs.values()), visible)
    _state.fw_visible = max(k, 0)
    try:
        if k < 0:
            return plain(cls, args, kwargs)
        from .function import Function
        if cls.jvp is Function.jvp:
            Function.jvp(None)  # PyTorch's NotImplementedError
        ctx = cls._node_cls()
        out = plain(cls, args, kwargs, ctx)
        tangents = [tangent_of(a, k) if isinstance(a, Tensor) else None for a in args]
        fw_saved = ctx.__dict__.pop("_fw_saved", ())
        kept = ctx._saved
        ctx._saved = [(t, t._vc[0], t._grad_fn, t._output_nr) if t is not None else (None, 0, None, 0)
                      for t in fw_saved]
        try:
            tan = cls.jvp(ctx, *tangents)
        finally:
            ctx._saved = kept
        _attach(out, tan, k)
        return out
    finally:
        _state.fw_visible = visible
