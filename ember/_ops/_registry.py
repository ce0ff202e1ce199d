"""How an op becomes public: `bind` is the one place that makes a name `ember.<name>` (FUNCTIONS)
or `Tensor.<name>`; it refuses a second binding of a name unless that binding says what it replaces.
The declarations over it: `register` binds a Primitive as `ember.<name>`, `Tensor.<name>` and the
in-place `Tensor.<name>_`, and records the op's test spec for tests/ops/test_against_torch.py;
`public` binds a function written in Python over the primitives; `spec` records a spec alone.

In-place ops and `out=` are generic: both run the out-of-place primitive and then write its
result into the target, so each op is written once.
"""
from .. import _dtype, _state
from .._tensor import Tensor
from ..autograd.inplace import _check_inplace_autograd, _protect_saved, _rewire, overwriting

FUNCTIONS = {}   # name -> public function for the ember namespace
SPECS = []       # OpSpec list for the generic test
BOUND = {}       # ("ember" | "Tensor", name) -> Binding: what `bind` made public, and where
CLASS_BODY = dict(Tensor.__dict__)  # Tensor's own attributes, from its class statement in _tensor.py


class Binding:
    """One public name: `value` (what the namespace holds now), `site` ("file:line" of the bind call,
    the first frame outside this file), `replaced` (the reason given when it replaced an earlier
    binding) and `wrapped` (how often a guard pass wrapped the value in place, see `rewrap`)."""

    __slots__ = ("value", "site", "replaced", "wrapped")

    def __init__(self, value, site, replaced=None):
        self.value = value
        self.site = site
        self.replaced = replaced
        self.wrapped = 0

    def __repr__(self):
        return f"Binding({self.site})"


def _caller_site():
    """Where a binding is made: the first frame outside this file, and when that is a declaring helper
    (unary, alias, a loop's function), the module statement that ran it."""
    import sys
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    if frame is None:
        return "?"
    site = f"{_short(frame.f_code.co_filename)}:{frame.f_lineno}"
    outer = frame
    while outer is not None and outer.f_code.co_name != "<module>":
        outer = outer.f_back
    if outer is not None and outer is not frame:
        site += f" (from {_short(outer.f_code.co_filename)}:{outer.f_lineno})"
    return site


def _short(path):
    """`path` from the package folder on (ember/_ops/...), as sites are printed."""
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    return os.path.relpath(path, root) if path.startswith(root) else path


def bind(name, fn, *, function=True, method=False, replaces=None):
    """Make `fn` public as `ember.<name>` (function) and/or `Tensor.<name>` (method: a function,
    or a property). A name already bound (for Tensor, also one its class statement defines) is
    refused unless `replaces` gives the reason this binding replaces the earlier one; `replaces`
    on a name not bound yet is refused too. Returns `fn`."""
    site = _caller_site()
    if function:
        _bind_one("ember", name, fn, site, replaces, name in FUNCTIONS)
        FUNCTIONS[name] = fn
    if method:
        _bind_one("Tensor", name, fn, site, replaces, name in Tensor.__dict__)
        setattr(Tensor, name, fn)
    return fn


def bind_method(name, fn, *, replaces=None):
    """`bind(name, fn, function=False, method=True)`: `Tensor.<name>` only."""
    return bind(name, fn, function=False, method=True, replaces=replaces)


def _bind_one(space, name, fn, site, replaces, taken):
    earlier = BOUND.get((space, name))
    if taken and not replaces:
        where = earlier.site if earlier is not None else "Tensor's class statement (ember/_tensor.py)"
        raise RuntimeError(f"{space}.{name} is bound twice: at {where} and again at {site}; a binding that "
                           f"replaces an earlier one says why: bind(..., replaces='reason')")
    if replaces is not None and (not taken or not isinstance(replaces, str) or not replaces):
        raise RuntimeError(f"{space}.{name} at {site}: replaces= takes the reason (a string) for replacing "
                           f"an existing binding, and {space}.{name} " + ("has one" if taken else "has none"))
    BOUND[(space, name)] = Binding(fn, site, replaces)


def rewrap(name, wrap, *, function=False, method=False):
    """A guard pass (see _guards.py) puts the value bound to `ember.<name>` or `Tensor.<name>` behind
    `wrap(value)`: the same binding, wrapped in place; not a second one."""
    if function:
        value = wrap(FUNCTIONS[name])
        _rewrapped("ember", name, value)
        FUNCTIONS[name] = value
    if method:
        value = wrap(Tensor.__dict__[name])
        _rewrapped("Tensor", name, value)
        setattr(Tensor, name, value)


def _rewrapped(space, name, value):
    entry = BOUND.get((space, name))
    if entry is None:  # NOTE: a method of Tensor's class statement, wrapped by a guard
        if space != "Tensor" or name not in CLASS_BODY:
            raise RuntimeError(f"{space}.{name}: only a bound name can be wrapped")
        entry = BOUND[(space, name)] = Binding(CLASS_BODY[name], "ember/_tensor.py (class statement)")
    entry.value = value
    entry.wrapped += 1


def publish(namespace):
    """Copy FUNCTIONS into the ember module's namespace (`namespace` is its globals()), refusing a
    name the module already binds to something else (an import in ember/__init__.py)."""
    clashes = sorted(k for k, v in FUNCTIONS.items() if k in namespace and namespace[k] is not v)
    if clashes:
        raise RuntimeError(f"ember.{clashes[0]} is bound twice: in ember/__init__.py and at "
                           f"{BOUND[('ember', clashes[0])].site}")
    namespace.update(FUNCTIONS)


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
    rtol, atol: the tolerance this op's results need when it is looser than the test's default:
    a number applies to float32 and complex64 results, a dict maps dtype names to numbers.
    large: the test may draw large inputs (thousands of elements); False where ties make the
    result ambiguous (sort indices of many equal ints) or an input that large is too slow.
    """

    def __init__(self, name, *, arity=1, shapes="unary", dtypes=("float32", "float64"), domain=(-3, 3),
                 kwargs=({},), scalar=False, grad=True, call=None, method=False, rtol=None, atol=None,
                 nondiff_points=None, gradcheck=True, sample=None, large=True):
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
        self.large = large

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
            bind(torch, _make_function(cls, torch))
        if method:
            bind_method(method, _make_method(cls, method))
        if inplace:
            bind_method(inplace, _make_inplace(cls, inplace))
        for name in operator or ():
            bind_method(name, _make_method(cls, name))
        for name in reflected or ():
            bind_method(name, _make_reflected(cls, name))
        return cls
    return deco


def spec(*specs):
    """Record specs for an op composed in Python (no primitive class of its own)."""
    SPECS.extend(specs)


def public(fn=None, *, name=None, method=False):
    """Decorator: make a Python function `ember.<name>` (and `Tensor.<name>` if method)."""
    def deco(f):
        n = name or f.__name__
        bind(n, f)
        if method:
            from ._guards import checked_function
            bind_method(n, checked_function(f, n, method=True))
        return f
    return deco(fn) if fn is not None else deco




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
        if out is not None and cls.ufunc is not None and len(args) == cls.inputs and isinstance(out, Tensor) and (
                all(not isinstance(a, Tensor) or a._data.shape == out._data.shape for a in args)):
            # NOTE: out= of the same shape as every tensor operand (PyTorch resizes a differing one)
            if compute_into(cls, out, args):
                return out
        result = apply(*args)
        return result if out is None else write_out(out, result, name)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = cls.__doc__
    fn._applies = cls  # NOTE: Primitive.apply enters the device itself (see guard_functions)
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
    method._applies = cls
    return method


def _make_reflected(cls, name):
    apply = cls.apply

    def method(self, other):
        return apply(other, self)
    method.__name__ = name
    method._applies = cls
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
def _cast_check(result, target, name):
    if not _dtype.can_cast(result._dtype, target._dtype):
        raise RuntimeError(f"result type {_dtype.scalar_type_name(result._dtype)} can't be cast to the "
                           f"desired output type {_dtype.scalar_type_name(target._dtype)}")


_PLAIN_SCALARS = (int, float)


def compute_into(cls, dest, operands):
    """The lean form of an in-place op or out=: `cls`'s ufunc writes straight into `dest`'s array (NumPy's
    out=) when nothing can differ from computing aside and copying: the op is a plain ufunc, `dest` and
    every tensor operand are float32/float64 of one dtype on one device, the other operands are Python
    numbers, no gradient is recorded and the operands broadcast to `dest`'s shape. Returns whether it did."""
    ufunc = cls.ufunc
    dt = dest._dtype
    if ufunc is None or len(operands) != cls.inputs or dt.itemsize < 4 or not dt.is_floating_point or dt.is_complex:
        return False
    grad = _state.local.grad_enabled
    if grad and (dest._requires_grad or dest._base is not None):
        return False
    data = dest._data
    dev = dest._device
    arrays = []
    for a in operands:
        if isinstance(a, Tensor):
            if a._dtype is not dt or a._device is not dev or (grad and a._requires_grad) or (
                    a._data.ndim > data.ndim):
                return False
            arrays.append(a._data)
        elif type(a) in _PLAIN_SCALARS:
            arrays.append(a)
        else:
            return False
    if not writable(data):
        return False
    xp = dev.backend.xp
    activate = dev.backend.activate
    try:
        if activate is None:
            getattr(xp, ufunc)(*arrays, out=data)
        else:
            with activate(dev.index):
                getattr(xp, ufunc)(*arrays, out=data)
    except ValueError:  # NOTE: shapes that do not broadcast to dest: the general path gives PyTorch's error
        return False
    dest._vc[0] += 1
    return True


def apply_inplace(cls, target, *args):
    """Run `cls` out of place, then store the result in `target` and rewire its history."""
    if _state.vmap_depth:  # NOTE: inside vmap: a write into a batched tensor goes to its physical value
        from ..func._batching.rules import batched_inplace
        done = batched_inplace(cls, target, args)
        if done is not None:
            return done
    if cls.ufunc is not None and not _state.fw_visible and compute_into(cls, target, (target,) + args):
        return target
    in_graph = _state.local.grad_enabled and (
        target.requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args))
    tracking = in_graph and cls.differentiable
    zeros = in_graph and cls.inplace_zero_grad and target._dtype.category >= _dtype.FLOAT
    if tracking or zeros:
        _check_inplace_autograd(target)
        old = (target._grad_fn, target._output_nr, target._requires_grad)
    if zeros:  # NOTE: its edges are taken now, from the history the write replaces
        from ..autograd.function import zero_gradient_node
        name = f"{cls.__name__}Backward{1 if any(isinstance(a, Tensor) for a in args) else 0}"
        zero_node = zero_gradient_node(name, (target,) + tuple(a for a in args if isinstance(a, Tensor)), target)
    told = tracking and not any(a is target for a in args) and overwriting(target)
    try:
        result = cls.apply(target, *args)
    finally:
        if told:
            overwriting(None)
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
    elif zeros:
        _rewire(target, result, zero_node)
    if _state.fw_visible:  # NOTE: forward-mode AD: target's tangent follows the write (autograd/forward_ad.py)
        from ..autograd.forward_ad import after_inplace
        after_inplace(target, result)
    return target


def writable(array):
    """Whether an in-place write into `array` is allowed: NumPy marks expanded (overlapping) views read-only;
    CuPy has no such flag, so there the geometry decides, as PyTorch's internal-overlap check does."""
    flag = getattr(array.flags, "writeable", None)
    if flag is not None:
        return flag
    if not array.size:  # NOTE: nothing is written (CuPy gives new empty arrays zero strides)
        return True
    from ._strides import overlaps
    return not overlaps(array.shape, array.strides)


def _store(target, data):
    if not writable(target._data):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")
    target._data[...] = data
    target._vc[0] += 1


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
    if _state.fw_visible:
        from ..autograd.forward_ad import refuse_out
        refuse_out(name, out, result)
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
