"""Comparisons (== < ... and their aliases), elementwise maximum/minimum/fmax/fmin, isclose,
allclose and equal."""
from ... import _dtype, _state
from ...autograd.function import Primitive
from ..._tensor import Tensor
from ._binary_checks import BINARY, same_dtypes, tensor_first, tensors_only
from .._registry import FUNCTIONS, OpSpec, bind, bind_method, public, register, spec


# --- comparisons ------------------------------------------------------------------------------------------
def _comparison(name, ufunc, dunder):
    def forward(ctx, x, y):
        return getattr(ctx.xp, ufunc)(x, y)
    cls = type(name.capitalize(), (Primitive,), {
        "__doc__": f"Elementwise {name}; returns a bool tensor.",
        "inputs": 2, "promote": "promote", "differentiable": False, "inplace_zero_grad": True,
        "check": staticmethod(tensor_first(name)),
        "forward": staticmethod(forward)})
    return register(OpSpec(name, **BINARY, dtypes=("float32", "int64", "bool"), grad=False),
                    OpSpec(name + "_", **BINARY, dtypes=("float32", "int64"), grad=False,
                           call=lambda torch, x, y: getattr(x.clone(), name + "_")(y)),
                    torch=name, method=name, inplace=name + "_", operator=(dunder,))(cls)


Eq = _comparison("eq", "equal", "__eq__")
Ne = _comparison("ne", "not_equal", "__ne__")
Lt = _comparison("lt", "less", "__lt__")
Le = _comparison("le", "less_equal", "__le__")
Gt = _comparison("gt", "greater", "__gt__")
Ge = _comparison("ge", "greater_equal", "__ge__")

for _alias, _name in (("greater", "gt"), ("less", "lt"), ("greater_equal", "ge"), ("less_equal", "le"),
                      ("not_equal", "ne")):
    bind(_alias, FUNCTIONS[_name])
    bind_method(_alias, getattr(Tensor, _name))
    bind_method(_alias + "_", getattr(Tensor, _name + "_"))
    spec(OpSpec(_alias, **BINARY, dtypes=("float32", "int64"), grad=False),
         OpSpec(_alias + "_", **BINARY, dtypes=("float32",), grad=False,
                call=lambda torch, x, y, _n=_alias + "_": getattr(x.clone(), _n)(y)))


# --- maximum / minimum / fmax / fmin ------------------------------------------------------------------------
def _extremum(name, larger, doc):
    """maximum/minimum (NaN propagates; ties split the gradient evenly) and fmax/fmin (NaN loses; ties go to
    input): `larger` picks the direction."""
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return getattr(ctx.xp, name)(x, y)

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        if name.startswith("f"):
            to_x = (x >= y if larger else x <= y) | (y != y)
            return g.masked_fill(~to_x, 0.0), g.masked_fill(to_x, 0.0)
        x_wins, y_wins = (x > y, x < y) if larger else (x < y, x > y)
        # NOTE: PyTorch halves the gradient on ties and passes it whole to both inputs where
        # either is NaN (neither comparison holds there).
        g = g * (1 - 0.5 * (x == y).to(g.dtype))
        return g.masked_fill(y_wins, 0.0), g.masked_fill(x_wins, 0.0)
    return type(name.capitalize(), (Primitive,), {
        "__doc__": doc, "inputs": 2, "promote": "promote", "check": staticmethod(tensors_only(name)),
        "forward": staticmethod(forward), "backward": staticmethod(backward)})


Maximum = _extremum("maximum", True, "Elementwise maximum, propagating NaN; ties split the gradient evenly.")
Minimum = _extremum("minimum", False, "Elementwise minimum, propagating NaN; ties split the gradient evenly.")
Fmax = _extremum("fmax", True, "Elementwise maximum ignoring NaN (NaN only where both are NaN); ties go to input.")
Fmin = _extremum("fmin", False, "Elementwise minimum ignoring NaN (NaN only where both are NaN); ties go to input.")


def _with_ties(g):
    """maximum/minimum-like inputs: half the values of `other` copy `input`, so ties are common."""
    shapes = [g.shape(max_dims=2, min_side=1), None]
    shapes[1] = shapes[0][g.integers(0, len(shapes[0])):]
    x = g.values(shapes[0])
    y = g.values(shapes[1])
    if g.boolean() and y.size:
        y = y.copy()
        y[...] = x[(0,) * (x.ndim - y.ndim)] if x.ndim > y.ndim else x
    return (x, y), {}


for _cls in (Maximum, Minimum, Fmax, Fmin):
    _n = _cls.__name__.lower()
    register(OpSpec(_n, **BINARY, dtypes=("float32", "float64", "int64")),
             OpSpec(_n + "_ties", arity=2, sample=_with_ties, gradcheck=False,
                    rtol=1e-4, atol=1e-5, call=lambda torch, x, y, _n=_n: getattr(torch, _n)(x, y)),
             torch=_n, method=_n)(_cls)


# --- isclose / allclose / equal ---------------------------------------------------------------------------
def _did_not_match(a, b):
    return f"{_dtype.scalar_type_name(a)} did not match {_dtype.scalar_type_name(b)}"


class IsClose(Primitive):
    """|input - other| <= atol + rtol * |other|, elementwise (NaN equal to NaN with equal_nan)."""
    inputs = 2
    differentiable = False

    @staticmethod
    def forward(ctx, x, y, rtol=1e-05, atol=1e-08, equal_nan=False):
        xp = ctx.xp
        close = x == y
        floating = x.dtype.kind in "fc" or x.dtype.name == "bfloat16"
        if equal_nan and floating:
            close |= xp.isnan(x) & xp.isnan(y)
        if rtol == 0 and atol == 0:
            return close
        # NOTE: integers and bools are compared in the default float dtype, so uint8 cannot wrap.
        work = x.dtype if floating else _state.default_dtype.np
        xf, yf = x.astype(work), y.astype(work)
        actual = xp.abs(xf - yf)
        real = actual.dtype  # NOTE: complex inputs compare their moduli, in the matching real dtype
        allowed = (xp.abs(yf) * real.type(rtol) + real.type(atol)).astype(real)
        return close | (xp.isfinite(actual) & (actual <= allowed))


def _check_isclose(name, input, other, rtol, atol):
    tensors_only(name)(input, other)
    same_dtypes(_did_not_match)(input, other)
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")


@public(method=True)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise closeness: |input - other| <= atol + rtol * |other|; a bool tensor."""
    _check_isclose("isclose", input, other, rtol, atol)
    return IsClose.apply(input, other, rtol, atol, equal_nan)


@public(method=True)
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element of input is close to other's (see isclose); a Python bool."""
    _check_isclose("allclose", input, other, rtol, atol)
    return bool(IsClose.apply(input, other, rtol, atol, equal_nan).all())


@public(method=True)
def equal(input, other):
    """True when both tensors have the same shape and elements; a Python bool."""
    tensors_only("equal")(input, other)
    if input.shape != other.shape:
        return False
    return bool((input == other).all())


def _near_pairs(g):
    """Operands that are sometimes equal, sometimes off by about the tolerance, sometimes NaN."""
    shape = g.shape(max_dims=2)
    x = g.values(shape)
    y = x.copy() if g.boolean() else g.values(shape)
    if y.dtype.kind == "f" and y.size:
        y.flat[g.integers(0, y.size - 1)] += g.choice([0.0, 1e-6, 1e-4, float("nan")])
        if g.boolean():
            x.flat[0] = float("nan")
    return (x, y), {}


spec(OpSpec("isclose", arity=2, sample=_near_pairs, dtypes=("float32", "float64", "int64"), grad=False,
            kwargs=({}, {"rtol": 1e-3, "atol": 1e-3, "equal_nan": True}, {"rtol": 0.0, "atol": 0.0})),
     OpSpec("isclose_broadcast", **BINARY, dtypes=("float32", "int64"), grad=False,
            call=lambda torch, x, y: torch.isclose(x, y, atol=0.5)),
     OpSpec("allclose", arity=2, sample=_near_pairs, dtypes=("float32", "int64"), grad=False,
            kwargs=({}, {"rtol": 1e-3, "atol": 1e-3, "equal_nan": True})),
     OpSpec("equal", arity=2, sample=_near_pairs, dtypes=("float32", "int64", "bool"), grad=False),
     OpSpec("equal_shapes", **BINARY, dtypes=("float32",), grad=False, call=lambda torch, x, y: torch.equal(x, y)))
