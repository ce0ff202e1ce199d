"""torch.special: the special functions under their SciPy-style names (most are ember ops too)."""
import math

from . import _ops  # noqa: F401 - registers the ops used below
from ._ops._registry import FUNCTIONS, OpSpec, spec

from ._ops.pointwise import special_functions as _sf
from ._ops.pointwise.special_polynomials import POLYNOMIAL_FUNCTIONS as _POLYNOMIALS

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
           "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma", "entr", "erf",
           "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln",
           "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l",
           "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri",
           "polygamma", "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"]


def _tensor_input(name, input):
    """PyTorch's argument error, naming special_<name> (the op behind it would name itself)."""
    from ._arguments import type_name
    from ._tensor import Tensor
    if not isinstance(input, Tensor):
        raise TypeError(f"special_{name}(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")


def _op(name, torch_name=None):
    """torch.special.<name>: the ember op <torch_name> (default: the same name) under torch.special's name."""
    fn = FUNCTIONS[torch_name or name]

    def special(input, *args, **kwargs):
        _tensor_input(name, input)
        return fn(input, *args, **kwargs)
    special.__name__ = special.__qualname__ = name
    special.__doc__ = fn.__doc__
    return special


erf, erfc, erfinv, exp2, expm1, log1p, sinc, round = (_op(n) for n in (
    "erf", "erfc", "erfinv", "exp2", "expm1", "log1p", "sinc", "round"))
expit = _op("expit", "sigmoid")
gammaln = _op("gammaln", "lgamma")
digamma = _op("digamma")
psi = _op("psi", "digamma")
polygamma = FUNCTIONS["polygamma"]
logit = _op("logit")
xlogy = FUNCTIONS.get("xlogy")
logsumexp = FUNCTIONS.get("logsumexp")
i0 = _sf.i0
i0e, i1, i1e, erfcx, log_ndtr, ndtri = _sf.i0e, _sf.i1, _sf.i1e, _sf.erfcx, _sf.log_ndtr, _sf.ndtri
gammainc, gammaincc, zeta, multigammaln = _sf.gammainc, _sf.gammaincc, _sf.zeta, _sf.multigammaln
(airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, modified_bessel_i0, modified_bessel_i1, modified_bessel_k0,
 modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1, spherical_bessel_j0) = (
    _sf.NO_GRAD_FUNCTIONS[n] for n in (
        "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
        "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
        "spherical_bessel_j0"))
(chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w,
 shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
 shifted_chebyshev_polynomial_w, hermite_polynomial_h, hermite_polynomial_he, laguerre_polynomial_l,
 legendre_polynomial_p) = (_POLYNOMIALS[n] for n in (
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
    "legendre_polynomial_p"))


def ndtr(input, *, out=None):
    """The standard normal CDF: (1 + erf(input / sqrt(2))) / 2, computed through erfc for the left tail."""
    _tensor_input("ndtr", input)
    result = erfc(-input * (1 / math.sqrt(2))) * 0.5
    return result if out is None else out.copy_(result)


def entr(input, *, out=None):
    """-input * log(input) elementwise: 0 at 0 and -inf for negative input."""
    _tensor_input("entr", input)
    where = FUNCTIONS["where"]
    positive = input > 0
    safe = where(positive, input, 1)  # NOTE: keeps log(0) and its NaN gradient out of the graph
    result = where(positive, -safe * safe.log(), where(input == 0, input * 0, -math.inf))
    return result if out is None else out.copy_(result)



def softmax(input, dim, *, dtype=None):
    """torch.nn.functional.softmax under torch.special's name (dim required)."""
    from .nn.functional import softmax as _softmax
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """torch.nn.functional.log_softmax under torch.special's name (dim required)."""
    from .nn.functional import log_softmax as _log_softmax
    return _log_softmax(input, dim, dtype=dtype)


def xlog1py(input, other, *, out=None):
    """input * log1p(other), 0 where input is 0 (even where log1p(other) is inf) unless other is nan, as
    PyTorch's (xlogy's rule for log)."""
    where = FUNCTIONS["where"]
    from ._creation import as_tensor
    from ._tensor import Tensor
    if not isinstance(other, Tensor):  # NOTE: a number for other, as PyTorch accepts
        other = as_tensor(other, dtype=input.dtype, device=input.device)
    result = where((input == 0) & ~other.isnan(), input * 0, input * FUNCTIONS["log1p"](other))
    return result if out is None else out.copy_(result)

# NOTE: ember's digamma/polygamma series agree with PyTorch's to ~5e-10 in float64.
_SERIES64 = {"rtol": {"float64": 1e-8}, "atol": {"float64": 1e-10}}


def _special(name, **kw):
    return OpSpec(f"special.{name}", call=lambda torch, x, **k: getattr(torch.special, name)(x, **k), **kw)


spec(_special("expit"), _special("erf"), _special("erfc"), _special("erfinv", domain=(-0.9, 0.9)),
     _special("gammaln", domain=(0.1, 5)), _special("digamma", domain=(0.1, 5), **_SERIES64),
     _special("psi", domain=(0.1, 5), **_SERIES64),
     _special("logit", domain=(0.1, 0.9), kwargs=({}, {"eps": 0.2})), _special("exp2"), _special("expm1"),
     _special("log1p", domain=(-0.5, 3)),
     _special("sinc", rtol=2e-4, atol=2e-3), _special("round", grad=False, kwargs=({}, {"decimals": 1})),
     _special("ndtr"), _special("entr", domain=(0.1, 3)),
     _special("softmax", kwargs=({"dim": 0}, {"dim": -1, "dtype": None})),
     _special("log_softmax", kwargs=({"dim": 0}, {"dim": -1})),
     OpSpec("special.xlog1py", arity=2, shapes="binary", domain=(-0.5, 3),
            call=lambda torch, x, y: torch.special.xlog1py(x, y)),
     OpSpec("special.polygamma", domain=(0.2, 4), kwargs=({"n": 1},), **_SERIES64,
            call=lambda torch, x, n: torch.special.polygamma(n, x)))
