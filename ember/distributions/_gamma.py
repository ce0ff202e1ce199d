"""Standard gamma samples with the implicit reparameterisation gradient (what torch._standard_gamma gives).

Sampling uses ember's generator (see _host_rng: Marsaglia-Tsang) on the host. The gradient
of a sample x ~ Gamma(alpha, 1) with respect to alpha follows from holding its CDF value fixed:
    dx/dalpha = -(dP(alpha, x)/dalpha) / p(x; alpha),
with P the regularised lower incomplete gamma function and p the density. PyTorch evaluates dP/dalpha with
fitted approximations; here P itself is evaluated to near float64 precision (series below alpha + 1, Lentz's
continued fraction for the upper tail above) and dP/dalpha is a central difference of it, accurate to about
1e-8 relative below alpha = 1e3 and 1e-6 up to 1e4 -- far below float32 resolution and the noise of any sampled
estimate. From alpha = 1e4 the Wilson-Hilferty approximation takes over (about 1e-7 relative there).
"""
from ..autograd.function import Function, once_differentiable

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 5000


def _log_prefactor(a, x):
    """log(x^a e^-x / Gamma(a)): the factor both expansions share."""
    return a * x.log() - x - a.lgamma()


def _lower_series(a, x):
    """P(a, x) = x^a e^-x / Gamma(a+1) * sum_n x^n / ((a+1)...(a+n)); converges fast for x < a + 1."""
    term = 1.0 / a
    total = term.clone()
    denom = a.clone()
    for _ in range(_MAX_ITER):
        denom = denom + 1
        term = term * x / denom
        total = total + term
        if bool((term.abs() <= total.abs() * _EPS).all()):
            return total * _log_prefactor(a, x).exp()
    raise RuntimeError(f"the incomplete gamma series did not converge in {_MAX_ITER} terms")


def _upper_fraction(a, x):
    """Q(a, x) = 1 - P(a, x) by the modified Lentz evaluation of its continued fraction (x > a + 1)."""
    b = x + 1 - a
    c = 1.0 / (b * 0 + _TINY)
    d = 1.0 / b
    h = d.clone()
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = d.where(d.abs() >= _TINY, d * 0 + _TINY)
        c = b + an / c
        c = c.where(c.abs() >= _TINY, c * 0 + _TINY)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if bool(((delta - 1).abs() <= _EPS).all()):
            return h * _log_prefactor(a, x).exp()
    raise RuntimeError(f"the incomplete gamma continued fraction did not converge in {_MAX_ITER} terms")


def _lower_regularized(a, x, use_series):
    """P(a, x), each element by the expansion that converges for it (the other side's input is made benign)."""
    one = a * 0 + 1
    series = _lower_series(a.where(use_series, one), x.where(use_series, one * 0.5))
    upper = _upper_fraction(a, x.where(~use_series, a + 2))
    return series.where(use_series, 1 - upper), upper.where(~use_series, 1 - series)


_LARGE = 1e4


def _wilson_hilferty_grad(a, x):
    """dx/da at fixed z for large a, where (x/a)^(1/3) ~ Normal(1 - 1/(9a), 1/(9a)) (Wilson-Hilferty): relative
    error about 1e-7 at a = 1e4 and smaller beyond, where the series would need ~sqrt(a) terms."""
    c = (x / a).pow(1.0 / 3)
    z = (c - 1 + 1 / (9 * a)) * 3 * a.sqrt()
    return c.pow(3) + 3 * a * c.pow(2) * (1 / (9 * a.pow(2)) - z / (6 * a.pow(1.5)))


def standard_gamma_grad(alpha, x):
    """dx/dalpha for x ~ Gamma(alpha, 1) at fixed CDF value (float64 inside, returned in alpha's dtype)."""
    from .. import float64, no_grad
    with no_grad():
        a, v = alpha.detach().to(float64), x.detach().to(float64)
        large = a >= _LARGE
        # NOTE: the exact path sees benign stand-ins where the asymptotic one answers, so it always converges.
        a_exact, v_exact = a.where(~large, a * 0 + 1), v.where(~large, v * 0 + 1)
        use_series = v_exact < a_exact + 1
        h = 1e-5 * a_exact.clamp(min=1.0)
        lower = (a_exact - h).clamp(min=a_exact * 0.5)
        # NOTE: differentiate whichever of P or Q is the smaller (the accurate one); dP = -dQ.
        p_hi, q_hi = _lower_regularized(a_exact + h, v_exact, use_series)
        p_lo, q_lo = _lower_regularized(lower, v_exact, use_series)
        step = a_exact + h - lower
        dp = ((p_hi - p_lo) / step).where(use_series, -(q_hi - q_lo) / step)
        density = ((a_exact - 1) * v_exact.log() - v_exact - a_exact.lgamma()).exp()
        exact = -dp / density
        return exact.where(~large, _wilson_hilferty_grad(a, v)).to(alpha.dtype)


class _StandardGamma(Function):
    """Gamma(alpha, 1) samples; backward is the implicit reparameterisation gradient."""

    @staticmethod
    def forward(ctx, alpha):
        from .. import finfo
        from ._host_rng import draw
        x = draw("standard_gamma", alpha, like=alpha)
        # NOTE: a sample that underflows to 0 (tiny alpha) would give log(0) downstream; PyTorch clamps too.
        x = x.clamp(min=finfo(x.dtype).tiny)
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return grad * standard_gamma_grad(alpha, x)


def _standard_gamma(concentration):
    """Samples of Gamma(concentration, 1), differentiable in concentration."""
    return _StandardGamma.apply(concentration)


class _Gammainc(Function):
    """P(a, x), the regularised lower incomplete gamma function (torch.special.gammainc's values).
    Differentiable in x (the density); like PyTorch, not in a."""

    @staticmethod
    def forward(ctx, a, x):
        from .. import broadcast_tensors, float64, no_grad
        with no_grad():
            a64, x64 = broadcast_tensors(a.detach().to(float64), x.detach().to(float64))
            positive = x64 > 0
            safe_x = x64.where(positive, a64 * 0 + 1)
            lower, _ = _lower_regularized(a64, safe_x, safe_x < a64 + 1)
            result = lower.where(positive, lower * 0).to(x.dtype)
        ctx.save_for_backward(a, x)
        return result

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
        density = ((a - 1) * x.log() - x - a.lgamma()).exp()
        return None, grad * density


def gammainc(a, x):
    """The regularised lower incomplete gamma function P(a, x)."""
    return _Gammainc.apply(a, x)
