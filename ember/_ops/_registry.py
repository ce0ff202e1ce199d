"""How an op becomes public: `register` binds `ember.<name>`, `Tensor.<name>` and the in-place
`Tensor.<name>_`, and records the op's test spec for tests/ops/test_against_torch.py.

In-place ops and `out=` are generic: both run the out-of-place primitive and then write its
result into the target, so each op is written once.
"""
from .. import _dtype, _state
from .._tensor import Tensor, _wrap
from ..autograd.graph import Node

FUNCTIONS = {}   # name -> public function for the ember namespace
SPECS = []       # OpSpec list for the generic test


class OpSpec:
    """How the generic test exercises one op against PyTorch.

    name: the torch function (or Tensor method, with method=True) to compare.
    arity: how many tensor inputs. shapes: "unary", "binary" (broadcasting pairs), "reduce",
    or a list of explicit shape tuples (one shape per input). dtypes: dtype names to try.
    domain: (low, high) for drawn values. kwargs: a list of keyword sets to try.
    scalar: also try a Python scalar as the second operand. grad: compare gradients.
    call: `lambda torch, *inputs, **kw` when the op is not reached as `torch.<name>`.
    sample: `lambda g: (inputs, kwargs)` drawing the op's own inputs, for ops whose arguments
    depend on each other (dims, index tensors, lists of tensors). `g` (built by the test) offers
    g.dtype, g.shape(min_dims=0, max_dims=3, min_side=0, max_side=4), g.values(shape, dtype=None,
    domain=None) (an array; floats get requires_grad), g.index(shape, high) (int64 array in
    [0, high)), g.integers(lo, hi) (inclusive), g.choice(seq), g.boolean(), g.dim(ndim) (a dim,
    maybe negative). Lists and tuples of arrays become lists of tensors; other values pass as they are.
    """

    def __init__(self, name, *, arity=1, shapes="unary", dtypes=("float32", "float64"), domain=(-3, 3),
                 kwargs=({},), scalar=False, grad=True, call=None, method=False, rtol=1e-5, atol=1e-6,
                 nondiff_points=None, gradcheck=True, sample=None):
        self.name = name
        self.arity = arity
        self.shapes = shapes
        self.dtypes = dtypes
        self.domain = domain
        self.kwargs = kwargs
        self.scalar = scalar
        self.grad = grad
        self.call = call
        self.method = method
        self.rtol = rtol
        self.atol = atol
        self.nondiff_points = nondiff_points
        self.gradcheck = gradcheck
        self.sample = sample

    def __repr__(self):
        return f"OpSpec({self.name})"


def register(*specs, torch=None, method=None, inplace=None, reflected=None, operator=None):
    """Class decorator: record specs; bind `torch.<torch>(input, ..., out=None)`, `Tensor.<method>`,
    `Tensor.<inplace>` and the operator dunders named in `operator` (and `reflected`)."""
    def deco(cls):
        SPECS.extend(specs)
        if torch or method:
            cls._public_name = torch or method  # the op's name in argument errors (ember/_arguments.py)
        if torch:
            FUNCTIONS[torch] = _make_function(cls, torch)
        if method:
            setattr(Tensor, method, _make_method(cls, method))
        if inplace:
            setattr(Tensor, inplace, _make_inplace(cls, inplace))
        for name in operator or ():
            setattr(Tensor, name, _make_method(cls, name))
        for name in reflected or ():
            setattr(Tensor, name, _make_reflected(cls, name))
        return cls
    return deco


def spec(*specs):
    """Record specs for an op composed in Python (no primitive class of its own)."""
    SPECS.extend(specs)


def public(fn=None, *, name=None, method=False):
    """Decorator: make a Python function `ember.<name>` (and `Tensor.<name>` if method)."""
    def deco(f):
        n = name or f.__name__
        FUNCTIONS[n] = f
        if method:
            setattr(Tensor, n, checked_function(f, n, method=True))
        return f
    return deco(fn) if fn is not None else deco


def guard_functions():
    """Put every registered function, and Tensor's methods that take more tensors, behind PyTorch's
    checks of their tensor arguments (see `checked_function`); the registry's own wrappers over
    primitives are checked in Primitive.apply. Called once every op is registered."""
    for name, f in list(FUNCTIONS.items()):
        FUNCTIONS[name] = checked_function(f, name)
    for name, f in list(Tensor.__dict__.items()):
        if not name.startswith("_") and callable(f) and not isinstance(f, type):
            setattr(Tensor, name, checked_function(f, name, method=True))


# NOTE: a composed op's first parameter under these names is a Tensor in PyTorch's signature, or
# a sequence of Tensors; later parameters under the names below are Tensors too.
_TENSOR_FIRST = ("input", "self", "x", "x1", "a", "A", "tensor", "condition", "abs")
_TENSORS_FIRST = ("tensors",)
_OWN_CHECKS = frozenset(("copy_",))
_TENSOR_LATER = ("other", "x2", "b", "B", "vec", "vec1", "vec2", "mat", "mat1", "mat2", "tensor1", "tensor2",
                 "batch1", "batch2", "mask", "index", "src", "end", "target", "weight", "exponent")


def checked_function(f, name, method=False):
    """`f` (a composed op) behind PyTorch's checks of its tensor arguments: a Tensor (a sequence of
    them for `tensors`), else PyTorch's TypeError naming the op and the argument rather than an
    internal error from inside `f`; an `out=` that `f` does not write itself is written here.
    Functions whose first parameter is not a tensor are returned as they are, and methods (`self`
    is a Tensor already) that take no further tensor."""
    import functools
    import inspect
    if getattr(f, "_checked", False):
        return f
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return f
    if not params or params[0].kind == params[0].VAR_KEYWORD:
        return f
    if params[0].kind == params[0].VAR_POSITIONAL:
        return _checked_varargs(f, name) if params[0].name == "tensors" and not method else f
    if params[0].name == "equation" and len(params) == 2:
        return _checked_einsum(f, name)
    if params[0].name not in _TENSOR_FIRST + _TENSORS_FIRST:
        return f
    checks = tuple((i, p.name, p.default is None) for i, p in enumerate(params)
                   if (i == 0 or p.name in _TENSOR_LATER) and p.kind != p.VAR_POSITIONAL)
    if method:  # NOTE: self is a Tensor; methods that word their own refusal keep it
        checks = checks[1:] if name not in _OWN_CHECKS else ()
    has_out = any(p.name == "out" for p in params) and not method
    if not checks and not has_out:
        return f

    plain = len(checks) == 1 and checks[0][0] == 0  # NOTE: the common case, checked inline

    @functools.wraps(f)
    def op(*args, **kwargs):
        if plain and args and isinstance(args[0], Tensor) and not (has_out and kwargs.get("out") is not None):
            return f(*args, **kwargs)
        for i, pname, optional in checks:
            x = args[i] if i < len(args) else kwargs.get(pname, Tensor)
            if x is Tensor or isinstance(x, Tensor) or (x is None and optional):
                continue
            return _refused(f, name, i - method, pname, x, args, kwargs)
        if has_out and kwargs.get("out") is not None:
            return _written(f(*args, **kwargs), kwargs["out"], name)
        return f(*args, **kwargs)
    op._checked = True
    return op


def _written(result, out, name):
    """NOTE: a safety net for composed ops that accept out= but return a new tensor: the result is
    stored into `out` (with write_out's checks) instead of `out` being silently ignored."""
    if isinstance(result, Tensor):
        return result if result is out else write_out(out, result, name)
    if isinstance(result, tuple) and isinstance(out, (tuple, list)) and len(out) == len(result) and all(
            r is o for r, o in zip(result, out)):
        return result
    return write_outs(out, result, name)


def _checked_einsum(f, name):
    """einsum(equation, *operands): PyTorch's errors for a missing equation or a non-Tensor operand."""
    import functools
    from .._arguments import type_name

    @functools.wraps(f)
    def op(equation, *operands):
        if not isinstance(equation, str) or not operands:
            raise ValueError(f"{name}(): must specify the equation string and at least one operand, or at least one "
                             "operand and its subscripts list")
        items = operands[0] if len(operands) == 1 and isinstance(operands[0], (tuple, list)) else operands
        for i, t in enumerate(items):
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}(): expected Tensor as element {i} in argument 'operands', but got "
                                f"{type_name(t)}")
        return f(equation, *operands)
    op._checked = True
    return op


def _checked_varargs(f, name):
    """f(*tensors) (atleast_1d, meshgrid, broadcast_tensors): Tensors, or one sequence of them."""
    import functools
    from .._arguments import type_name

    @functools.wraps(f)
    def op(*tensors, **kwargs):
        items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)) else tensors
        for i, t in enumerate(items):
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}(): expected Tensor as element {i} in argument 'tensors', but got "
                                f"{type_name(t)}")
        return f(*tensors, **kwargs)
    op._checked = True
    return op


def _refused(f, name, i, pname, x, args, kwargs):
    """A tensor argument that is not a Tensor: PyTorch's TypeError, except for numbers, which some
    ops take (pow(2, t)); an op that does not fails on them somewhere inside."""
    from .._arguments import is_number, type_name
    arg = "input" if pname == "self" else pname
    if pname in _TENSORS_FIRST:
        if not isinstance(x, (tuple, list)):
            raise TypeError(f"{name}(): argument '{arg}' (position 1) must be tuple of Tensors, not {type_name(x)}")
        for j, t in enumerate(x):
            if not isinstance(t, Tensor):
                raise TypeError(f"expected Tensor as element {j} in argument 0, but got {type_name(t)}")
        return f(*args, **kwargs)
    refusal = TypeError(f"{name}(): argument '{arg}' (position {i + 1}) must be Tensor, not {type_name(x)}")
    if not is_number(x):
        raise refusal
    try:
        return f(*args, **kwargs)
    except AttributeError:
        raise refusal from None


def _keyword_params(cls):
    """The forward's parameters after its operands, with defaults: they may be passed by name."""
    import inspect
    params = list(inspect.signature(cls.forward).parameters.values())[1 + cls.inputs:]
    return [(p.name, p.default) for p in params]


def _merge(cls, params, args, kwargs):
    for key in kwargs:
        if key not in dict(params):
            raise TypeError(f"{cls.__name__.lower()}() got an unexpected keyword argument '{key}'")
    args = list(args)
    for name, default in params[len(args) - cls.inputs:]:
        args.append(kwargs.get(name, default))
    return args


def _make_function(cls, name):
    apply = cls.apply
    params = _keyword_params(cls)

    def fn(*args, out=None, **kwargs):
        if kwargs:
            args = _merge(cls, params, args, kwargs)
        result = apply(*args)
        return result if out is None else write_out(out, result, name)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = cls.__doc__
    return fn


def _make_method(cls, name):
    apply = cls.apply
    params = _keyword_params(cls)

    def method(self, *args, **kwargs):
        if kwargs:
            return apply(*_merge(cls, params, (self,) + args, kwargs))
        return apply(self, *args)
    method.__name__ = name
    method.__doc__ = cls.__doc__
    return method


def _make_reflected(cls, name):
    apply = cls.apply

    def method(self, other):
        return apply(other, self)
    method.__name__ = name
    return method


def _make_inplace(cls, name):
    params = _keyword_params(cls)

    def method(self, *args, **kwargs):
        if kwargs:
            args = _merge(cls, params, (self,) + args, kwargs)[1:]
        return apply_inplace(cls, self, *args)
    method.__name__ = name
    method.__doc__ = f"In-place version of {name[:-1]}."
    return method


# --- in-place ---------------------------------------------------------------------------------------
def _check_inplace_autograd(target):
    if target._base is not None:
        base = target._base
        if base._grad_fn is None and base._requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    elif target._grad_fn is None and target._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def _cast_check(result, target, name):
    if not _dtype.can_cast(result._dtype, target._dtype):
        raise RuntimeError(f"result type {_dtype.scalar_type_name(result._dtype)} can't be cast to the "
                           f"desired output type {_dtype.scalar_type_name(target._dtype)}")


def apply_inplace(cls, target, *args):
    """Run `cls` out of place, then store the result in `target` and rewire its history."""
    tracking = _state.local.grad_enabled and cls.differentiable and (
        target.requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args))
    if tracking:
        _check_inplace_autograd(target)
        old = (target._grad_fn, target._output_nr, target._requires_grad)
    result = cls.apply(target, *args)
    if result._data.shape != target._data.shape:
        raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the broadcast shape "
                           f"{list(result.shape)}")
    _cast_check(result, target, cls.__name__)
    node = result._grad_fn if tracking else None
    # NOTE: when target is also an operand (y.mul_(y)), PyTorch saves that operand as it is and the
    # in-place write makes backward fail its version check; only the plain `self` role is protected.
    if node is not None and node._saved and not any(a is target for a in args):
        _protect_saved(node, target, result, old)
    _store(target, result._data)
    if node is not None:
        _rewire(target, result, node)
    return target


def _store(target, data):
    if not getattr(target._data.flags, "writeable", True):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")
    target._data[...] = data
    target._vc[0] += 1


def _protect_saved(node, target, result, old):
    """The op saved `target` (its old value) or `result` (its new value): keep backward right."""
    saved = []
    for entry in node._saved:
        t = entry[0]
        if t is target:  # keep the old value aside; the in-place write would destroy it
            snap = _wrap(target._data.copy(), target._device, target._dtype)
            snap._grad_fn, snap._output_nr, snap._requires_grad = old
            saved.append((snap, 0, old[0], old[1]))
        elif t is result:  # the new value lives in target from now on
            saved.append((target, target._vc[0] + 1, node, result._output_nr))
        else:
            saved.append(entry)
    node._saved = saved


def _rewire(target, result, node):
    if target._base is None:
        target._grad_fn = node
        target._output_nr = result._output_nr
        target._requires_grad = True
        return
    base = target._base
    cs = CopySlices()
    cs.next_functions = (_base_edge(base), (node, result._output_nr))
    cs.needs_input_grad = (cs.next_functions[0][0] is not None, True)
    cs._in_meta = ((base._data.shape, base._dtype, base._device), (result._data.shape, result._dtype, result._device))
    cs._out_meta = ((base._data.shape, base._dtype, base._device),)
    cs.chain = target._view_chain
    base._grad_fn = cs
    base._output_nr = 0
    base._requires_grad = True
    # target (and every other view of base) rebuilds its grad_fn lazily: its version moved on.


def _base_edge(base):
    if base._grad_fn is not None:
        return (base._grad_fn, base._output_nr)
    return (None, 0)


class CopySlices(Node):
    """History of a base whose view was modified in place: the view's region comes from the
    in-place op's result, the rest from the base's previous history."""

    __slots__ = ("chain",)

    def _backward(self, grads):
        from ..autograd.function import replay_view
        (g,) = grads
        g = g.contiguous()
        prev = _state.local.grad_enabled
        _state.local.grad_enabled = False
        try:
            mask = _wrap(g._device.backend.xp.ones(g._data.shape, dtype=g._dtype.np), g._device, g._dtype)
            replay_view(mask, self.chain)._data[...] = 0
        finally:
            _state.local.grad_enabled = prev
        return g * mask, replay_view(g, self.chain)


# --- out= -------------------------------------------------------------------------------------------
def write_out(out, result, name="op"):
    """Store `result` into the user's `out` tensor, as PyTorch's out= variants do."""
    if not isinstance(out, Tensor):
        from .._arguments import type_name
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type_name(out)}")
    if name in _EXACT_OUT and out._dtype is not result._dtype:
        raise _out_dtype_error(result, out)
    if _state.local.grad_enabled and (result._requires_grad or out._requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    _cast_check(result, out, name)
    if out._data.shape != result._data.shape:
        # NOTE: PyTorch resizes `out` (warning when it was not empty); its storage is replaced.
        if out._data.size != 0:
            import warnings
            warnings.warn(f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                          f"which does not match the required output shape {list(result.shape)}. This behavior "
                          "is deprecated, and in a future PyTorch release outputs will not be resized unless they "
                          "have zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, to "
                          "zero elements with t.resize_(0).", UserWarning, stacklevel=3)
        out._data = result._data.astype(out._dtype.np)
        out._vc[0] += 1
        return out
    _store(out, result._data)
    return out


# --- operators with foreign operands ------------------------------------------------------------------
_BINARY_DUNDERS = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
                   "lshift", "rshift")
_ORDERING = {"__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}


def guard_operators():
    """Wrap Tensor's binary operators so that an operand that is neither a Tensor nor a number
    behaves as with PyTorch's tensors: `t == None` is False, `t + [1]` is Python's TypeError
    (NotImplemented), `t + ndarray` is computed by NumPy and wrapped back (Tensor.__array_wrap__),
    `t == ndarray` compares elementwise (`!=` declines) and `t < ndarray` is a TypeError."""
    names = [f"__{p}{op}__" for op in _BINARY_DUNDERS for p in ("", "r", "i")]
    names += ["__eq__", "__ne__", *_ORDERING]
    for name in names:
        fn = Tensor.__dict__.get(name)
        if fn is not None and not getattr(fn, "_guarded", False):
            setattr(Tensor, name, _guarded(name, fn))


def _guarded(name, fn):
    from .._arguments import is_number

    def op(self, other):
        if isinstance(other, Tensor) or is_number(other):
            return fn(self, other)
        return _foreign(name, fn, self, other)
    op.__name__ = name
    op.__doc__ = fn.__doc__
    op._guarded = True
    return op


def _foreign(name, fn, self, other):
    if type(other).__module__ == "numpy" and type(other).__name__ == "ndarray":
        if name == "__eq__":  # NOTE: PyTorch's __ne__ declines an ndarray (so t != a is True)
            from .._creation import from_array
            return fn(self, from_array(other, device=self._device))
        if name in _ORDERING:
            raise TypeError(f"'{_ORDERING[name]}' not supported between instances of 'Tensor' and 'numpy.ndarray'")
    return NotImplemented


# --- out= for ops returning several tensors -------------------------------------------------------------
# NOTE: ops whose out= must have the result's dtype exactly (PyTorch's structured kernels), not merely
# one it can be cast to.
_EXACT_OUT = frozenset(("argmax", "argmin"))
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
                 "int8": "signed char", "uint8": "unsigned char", "bool": "bool", "float16": "c10::Half",
                 "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>",
                 "complex128": "c10::complex<double>"}


def _out_dtype_error(result, out):
    want, got = (_C_TYPE_NAMES.get(d.name, d.name) for d in (result._dtype, out._dtype))
    return RuntimeError(f"Expected out tensor to have dtype {want}, but got {got} instead")


def write_outs(out, results, name="op"):
    """`results` (a tuple, often named) stored into the user's `out` tuple of tensors, with
    PyTorch's checks: a tuple of the right length, each element a Tensor of the result's dtype.
    With out=None, `results` is returned as it is."""
    if out is None:
        return results
    from .._arguments import type_name
    if not isinstance(out, (tuple, list)):
        raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not {type_name(out)}")
    if len(out) != len(results):
        raise TypeError(f"expected tuple of {len(results)} elements but got {len(out)}")
    for i, o in enumerate(out):
        if not isinstance(o, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 'out', but got {type_name(o)}")
    for o, r in zip(out, results):
        if o._dtype is not r._dtype:
            raise _out_dtype_error(r, o)
    written = [write_out(o, r, name) for o, r in zip(out, results)]
    return type(results)(*written) if hasattr(results, "_fields") else tuple(written)
