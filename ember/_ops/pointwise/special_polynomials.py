"""torch.special's classical orthogonal polynomials at (input, n): Chebyshev (four kinds, and shifted),
Hermite (physicists' and probabilists'), Laguerre, Legendre. The kernels are the backend's
(ember/_backends/_special_poly.py); PyTorch gives them no gradient, so neither does ember."""
from ... import _backends
from ..._tensor import Tensor
from ...autograd.function import Primitive
from .._registry import OpSpec, spec, write_out
from ._binary_checks import not_for

_POLYNOMIALS = {
    "chebyshev_polynomial_t": ("chebyshev", "t", "The Chebyshev polynomial of the first kind T_n(input)."),
    "chebyshev_polynomial_u": ("chebyshev", "u", "The Chebyshev polynomial of the second kind U_n(input)."),
    "chebyshev_polynomial_v": ("chebyshev", "v", "The Chebyshev polynomial of the third kind V_n(input)."),
    "chebyshev_polynomial_w": ("chebyshev", "w", "The Chebyshev polynomial of the fourth kind W_n(input)."),
    "shifted_chebyshev_polynomial_t": ("shifted_chebyshev", "t", "T_n(2 input - 1), the shifted T_n."),
    "shifted_chebyshev_polynomial_u": ("shifted_chebyshev", "u", "U_n(2 input - 1), the shifted U_n."),
    "shifted_chebyshev_polynomial_v": ("shifted_chebyshev", "v", "V_n(2 input - 1), the shifted V_n."),
    "shifted_chebyshev_polynomial_w": ("shifted_chebyshev", "w", "W_n(2 input - 1), the shifted W_n."),
    "hermite_polynomial_h": ("hermite_h", None, "The physicists' Hermite polynomial H_n(input)."),
    "hermite_polynomial_he": ("hermite_he", None, "The probabilists' Hermite polynomial He_n(input)."),
    "laguerre_polynomial_l": ("laguerre_l", None, "The Laguerre polynomial L_n(input)."),
    "legendre_polynomial_p": ("legendre_p", None, "The Legendre polynomial P_n(input)."),
}


def _polynomial_class(name, kernel, kind):
    aten = f"{name}_cpu"

    def forward(ctx, x, n):
        for a in (x, n):
            if a.dtype.kind != "f" or a.dtype.itemsize < 4:
                raise not_for(aten, a)
        special = _backends.of_array(x).special
        return getattr(special, kernel)(x, n, kind) if kind else getattr(special, kernel)(x, n)

    cls_name = "Special" + "".join(p.capitalize() for p in name.split("_"))
    return type(cls_name, (Primitive,), {
        "__doc__": _POLYNOMIALS[name][2], "inputs": 2, "promote": "float", "differentiable": False,
        "forward": staticmethod(forward), "_public_name": f"special_{name}"})


def _check_operands(name, x, n):
    """PyTorch's overload error: each operand a Tensor or a number, and at least one a Tensor."""
    from ..._arguments import is_number, type_name
    if all(isinstance(a, Tensor) or is_number(a) for a in (x, n)) and (isinstance(x, Tensor) or isinstance(n, Tensor)):
        return
    raise TypeError(
        f"special_{name}() received an invalid combination of arguments - got ({type_name(x)}, "
        f"{type_name(n)}), but expected one of:\n * (Tensor x, Tensor n, *, Tensor out = None)\n"
        " * (Number x, Tensor n, *, Tensor out = None)\n * (Tensor x, Number n, *, Tensor out = None)\n")


def _public(cls, name):
    def fn(input, n, *, out=None):
        _check_operands(name, input, n)
        result = cls.apply(input, n)
        return result if out is None else write_out(out, result, f"special_{name}")
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = cls.__doc__ + (" n is truncated to an integer; negative n gives 0. At NaN input (n >= 1) the "
                                "result is NaN, where PyTorch's kernels can return an arbitrary value.")
    return fn


POLYNOMIAL_FUNCTIONS = {name: _public(_polynomial_class(name, kernel, kind), name)
                        for name, (kernel, kind, _) in _POLYNOMIALS.items()}


# NOTE: the recurrences cancel near the roots, where a float32 result (ember's or PyTorch's) is off by a few
# ulps of the recurrence's largest terms, so the absolute error grows with the polynomial's magnitude, which
# for the Hermite polynomials grows like sqrt(n! 2^n). Measured against PyTorch in float32 over 4M draws of x
# in (-1.2, 1.2) at n <= 11 (the samples' largest degree), the worst |ember - torch| - 1e-4 |torch| was
# 0.029 for H_n (n = 11, max |H_11| = 2.3e5) and 6e-4 for He_n (max |He_11| = 3.5e3); every other
# polynomial stayed under 3e-5. The tolerance is 4e-7 (about 3 float32 ulps) of the largest value, at least 1e-3.
_FLOAT32_ATOL = {"hermite_polynomial_h": 0.1, "hermite_polynomial_he": 2e-3}


def _tolerances(name):
    return {"rtol": {"float32": 1e-4, "float64": 1e-9},
            "atol": {"float32": _FLOAT32_ATOL.get(name, 1e-3), "float64": 1e-9}}


def _spec(name):
    domain = (0, 1) if name.startswith("shifted") else (-1.2, 1.2)
    return OpSpec(f"special.{name}", dtypes=("float32", "float64", "int64"), grad=False, domain=domain,
                  kwargs=({"n": 0}, {"n": 3}, {"n": 9}), **_tolerances(name),
                  call=lambda torch, x, n: getattr(torch.special, name)(x, n))


def _tensor_degree_sample(name):
    """x drawn from the spec's domain and n an int64 tensor of degrees 0..11 broadcasting against it."""
    def sample(g):
        shape = g.shape(min_dims=1)
        return [g.values(shape), g.index(shape[-1:], 12)], {}
    domain = (0, 1) if name.startswith("shifted") else (-1.2, 1.2)
    return OpSpec(f"special.{name}", dtypes=("float32", "float64"), grad=False, domain=domain,
                  sample=sample, **_tolerances(name),
                  call=lambda torch, x, n: getattr(torch.special, name)(x, n))


spec(*(_spec(n) for n in _POLYNOMIALS), *(_tensor_degree_sample(n) for n in _POLYNOMIALS))
