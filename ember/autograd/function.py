"""torch.autograd.Function, and the boundary every ember op goes through (`Function.apply`).

Two kinds of Function share one graph:
- ember's primitives (subclasses of `Primitive`, in ember/_ops/): forward works on the device's
  arrays, backward on Tensors. `Primitive.apply` owns the boundary: unwrapping, device checks,
  Python scalars, type promotion, wrapping results, recording the graph.
- users' `torch.autograd.Function` subclasses: forward and backward both see Tensors, as in PyTorch.
"""
import functools

from .. import _device, _dtype, _state
from . import forward_ad as _forward_ad
from .graph import Node, _hooks_state, saved_entry
from .._arguments import check_arguments
from .._tensor import Tensor, _wrap

_FLOAT = _dtype.FLOAT


def _node_class(fn_cls, name):
    return type(name, (Node,), {"__slots__": (), "_fn": fn_cls, "save_for_forward": _forward_ad.save_for_forward})


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        # Every Function class gets its own node type, named as PyTorch names it.
        node_name = ns.get("node_name") or (name + ("Backward0" if getattr(cls, "_primitive", False) else "Backward"))
        cls._node_cls = _node_class(cls, node_name)


class Function(metaclass=_FunctionMeta):
    """Base class for custom autograd operations: define `forward(ctx, ...)` and `backward(ctx, ...)`."""

    _primitive = False
    # NOTE: complex inputs or outputs: True when backward is right for them as written; "holomorphic" when
    # it is the real formula of a holomorphic function (the engine conjugates around it); False when it is
    # only right for real numbers: then backward refuses complex ones rather than give a wrong gradient.
    # Users' Functions are trusted with complex numbers (as in PyTorch); ember's Primitives opt in.
    complex_grad = True

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def vjp(cls, ctx, *grad_outputs):
        return cls.backward(ctx, *grad_outputs)

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward mode: the outputs' tangents from the inputs' (see ember/autograd/forward_ad.py)."""
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        if _state.fw_visible:  # NOTE: a dual level exists: forward_ad calls _apply_custom with its jvp
            return _forward_ad.apply_custom(cls, args, kwargs, _apply_custom)
        return _apply_custom(cls, args, kwargs)


# --- custom Functions -----------------------------------------------------------------------------
def _apply_custom(cls, args, kwargs, ctx=None):
    if ctx is None:
        ctx = cls._node_cls()
    tensors = [a for a in args if isinstance(a, Tensor)]
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    track = _state.local.grad_enabled and any(ctx.needs_input_grad)
    separate = "setup_context" in _own_names(cls)
    prev = _state.local.grad_enabled
    _state.local.grad_enabled = False
    try:
        if separate:
            output = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args, **kwargs)
    finally:
        _state.local.grad_enabled = prev
    if tensors:
        ctx.device = tensors[0]._device
        ctx.xp = tensors[0]._device.backend.xp
    is_tuple = isinstance(output, tuple)
    outs = output if is_tuple else (output,)
    dirty = ctx._dirty or ()
    for d in dirty:
        d._vc[0] += 1  # NOTE: PyTorch bumps every tensor marked dirty, on top of the in-place op's own bump
    if not track:
        ctx.to_save = None
        return output
    for d in dirty:
        _check_dirty(d)
    ctx.next_functions = tuple(_edge(a) if isinstance(a, Tensor) else (None, 0) for a in args)
    ctx._in_meta = tuple((a.shape, a._dtype, a._device) if isinstance(a, Tensor) else None for a in args)
    nondiff = ctx._non_differentiable or ()
    results = []
    dirty_views = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            results.append(o)
            continue
        if any(o is d for d in dirty):
            if o._base is not None:
                # NOTE: a view modified in place: its base's history is rebased (CopySlices), as for
                # ember's own in-place ops; the view rebuilds its grad_fn from the base lazily.
                o._output_nr = i
                dirty_views.append(o)
                results.append(o)
                continue
        elif any(o is a for a in tensors):
            o = _wrap(o._data, o._device, o._dtype, vc=o._vc)  # returning an input: an alias
        if any(o is n for n in nondiff) or o._dtype.category < _FLOAT:
            o._requires_grad = False
        else:
            o._grad_fn, o._output_nr, o._requires_grad = ctx, i, True
        results.append(o)
    ctx._out_meta = tuple((o.shape, o._dtype, o._device) if isinstance(o, Tensor) else None for o in results)
    _pack_saved(ctx, (), ())
    if dirty_views:
        from .inplace import _rewire  # NOTE: inplace imports this module (replay_view)
        for o in dirty_views:
            _rewire(o, o, ctx)
    return tuple(results) if is_tuple else results[0]


def _check_dirty(t):
    """PyTorch's errors for a custom Function that marked a leaf (or a view of one) dirty."""
    if t._base is not None:
        if t._base._grad_fn is None and t._base._requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    elif t._grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")


def _own_names(cls):
    names = set()
    for k in cls.__mro__:
        if k is Function:
            break
        names.update(k.__dict__)
    return names


def once_differentiable(fn):
    """Decorator for a backward that is not itself differentiable: it runs without recording."""
    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        from .grad_mode import no_grad
        with no_grad():
            out = fn(ctx, *grads)
        if _state.local.grad_enabled and any(isinstance(g, Tensor) and g.requires_grad for g in grads):
            outs = out if isinstance(out, tuple) else (out,)
            for o in outs:
                if isinstance(o, Tensor):
                    node = _DelayedError._node_cls()
                    node.next_functions = ()
                    node._in_meta = ()
                    node._out_meta = ((o._data.shape, o._dtype, o._device),)  # NOTE: the engine reads it
                    o._grad_fn, o._output_nr, o._requires_grad = node, 0, True
        return out
    return wrapper


class _DelayedError(Function):
    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


# --- ember's primitives -----------------------------------------------------------------------------
class Primitive(Function):
    """An ember op: forward on arrays, backward on Tensors (see DESIGN.md, "One op, one place").

    Class attributes that describe the boundary:
    - `inputs`: how many leading positional arguments are tensor operands (Python scalars there
      are wrapped); the rest are plain parameters passed through to forward.
    - `promote`: None (operands keep their dtypes), "promote" (cast to torch's result_type), or
      "float" (promoted, then integers and bool go to the default float dtype).
    - `view`: forward returns a view of its first operand; the result shares its version counter
      and remembers how to be rebuilt from its base (for in-place ops on views).
    - `differentiable`: False for ops with no gradient (comparisons, argmax...).
    - `upcast`: True for ops PyTorch computes in float32 when their inputs are float16/bfloat16
      (reductions, scans, softmax, losses, composite pointwise formulas): forward then receives
      those operands (and Python scalars) as float32 arrays and each float32 output is rounded to the
      input's dtype once. Saved upcast operands and outputs are saved as the real low-precision
      tensors, so version checks and double backward see what PyTorch's saved variables would.
      Python scalars and one-element later operands of another dtype enter in float32 too (as
      PyTorch's mul and div read them), unless `upcast_scalars` is False (add, sub: PyTorch rounds them to the input's
      dtype first). forward finds the low dtype in `ctx.low` (None when nothing was upcast).
      Decorate backward with `float32_backward` where PyTorch's backward kernel also computes in
      float32 (softmax, activations, losses, spreads, norms): its formula then runs on widened
      gradients and saved tensors, and the engine rounds each input's gradient once.
    """

    _primitive = True
    inputs = 1
    promote = None
    promote_args = None  # how many leading operands take part in promotion (None: all)
    _checks_params = True  # NOTE: until the boundary has read forward's dtype=/dim= params (_arguments)
    check = None  # optional staticmethod(*operands): PyTorch's refusals that depend on input dtypes
    view = False
    differentiable = True
    # NOTE: forward-mode AD (forward_ad.py): True for an op linear in its tensor operands, whose tangent is
    # then the op applied to the tangents; an op may instead define jvp(ctx, *tangents)
    linear = False
    # NOTE: PyTorch records a comparison done in place on a tensor in the graph (x.eq_(y)) with a
    # node whose backward gives zeros; other non-differentiable ops in place keep the old history.
    inplace_zero_grad = False
    complex_grad = False  # NOTE: opt-in, declared only where backward is checked against PyTorch's
    upcast = False  # NOTE: see the docstring; PyTorch's "opmath"/accumulate type for half types
    upcast_scalars = True
    crosses_devices = False  # NOTE: only a copy to another device (ToCopy) returns arrays on another device
    # NOTE: the name of the array-module ufunc that is the whole forward for float32/float64 operands and no
    # parameters (add, multiply, ...): in-place ops and out= then compute straight into the destination
    # (ember/_ops/_registry.py, `compute_into`) instead of into a new array that is then copied.
    ufunc = None
    # NOTE: how vmap moves a batch dim through the op: (family, its parameters), see
    # ember/func/_batching/rules.py; None runs the op once per example (with a warning)
    batch_rule = None

    @classmethod
    def apply(cls, *args):
        return _apply_primitive(cls, args)


def not_implemented_backward(aten_name):
    """A backward for ops PyTorch records but cannot differentiate (their grad_fn is `NotImplemented`):
    outputs require grad, and backward raises PyTorch's error instead of returning a gradient."""
    def backward(ctx, *grads):
        raise RuntimeError(f"derivative for aten::{aten_name} is not implemented")
    return staticmethod(backward)


class _ZeroGradient(Function):
    """The backward of a comparison done in place: zeros for every input that needs a gradient."""

    @staticmethod
    def backward(ctx, *grads):
        from .._creation import zeros
        return tuple(None if m is None else zeros(m[0], dtype=m[1], device=m[2]) for m in ctx._in_meta)


_ZERO_NODES = {}


def zero_gradient_node(name, operands, out):
    """A node named `name` (PyTorch's, e.g. EqBackward1) from `operands` (edges taken now) to `out`."""
    node_cls = _ZERO_NODES.get(name)
    if node_cls is None:
        node_cls = _ZERO_NODES[name] = _node_class(_ZeroGradient, name)
    node = node_cls()
    node.next_functions = tuple(_edge(a) if isinstance(a, Tensor) else (None, 0) for a in operands)
    node.needs_input_grad = tuple(e[0] is not None for e in node.next_functions)
    node._in_meta = tuple((a._data.shape, a._dtype, a._device) if e[0] is not None else None
                          for a, e in zip(operands, node.next_functions))
    node._out_meta = ((out._data.shape, out._dtype, out._device),)
    return node


def _edge(t):
    if t._base is not None and t._view_version != t._vc[0]:
        t._sync_view()
    fn = t._grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    if t._requires_grad:
        if t._base is not None and getattr(t, "_view_meta", None) in ("no_grad", "inference"):
            # NOTE: a view made under no_grad/inference_mode requires grad but, as in PyTorch, has no
            # accumulator: gradients reaching it are dropped (neither it nor its base gets a .grad)
            return (None, 0)
        return (t._accumulator(), 0)
    return (None, 0)


def _scalar_array(xp, value, np_dtype):
    try:
        return xp.asarray(value, dtype=np_dtype)
    except OverflowError:  # NOTE: torch wraps out-of-range integer scalars (uint8 + 1000)
        return xp.asarray(value).astype(np_dtype)


def compute_dtype(cls, operands):
    """The dtype the operands are computed in, by the op's `promote` rule."""
    dims, zeros, scalars = [], [], []
    for a in operands:
        if isinstance(a, Tensor):
            (dims if a._data.ndim else zeros).append(a._dtype)
        elif a is not None:
            scalars.append(_dtype.scalar_dtype(a, _state.default_dtype))
    d = _dtype.result_dtype(dims, zeros, scalars)
    if cls.promote == "float" and d.category < _FLOAT:
        d = _state.default_dtype
    return d


def _check_devices(cls, tensors):
    dev = None
    for t in tensors:
        d = t._device
        if dev is None:
            dev = d
        elif d is not dev and d != dev:
            # a 0-d cpu tensor may join a cuda op, as in PyTorch
            if d.type == "cpu" and t._data.ndim == 0:
                continue
            if dev.type == "cpu" and len(tensors) > 1 and all(x._data.ndim == 0 for x in tensors if x._device == dev):
                dev = d
                continue
            raise RuntimeError(
                "Expected all tensors to be on the same device, but found at least two devices, "
                f"{dev} and {d}!")
    return dev


def _uniform(operands, rule):
    """Fast path: every operand a tensor of one dtype that the op keeps (no promotion needed)."""
    dt = None
    for a in operands:
        if not isinstance(a, Tensor):
            return False
        if dt is None:
            dt = a._dtype
        elif a._dtype is not dt:
            return False
    return rule != "float" or dt.category >= _FLOAT


def _apply_primitive(cls, args):
    if _state.autocast_active:  # NOTE: an autocast block is on: the op's policy casts its operands (ember/amp)
        from ..amp._policy import primitive_arguments
        args = primitive_arguments(cls, args)
    if _state.op_log is not None:  # NOTE: an op log (ember/autograd/op_log.py) or a profiler is recording
        run_op = getattr(_state.op_log, "run_op", None)  # NOTE: the profiler's recorder (ember/profiler/_recorder.py)
        if run_op is not None:
            return run_op(cls, args, _apply_primitive)
        from .op_log import logged
        return logged(cls, args, _apply_primitive)
    if _state.vmap_depth:  # NOTE: inside vmap: an op on batched tensors runs by its batching rule
        from ..func._batching.rules import dispatch
        out = dispatch(cls, args)
        if out is not NotImplemented:
            return out
    if _state.fw_visible:
        # NOTE: forward-mode AD, only while a dual level exists: the one test it costs every other op call
        return _forward_ad.apply_primitive(cls, args, _apply_primitive)
    n = cls.inputs
    operands = args[:n]
    params = args[n:]
    # NOTE: one pass finds the common case, every operand a Tensor of one dtype on one device; then the
    # argument, device and promotion work below has nothing to decide and is skipped ("lean").
    dev = dt = None
    lean = True
    wants_grad = False
    scalars = False  # NOTE: Python int/float operands (no bool: it promotes differently)
    for a in operands:
        if isinstance(a, Tensor):
            if dev is None:
                dev, dt = a._device, a._dtype
            elif a._dtype is not dt or a._device is not dev:
                lean = False
            if a._requires_grad:
                wants_grad = True
        elif type(a) in _PLAIN_NUMBERS:
            scalars = True
        else:
            lean = False
    if lean and scalars and dev is not None:
        # NOTE: a float32/float64 tensor with Python numbers keeps its dtype (PyTorch reads the numbers in it):
        # the one-ufunc form below computes that directly; anything else takes the general path.
        if cls.ufunc is not None and not params and dt in _UFUNC_DTYPES and not (
                wants_grad and _state.local.grad_enabled) and cls.check is None:
            out = _ufunc_on(cls.ufunc, operands, dev)
            if out is not None:
                return _wrap(out, dev, dt)
        # NOTE: otherwise lean too where promotion would only make the numbers 0-d arrays of dt (as
        # _widen_operands does): an op that promotes all its operands, float32/float64, no parameters to check
        if not (cls.promote is not None and cls.promote_args is None and dt in _UFUNC_DTYPES and not (
                params and cls._checks_params)):
            lean = False
    if lean and dev is not None:
        if params and cls._checks_params:
            params = check_arguments(cls, operands, params, len(operands))
        if (cls.promote == "float" and dt.category < _FLOAT) or (cls.upcast and dt in _LOW):
            lean = False
        if cls.check is not None:
            cls.check(*operands)
        if lean and cls.ufunc is not None and not params and dt in _UFUNC_DTYPES and not (
                wants_grad and _state.local.grad_enabled):
            # NOTE: the leanest form: a pointwise op that is one ufunc, nothing to record: no node at all
            out = _ufunc_on(cls.ufunc, operands, dev)
            if out is not None:
                return _wrap(out, dev, dt)
    else:
        lean = False
        tensors = [a for a in operands if isinstance(a, Tensor)]
        if len(tensors) != len(operands) or cls._checks_params:
            # PyTorch's argument errors (a list or None where a Tensor belongs, a float dim) before anything
            # internal fails on them; Python types given as dtype= become torch dtypes (ember/_arguments.py).
            params = check_arguments(cls, operands, params, len(tensors))
        if cls.check is not None:
            cls.check(*operands)
        if len(tensors) == 1:
            dev = tensors[0]._device
        else:
            dev = _check_devices(cls, tensors)
            if any(t._device != dev for t in tensors):
                operands = _scalars_to(dev, operands)
    activate = dev.backend.activate
    if activate is None:
        return _apply_on(cls, operands, params, dev, lean)
    with activate(dev.index):  # NOTE: every array of the op (scalars, outputs) is made on dev
        return _apply_on(cls, operands, params, dev, lean)


_UFUNC_DTYPES = (_dtype.float32, _dtype.float64)
_PLAIN_NUMBERS = (int, float)


def _ufunc_on(name, operands, dev):
    """The array-module ufunc `name` on the operands' arrays (on their device), or None if it raised (the
    general path then gives PyTorch's error)."""
    backend = dev.backend
    arrays = [a._data if isinstance(a, Tensor) else a for a in operands]
    xp = backend.xp
    try:
        if backend.activate is None:
            out = getattr(xp, name)(*arrays)
        else:
            with backend.activate(dev.index):
                out = getattr(xp, name)(*arrays)
    except (ValueError, MemoryError, OverflowError):
        return None
    # NOTE: NumPy returns a scalar, not an array, for 0-d operands
    return out if isinstance(out, xp.ndarray) else xp.asarray(out)


def _scalars_to(dev, operands):
    """The 0-d CPU tensors PyTorch lets join an op on another device, moved there (differentiably)."""
    return [a.to(dev) if isinstance(a, Tensor) and a._device != dev else a for a in operands]


def _apply_on(cls, operands, params, dev, lean):
    """Run the op on `dev`: operands promoted/widened as the op declares (not needed when `lean`), forward
    on arrays, outputs wrapped, the node recorded when a gradient is needed."""
    xp = dev.backend.xp
    track = False
    if cls.differentiable and _state.local.grad_enabled:
        for t in operands:
            if isinstance(t, Tensor) and t._requires_grad:
                track = True
                break
    low = wide = None
    if lean:
        arrays = [a._data if isinstance(a, Tensor) else _scalar_array(xp, a, _tensor_np_dtype(operands))
                  for a in operands]
    else:
        operands, arrays, low, wide = _widen_operands(cls, operands, dev, xp, track)
    ctx = cls._node_cls()
    ctx.xp = xp
    ctx.device = dev
    # NOTE: known before forward runs, so that forward saves only what a needed gradient uses
    # (saving more makes legal in-place code fail the version check), as PyTorch does.
    if track:
        _record_inputs(ctx, operands)
    else:
        ctx.needs_input_grad = _no_grads(len(operands))
    if low is not None:
        ctx.low = low
    try:
        out = cls.forward(ctx, *arrays, *params)
    except ValueError:
        _explain_broadcast(arrays)
        raise
    except MemoryError as e:
        raise out_of_memory(e, dev) from None
    is_tuple = type(out) is tuple
    if is_tuple:
        outs = out
        results = [_wrap_output(cls, o, xp, dev, low) for o in outs]
    else:
        outs = (out,)
        results = [_wrap_output(cls, out, xp, dev, low)]
    if wide is not None and track and ctx.to_save is not None:
        _unwiden_saved(ctx, wide, operands, outs, results)
    if cls.view:
        _link_view(cls, operands[0], results[0], params)
        if not track and cls.differentiable:
            _untracked_view(operands[0], results[0])
    if track:
        out_meta = []
        i = 0
        for r in results:
            out_meta.append((r._data.shape, r._dtype, r._device))
            if r._dtype.category >= _FLOAT:
                r._grad_fn = ctx
                r._output_nr = i
                r._requires_grad = True
            i += 1
        ctx._out_meta = tuple(out_meta)
        if ctx.to_save is not None:
            _pack_saved(ctx, operands, results, outs)
    return tuple(results) if is_tuple else results[0]


_NO_EDGE = (None, 0)


def _tensor_np_dtype(operands):
    """The NumPy dtype of the first tensor operand (a lean op's numbers are made arrays of it)."""
    for a in operands:
        if isinstance(a, Tensor):
            return a._dtype.np


def _record_inputs(ctx, operands):
    """The node's edges to its inputs' histories, which inputs need a gradient, and their metadata."""
    edges = []
    needs = []
    metas = []
    for a in operands:
        if isinstance(a, Tensor):
            if a._base is None:  # NOTE: _edge's common cases, inline
                fn = a._grad_fn
                if fn is not None:
                    e = (fn, a._output_nr)
                elif a._requires_grad:
                    e = (a._accum or a._accumulator(), 0)
                else:
                    e = _NO_EDGE
            else:
                e = _edge(a)
            metas.append((a._data.shape, a._dtype, a._device))
        else:
            e = _NO_EDGE
            metas.append(None)
        edges.append(e)
        needs.append(e[0] is not None)
    ctx.next_functions = tuple(edges)
    ctx.needs_input_grad = tuple(needs)
    ctx._in_meta = tuple(metas)


def _wrap_output(cls, o, xp, dev, low):
    if cls.crosses_devices:
        return _wrap(o, _device.of_array(o), _dtype._BY_NP[o.dtype])
    if not isinstance(o, xp.ndarray):
        o = xp.asarray(o)  # NOTE: a full reduction may return a NumPy scalar
    if low is not None and o.dtype == _F32_NP:
        o = o.astype(low.np)
    return _wrap(o, dev, _dtype._BY_NP[o.dtype])


def _widen_operands(cls, operands, dev, xp, track):
    """The operands as forward reads them: promoted to the op's compute dtype (Python scalars made arrays),
    float16/bfloat16 widened to float32 for `upcast` ops. Returns (operands, arrays, low, wide): the
    (cast) operands, their arrays, the low dtype that was widened (or None) and the widened copies."""
    promoted_low = None  # NOTE: a half result dtype whose operands were all read in float32
    if cls.promote is not None and not _uniform(operands, cls.promote):
        k = cls.promote_args
        rest = operands[k:] if k is not None else ()
        if k is not None:
            operands = operands[:k]
        dt = compute_dtype(cls, operands)
        scalar_dt = _dtype.float32 if cls.upcast and cls.upcast_scalars and dt in _LOW else dt
        if scalar_dt is not dt:
            promoted_low = dt
        arrays = []
        cast = []
        for j, a in enumerate(operands):
            if isinstance(a, Tensor):
                if a._dtype is not dt:
                    # NOTE: PyTorch's kernels read a one-element later operand ("scalar") at its own
                    # precision into float32; other tensors are cast to the result dtype first.
                    to = scalar_dt if j and a._data.size == 1 else dt
                    if track and a._requires_grad:
                        a = a.to(to)  # differentiable cast, so gradients return in a's dtype
                    else:
                        a = _wrap(a._data.astype(to.np), a._device, to)
                arrays.append(a._data)
            elif a is None:
                arrays.append(None)
            else:
                a = _wrap(_scalar_array(xp, a, scalar_dt.np), dev, scalar_dt)
                arrays.append(a._data)
            cast.append(a)
        for a in rest:
            arrays.append(a._data if isinstance(a, Tensor) else a)
            cast.append(a)
        operands = cast
    else:
        arrays = [a._data if isinstance(a, Tensor) else a for a in operands]
    low = _upcast(xp, arrays) if cls.upcast else None
    if low is not None:
        low, arrays, wide = low
        return operands, arrays, low, wide
    if promoted_low is not None:
        return operands, arrays, promoted_low, {}
    return operands, arrays, None, None


_NO_GRADS = {}


def _no_grads(n):
    t = _NO_GRADS.get(n)
    if t is None:
        t = _NO_GRADS[n] = (False,) * n
    return t


class OutOfMemoryError(RuntimeError):
    """Raised when a device runs out of memory (torch.OutOfMemoryError, also torch.cuda.OutOfMemoryError)."""


def out_of_memory(err, device):
    """The error PyTorch raises where the array library raised MemoryError: RuntimeError on the CPU,
    OutOfMemoryError (a RuntimeError) on CUDA."""
    nbytes = getattr(err, "_total_size", None)  # NOTE: NumPy's _ArrayMemoryError knows the request
    if device.type == "cuda":
        size = "" if nbytes is None else f" Tried to allocate {nbytes / 2 ** 30:.2f} GiB."
        return OutOfMemoryError(f"CUDA out of memory.{size}")
    return RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
                        f"you tried to allocate {nbytes if nbytes is not None else 'more'} bytes. Error code 12 "
                        "(Cannot allocate memory)")


def float32_backward(backward):
    """Decorator for an `upcast` op's backward: float16/bfloat16 incoming gradients are widened to
    float32, so the formula runs in float32 (saved half tensors promote exactly) and the engine rounds
    the result to the input's dtype once, as PyTorch's backward kernels do."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        if not any(isinstance(g, Tensor) and g._dtype in _LOW for g in grads):
            return backward(ctx, *grads)
        return backward(_WideContext(ctx), *(_widen(g) for g in grads))
    return wrapper


def _widen(t):
    return t.float() if isinstance(t, Tensor) and t._dtype in _LOW else t


class _WideContext:
    """A backward's view of its node whose saved float16/bfloat16 tensors read as float32 (differentiably)."""

    def __init__(self, ctx):
        self.__dict__["_ctx"] = ctx

    def __getattr__(self, name):
        return getattr(self._ctx, name)

    def __setattr__(self, name, value):
        setattr(self._ctx, name, value)

    @property
    def saved_tensors(self):
        return tuple(_widen(t) for t in self._ctx.saved_tensors)


_LOW = (_dtype.float16, _dtype.bfloat16)
_F32_NP = _dtype.float32.np


def _upcast(xp, arrays):
    """For an `upcast` op: (low dtype, arrays with float16/bfloat16 ones as float32, the float32 copies),
    or None when no operand is low precision."""
    low = None
    for a in arrays:
        d = getattr(a, "dtype", None)
        if d is not None and d.itemsize == 2 and d.kind in "fV" and isinstance(a, xp.ndarray):
            low = _dtype._BY_NP[d]
            break
    if low is None:
        return None
    wide = {}
    out = []
    for i, a in enumerate(arrays):
        if isinstance(a, xp.ndarray) and a.dtype.itemsize == 2 and a.dtype.kind in "fV":
            a = a.astype(_F32_NP)
            wide[id(a)] = i
        out.append(a)
    return low, out, wide


def _unwiden_saved(ctx, wide, operands, outs, results):
    """What forward saved of its float32 copies is saved as the low-precision operand or result itself."""
    items = []
    for item in ctx.to_save:
        i = wide.get(id(item)) if item is not None else None
        if i is not None and isinstance(operands[i], Tensor):
            item = operands[i]
        else:
            for raw, r in zip(outs, results):
                if item is raw and r._data is not raw:
                    item = r
                    break
        items.append(item)
    ctx.to_save = items


def _explain_broadcast(arrays):
    """NumPy's broadcasting ValueError becomes PyTorch's RuntimeError naming both sizes."""
    from .._tensor import broadcast_shapes
    shapes = [a.shape for a in arrays if hasattr(a, "shape")]
    if len(shapes) > 1:
        broadcast_shapes(*shapes)


def _pack_saved(ctx, operands, results, raw_outs=()):
    """Turn what forward saved (arrays or Tensors) into (Tensor, version) pairs, each given to the active
    saved-tensor pack hook if there is one (see graph.saved_tensors_hooks).

    raw_outs: what forward returned, before wrapping (a full reduction may return a NumPy scalar
    that was re-wrapped into a new array; saving that scalar still means saving the output)."""
    items = ctx.to_save
    ctx.to_save = None
    if items is None:
        return
    # NOTE: one thread-local read per recorded op is all that saved-tensor hooks cost when none is active
    hooks = _hooks_state.stack
    hooks = hooks[-1] if hooks else None
    saved = []
    for item in items:
        if item is None:
            saved.append((None, 0, None, 0))
            continue
        t = None
        if isinstance(item, Tensor):
            t = item
        else:
            for cand in operands:
                if isinstance(cand, Tensor) and cand._data is item:
                    t = cand
                    break
            else:
                for cand, raw in zip(results, raw_outs or results):
                    # NOTE: match the returned object too, or a saved 0-d output loses its grad_fn
                    # (wrong double backward) and its version check.
                    if cand._data is item or raw is item:
                        t = cand
                        break
            if t is None:
                t = _wrap(item, ctx.device, _dtype._BY_NP[item.dtype])
        if hooks is not None and t is _hooks_state.overwriting:
            from .inplace import snapshot_before_write
            t = snapshot_before_write(t)
        if hooks is not None and not t._data.ndim and not t._requires_grad:
            # NOTE: Python numbers reach forward as 0-d arrays or 0-d Tensors (x * 3.0, x ** 2); PyTorch keeps
            # them as numbers or "wrapped numbers" that it never shows to the pack hook. ember cannot tell them
            # from a 0-d tensor the caller passed, so a saved 0-d tensor that needs no gradient is kept as it is.
            saved.append(saved_entry(t, ctx))
            continue
        saved.append(saved_entry(t, ctx, hooks=hooks))
    ctx._saved = saved


def _link_view(cls, base_operand, out, params):
    """Make `out` a view of `base_operand`: same version counter, and a recipe to rebuild it."""
    out._vc = base_operand._vc
    if not getattr(out._data.flags, "writeable", True):  # NOTE: a view of an expanded array (see writable_alias)
        from .._ops._strides import writable_alias
        out._data = writable_alias(out._data)
    root = base_operand._base
    if root is None:
        out._base = base_operand
        out._view_chain = ((cls, params),)
    else:
        out._base = root
        out._view_chain = base_operand._view_chain + ((cls, params),)
    out._view_version = out._vc[0]
    if _state.local.grad_enabled and getattr(base_operand, "_view_meta", None) == "multi":
        out._view_meta = "multi"  # NOTE: a view of a split/chunk/unbind piece keeps its in-place rule (PyTorch)


def _untracked_view(base_operand, out):
    """A view made under no_grad or inference_mode of a tensor that requires grad: as in PyTorch it requires grad
    too (grad_fn None, a leaf), and remembers the mode it was made in, to refuse the ambiguous in-place writes
    (autograd/inplace.py) PyTorch refuses through its view creation_meta."""
    if out._dtype.category >= _FLOAT and base_operand.requires_grad:
        out._requires_grad = True
        out._view_meta = "inference" if _state.local.inference else "no_grad"


def replay_view(base, chain):
    t = base
    for cls, params in chain:
        t = cls.apply(t, *params)
    return t
