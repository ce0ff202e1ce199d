"""The op boundary's guards on the public surface, installed once every op is registered:
Tensor's operators decline foreign operands as PyTorch's do, and composed ops (functions and
methods written in Python over the primitives) check their tensor arguments and out= the way
PyTorch's argument parser does, so that no internal error reaches the user."""
from .._tensor import Tensor
from ._registry import FUNCTIONS, rewrap, write_out, write_outs


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
            rewrap(name, lambda f: _guarded(name, f), method=True)


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
        if self.requires_grad and name != "__ne__":  # NOTE: NumPy would read the tensor through numpy()
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    return NotImplemented


def guard_functions():
    """Put every registered function, and Tensor's methods that take more tensors, behind PyTorch's
    checks of their tensor arguments (see `checked_function`); the registry's own wrappers over
    primitives are checked in Primitive.apply. Called once every op is registered."""
    for name in list(FUNCTIONS):
        rewrap(name, lambda f: checked_function(_on_its_device(f), name), function=True)
    for name, f in list(Tensor.__dict__.items()):
        if not name.startswith("_") and callable(f) and not isinstance(f, type):
            rewrap(name, lambda f: checked_function(_on_its_device(f), name, method=True), method=True)


def _on_its_device(f):
    """NOTE: a composed op makes arrays of its own (index tables, masks) outside Primitive.apply: it runs
    with its tensors' device made current, so that cuda:1's work happens on GPU 1."""
    if getattr(f, "_applies", None) is not None or getattr(f, "_on_its_device", False):
        return f
    from .._device import runs_on_its_device
    wrapped = runs_on_its_device(f)
    wrapped._on_its_device = True
    return wrapped


# NOTE: a composed op's first parameter under these names is a Tensor in PyTorch's signature, or
# a sequence of Tensors; later parameters under the names below are Tensors too.
_TENSOR_FIRST = ("input", "self", "x", "x1", "a", "A", "tensor", "condition", "abs", "v", "log_probs")
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
