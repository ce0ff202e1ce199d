"""Shared machinery for one-input pointwise ops (unary): a class factory, PyTorch's dtype refusals, and
the test specs every such op gets (function, in-place method, complex inputs)."""
from ... import _dtype
from ..._tensor import Tensor
from ...autograd.function import Primitive
from .._registry import FUNCTIONS, OpSpec, bind, bind_method, register

FLOATS = ("float32", "float64")
COMPLEX = ("complex64", "complex128")


def complex_sample(g):
    """Spec sample: a complex array with real and imaginary parts drawn from the spec's domain."""
    shape = g.shape()
    lo, hi = g.domain
    n = 1
    for d in shape:
        n *= d
    # NOTE: built flat and reshaped, so a 0-d sample stays an array (NumPy returns scalars from 0-d math)
    z = g.rng.uniform(lo, hi, n) + 1j * g.rng.uniform(lo, hi, n)
    return [z.astype(g.dtype).reshape(shape)], {}


def specs_for(name, *, domain=(-3, 3), grad=True, dtypes=FLOATS, nondiff=None, complex_ok=False,
              inplace=True, complex_domain=None, rtol=None, atol=None, kwargs=({},), gradcheck=True):
    """The OpSpecs of a unary op: torch.<name> on `dtypes`, complex inputs (forward only) when torch
    supports them, and Tensor.<name>_ on float32."""
    specs = [OpSpec(name, domain=domain, grad=grad, dtypes=dtypes, nondiff_points=nondiff, rtol=rtol,
                    atol=atol, kwargs=kwargs, gradcheck=gradcheck)]
    if complex_ok:
        specs.append(OpSpec(name, domain=complex_domain or domain, grad=False, dtypes=COMPLEX,
                            sample=complex_sample, kwargs=kwargs[:1]))
    if inplace:
        specs.append(OpSpec(name + "_", domain=domain, grad=grad, dtypes=("float32",), kwargs=kwargs[:1],
                            rtol=rtol, atol=atol,
                            call=lambda torch, x, **kw: x.clone().__getattribute__(name + "_")(**kw)))
    return specs


# NOTE: PyTorch also binds these in-place variants as functions: torch.exp_(x).
TORCH_INPLACE = set("""abs neg negative reciprocal exp exp2 expm1 log log2 log10 log1p sqrt rsqrt square sin cos
    tan asin arcsin acos arccos atan arctan sinh cosh tanh asinh arcsinh acosh arccosh atanh arctanh sigmoid logit
    erf erfc sinc deg2rad rad2deg ceil floor round trunc fix frac nan_to_num relu""".split())


def unary(name, *, method=True, inplace=True, **spec_args):
    """Class decorator: torch.<name>, Tensor.<name>, Tensor.<name>_ and their specs."""
    def deco(cls):
        if spec_args.get("complex_ok") and "complex_grad" not in cls.__dict__:
            cls.complex_grad = False  # NOTE: backward formulas here are the real ones (no conjugate)
        register(*specs_for(name, inplace=inplace and method, **spec_args), torch=name,
                 method=name if method else None, inplace=name + "_" if method and inplace else None)(cls)
        if name in TORCH_INPLACE:
            bind(name + "_", Tensor.__dict__[name + "_"])
        return cls
    return deco


def alias(alias_name, name, *, spec_args=None):
    """Bind torch.<alias>, Tensor.<alias> (and the in-place forms) to an existing op, with a spec."""
    bind(alias_name, FUNCTIONS[name])
    bind_method(alias_name, Tensor.__dict__[name])
    if name + "_" in Tensor.__dict__:
        bind_method(alias_name + "_", Tensor.__dict__[name + "_"])
    if alias_name in TORCH_INPLACE:
        bind(alias_name + "_", Tensor.__dict__[name + "_"])
    if spec_args is not None:
        from .._registry import spec
        spec(OpSpec(alias_name, **spec_args))


def pointwise(name, forward, backward=None, *, save="input", promote="float", doc="", node=None, check=None,
              **spec_args):
    """Build and register a one-input Primitive from `forward(xp, x)` and `backward(g, saved)`.

    save: "input" or "output", the one array backward needs (None: nothing)."""
    def fwd(ctx, x):
        y = forward(ctx.xp, x)
        if backward is not None and save is not None:
            ctx.save_for_backward(x if save == "input" else y)
        return y

    def bwd(ctx, g):
        if save is None:
            return backward(g, None)
        (s,) = ctx.saved_tensors
        return backward(g, s)

    def jvp(ctx, t):
        # NOTE: pointwise, so the Jacobian is diagonal: J·t is backward's formula with t for g (real numbers)
        if t.is_complex() or ctx.outputs[0].is_complex():
            raise NotImplementedError(f"forward-mode AD of {name} for complex inputs is not implemented in ember yet")
        return backward(t, None if save is None else ctx.inputs[0] if save == "input" else ctx.outputs[0])

    ns = {"__doc__": doc, "promote": promote, "forward": staticmethod(fwd), "backward": staticmethod(bwd),
          "differentiable": backward is not None, "upcast": True}
    if backward is not None:
        ns["jvp"] = staticmethod(jvp)
    if node:
        ns["node_name"] = node
    if check is not None:
        ns["check"] = staticmethod(check)
    cls = type(_class_name(name), (Primitive,), ns)
    return unary(name, grad=backward is not None, **spec_args)(cls)


def _class_name(name):
    return "".join(part.capitalize() for part in name.split("_"))


# --- PyTorch's refusals ---------------------------------------------------------------------------------
def _type_name(t):
    return _dtype.scalar_type_name(t._dtype)


def refuse(*, complex_msg=None, bool_msg=None, complex_exc=NotImplementedError, bool_exc=NotImplementedError):
    """A `check` raising PyTorch's error for complex or bool inputs; '{T}' in a message becomes the
    dtype's C++ name ('ComplexFloat', 'Bool')."""
    def check(x):
        d = getattr(x, "_dtype", None)
        if d is None:
            return
        if complex_msg and d.is_complex:
            raise complex_exc(complex_msg.replace("{T}", _type_name(x)))
        if bool_msg and d is _dtype.bool:
            raise bool_exc(bool_msg.replace("{T}", _type_name(x)))
    return check


def not_implemented(kernel, complex_=True, bool_=False):
    """PyTorch's dispatch error: '"<kernel>" not implemented for '<Type>''."""
    msg = f'"{kernel}" not implemented for ' + "'{T}'"
    return refuse(complex_msg=msg if complex_ else None, bool_msg=msg if bool_ else None)
