"""Special functions of the error and gamma family on float arrays, through `xp` only: erfcx, log_ndtr,
ndtri, the regularised incomplete gamma functions and the Hurwitz zeta function. Each computes in
float64 and returns the input's dtype (the first operand's, for two operands).
"""
import math

from ._special_math import (_STIRLING, ERFC_1_2, ERFC_2_4, ERFC_4_8, ERFC_TAIL, _by_pieces, _cheb, _float64, erfc,
                            lgamma)

_SQRT_PI = math.sqrt(math.pi)
_SQRT2 = math.sqrt(2.0)


def _exp_square(xp, a):
    """exp(a*a) without the rounding error of a*a (a head on a 1/16 grid and a small tail)."""
    head = xp.floor(a * 16) / 16
    return xp.exp(head * head) * xp.exp((a - head) * (a + head))


def _erfcx_from_1(xp, a):
    """exp(a^2) erfc(a) for a >= 1: the scaled pieces of erfc (their fits are exp(x^2) erfc(x))."""
    out = xp.empty_like(a)
    return _by_pieces(xp, a, out, [
        (a < 2, lambda v: _cheb(xp, ERFC_1_2, v)),
        ((a >= 2) & (a < 4), lambda v: _cheb(xp, ERFC_2_4, v)),
        ((a >= 4) & (a < 8), lambda v: _cheb(xp, ERFC_4_8, v)),
        # NOTE: 1 / v^2 underflows to 0 for huge v (and inf): the tail's first coefficient is 1/sqrt(pi)
        (a >= 8, lambda v: _cheb(xp, ERFC_TAIL, 1 / (v * v)) / v),
    ])


def erfcx64(xp, v):
    out = v.copy()  # NOTE: NaN stays NaN
    return _by_pieces(xp, v, out, [
        (xp.abs(v) < 1, lambda t: _exp_square(xp, t) * erfc(t, xp)),
        (v >= 1, lambda t: _erfcx_from_1(xp, t)),
        # NOTE: erfcx(-a) = 2 exp(a^2) - erfcx(a) (from erfc(-a) = 2 - erfc(a)); inf below -26.6 (a clipped to
        # 27 so that exp overflows to inf rather than -inf giving NaN)
        (v <= -1, lambda t: 2 * _exp_square(xp, xp.minimum(-t, 27.0)) - _erfcx_from_1(xp, -t)),
    ])


def erfcx(x, xp):
    """The scaled complementary error function exp(x^2) erfc(x)."""
    return erfcx64(xp, _float64(xp, x)).astype(x.dtype, copy=False)


def log_ndtr64(xp, v):
    out = v.copy()
    return _by_pieces(xp, v, out, [
        # NOTE: log(1 - ndtr(-x)) keeps the tiny left tail of the right half exact
        (v >= 0, lambda t: xp.log1p(-0.5 * erfc(t / _SQRT2, xp))),
        # NOTE: ndtr(x) = erfc(u) / 2 = erfcx(u) exp(-u^2) / 2 with u = -x / sqrt(2): no underflow to log(0)
        (v < 0, lambda t: xp.log(0.5 * erfcx64(xp, -t / _SQRT2)) - 0.5 * t * t),
    ])


def log_ndtr(x, xp):
    """log of the standard normal CDF, accurate far into both tails."""
    return log_ndtr64(xp, _float64(xp, x)).astype(x.dtype, copy=False)


def _erfcinv_small(xp, q):
    """y >= 0.47 with erfc(y) = q, for 0 < q <= 0.5: Newton steps on log erfc(y) = log erfcx(y) - y^2,
    which stays finite (and nearly linear in y^2) however small q is."""
    # NOTE: Winitzki's closed form for erfinv(1 - q) starts it, with log(1 - (1 - q)^2) written through q
    k = 0.147
    ln = xp.log(q) + xp.log(2 - q)
    t = 2 / (math.pi * k) + ln / 2
    y = xp.sqrt(xp.sqrt(t * t - ln / k) - t)
    target = xp.log(q)
    for _ in range(5):
        ex = erfcx64(xp, y)
        f = xp.log(ex) - y * y - target
        y = y + f * (_SQRT_PI / 2) * ex  # NOTE: d/dy log erfc(y) = -2 / (sqrt(pi) erfcx(y))
    return y


def ndtri64(xp, p):
    out = xp.where((p < 0) | (p > 1), xp.nan, p)
    out = xp.where(p == 0, -xp.inf, xp.where(p == 1, xp.inf, out))
    middle = (p >= 0.25) & (p <= 0.75)
    return _by_pieces(xp, p, out, [
        # NOTE: 2p - 1 is exact on [0.25, 0.75]; erfinv keeps the precision of values near 0.5
        (middle, lambda t: _SQRT2 * _erfinv64(xp, 2 * t - 1)),
        ((p > 0) & (p < 0.25), lambda t: -_SQRT2 * _erfcinv_small(xp, 2 * t)),
        ((p > 0.75) & (p < 1), lambda t: _SQRT2 * _erfcinv_small(xp, 2 * (1 - t))),
    ])


def _erfinv64(xp, y):
    from ._special_math import erfinv
    return erfinv(y, xp)


def ndtri(p, xp):
    """The inverse of the standard normal CDF."""
    return ndtri64(xp, _float64(xp, p)).astype(p.dtype, copy=False)


# --- regularised incomplete gamma functions ---------------------------------------------------------
_CHUNK = 16           # iterations between convergence checks
# NOTE: the series and the continued fraction need ~9 sqrt(a) steps where x is near a; converged elements
# leave the loop, so only those pay. Past the cap (a beyond ~1e8 with x near a) the result is truncated.
_MAX_ITER = 1 << 17


def _log1p_minus(xp, t):
    """log(1 + t) - t, accurate for small t (its series, DLMF 4.6.1) where the difference cancels."""
    small = xp.abs(t) <= 0.2
    u = xp.where(small, t, 0.0)
    series = xp.zeros_like(t)
    for k in range(26, 1, -1):  # NOTE: 0.2^26 / 26 < 1e-19
        series = series * u + (1 if k % 2 else -1) / k
    return xp.where(small, series * u * u, xp.log1p(xp.where(small, 0.0, t)) - t)


def _prefactor(xp, a, x):
    """x^a exp(-x) / Gamma(a), from logs (no overflow). NOTE: for a >= 10 written as
    sqrt(a / 2 pi) exp(a (log1p(t) - t) - S(a)) with t = (x - a) / a and S Stirling's series for lgamma
    (DLMF 5.11.1): a log x - x - lgamma(a) would lose ~a ulps to cancellation near x = a."""
    direct = a * xp.log(x) - x - lgamma(a, xp)
    big = a >= 10
    safe_a = xp.where(big, a, 10.0)
    inv = 1 / safe_a
    inv2 = inv * inv
    stirling = xp.zeros_like(a)
    for c in _STIRLING[::-1]:
        stirling = stirling * inv2 + c
    t = (x - safe_a) / safe_a
    uniform = safe_a * _log1p_minus(xp, t) - stirling * inv + 0.5 * xp.log(safe_a / (2 * math.pi))
    return xp.exp(xp.where(big, uniform, direct))


def _iterate(xp, state, step, converged, value):
    """Run `state = step(state, n)` for n = 1, 2, ... on 1-d arrays; every _CHUNK steps the elements with
    `converged(state)` are written out (`value(state)`) and leave the loop."""
    size = state[0].shape[0]
    out = xp.empty(size, dtype=xp.float64)
    idx = xp.arange(size)
    for n in range(1, _MAX_ITER + 1):
        state = step(state, n)
        if n % _CHUNK == 0:
            done = converged(state)
            if bool(done.any()):
                out[idx[done]] = value(state)[done]
                keep = ~done
                idx = idx[keep]
                state = tuple(v[keep] for v in state)
                if idx.shape[0] == 0:
                    return out
    out[idx] = value(state)
    return out


def _lower_series(xp, a, x):
    """P(a, x) by its power series (DLMF 8.7.1):
    P = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a + 1) ... (a + n)); used where x < a + 1."""
    def step(state, n):
        sa, sx, term, total = state
        term = term * sx / (sa + n)
        return sa, sx, term, total + term
    ones = xp.ones_like(x)
    total = _iterate(xp, (a, x, ones, ones.copy()), step, lambda s: s[2] <= s[3] * 1e-17, lambda s: s[3])
    return total * _prefactor(xp, a, x) / a


def _upper_fraction(xp, a, x):
    """Q(a, x) by Legendre's continued fraction (DLMF 8.9.2) in its even form,
    Gamma(a, x) = x^a e^-x / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / (x + 5 - a - ...))),
    evaluated forward by the modified Lentz method; used where x >= a + 1 (it converges fast there)."""
    tiny = 1e-300

    def step(state, n):
        sa, b, c, d, h, delta = state
        an = -n * (n - sa)
        b = b + 2
        d = an * d + b
        d = xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        d = 1 / d
        delta = d * c
        return sa, b, c, d, h * delta, delta
    b = x + 1 - a
    d = 1 / b
    state = (a, b, xp.full_like(x, 1 / tiny), d, d.copy(), xp.zeros_like(x))
    h = _iterate(xp, state, step, lambda s: xp.abs(s[5] - 1) <= 1e-16, lambda s: s[4])
    return h * _prefactor(xp, a, x)


def _incomplete_gamma(xp, a, x, upper):
    a, x = xp.broadcast_arrays(a, x)
    a = a.astype(xp.float64)  # NOTE: also a copy (broadcast views are read-only)
    x = x.astype(xp.float64)
    out = xp.full(a.shape, xp.nan, dtype=xp.float64)
    inside = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
    series = inside & (x < a + 1)
    fraction = inside & (x >= a + 1)
    if series.any():
        p = _lower_series(xp, a[series], x[series])
        out[series] = 1 - p if upper else p
    if fraction.any():
        q = _upper_fraction(xp, a[fraction], x[fraction])
        out[fraction] = q if upper else 1 - q
    # NOTE: PyTorch's values on the edges: P(0, x > 0) = 1, P(a > 0, 0) = 0, P(inf, finite x) = 0,
    # P(finite a, inf) = 1; NaN for negative arguments and for (0, 0)
    lower_edge = xp.where((a == 0) & (x > 0), 1.0, xp.nan)
    lower_edge = xp.where((a > 0) & (x == 0), 0.0, lower_edge)
    lower_edge = xp.where(xp.isposinf(a) & (x >= 0) & xp.isfinite(x), 0.0, lower_edge)
    lower_edge = xp.where(xp.isposinf(x) & (a >= 0) & xp.isfinite(a), 1.0, lower_edge)
    edge = ~inside & ~xp.isnan(lower_edge)
    out = xp.where(edge, 1 - lower_edge if upper else lower_edge, out)
    return out


def gammainc(a, x, xp):
    """The regularised lower incomplete gamma function P(a, x)."""
    return _incomplete_gamma(xp, a, x, upper=False).astype(a.dtype, copy=False)


def gammaincc(a, x, xp):
    """The regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return _incomplete_gamma(xp, a, x, upper=True).astype(a.dtype, copy=False)


# --- Hurwitz zeta ------------------------------------------------------------------------------------
# B_2j / (2j)! for j = 1..12 (DLMF 24.2.1's Bernoulli numbers): the Euler-Maclaurin tail's weights
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798,
              -174611 / 330, 854513 / 138, -236364091 / 2730)
_EM_WEIGHTS = tuple(b / math.factorial(2 * j + 2) for j, b in enumerate(_BERNOULLI))


def _hurwitz(xp, s, q):
    """sum_k (q + k)^-s for s > 1 by Euler-Maclaurin summation (DLMF 25.11.5 with 2.10.1): the first N
    terms directly, then the integral, half the next term and the Bernoulli corrections at q + N."""
    shift = 12
    if q.size and float(q.min()) < 0:
        shift = max(shift, int(math.ceil(12 - float(q.min()))))  # NOTE: negative q: sum past its poles
    total = xp.zeros_like(q)
    for k in range(min(shift, 12)):
        total = total + (q + k) ** -s
    # NOTE: a very negative q needs ~|q| direct terms (as PyTorch's loop does): taken a block of k at a time,
    # the block as wide as ~4M elements of work allows, so the Python loop stays short
    width = max(1, min(4096, (1 << 22) // max(q.size, 1)))
    for start in range(12, shift, width):
        k = xp.arange(start, min(start + width, shift), dtype=xp.float64)
        total = total + ((q[..., None] + k) ** -s[..., None]).sum(axis=-1)
    b = q + shift
    total = total + b ** (1 - s) / (s - 1) + 0.5 * b ** -s
    rising = s.copy()  # s (s + 1) ... (s + 2j), grown two factors per term
    power = b ** (-s - 1)
    inv2 = 1 / (b * b)
    for j, w in enumerate(_EM_WEIGHTS):
        total = total + w * rising * power
        rising = rising * (s + 2 * j + 1) * (s + 2 * j + 2)
        power = power * inv2
    return total


def zeta(s, q, xp):
    """The Hurwitz zeta function sum_k (q + k)^-s, with PyTorch's values off its domain: inf at s = 1
    and at q = 0, -1, -2, ...; NaN for s < 1 and for negative q with non-integer s."""
    dtype = s.dtype
    s, q = xp.broadcast_arrays(s, q)
    s = s.astype(xp.float64)
    q = q.astype(xp.float64)
    out = xp.full(s.shape, xp.nan, dtype=xp.float64)
    pole = (s == 1) | ((q <= 0) & (q == xp.floor(q)) & (s > 1))
    ok = (s > 1) & xp.isfinite(s) & xp.isfinite(q) & ~pole & ((q > 0) | (s == xp.floor(s)))
    if ok.any():
        out[ok] = _hurwitz(xp, s[ok], q[ok])
    out = xp.where(pole, xp.inf, out)
    # NOTE: s = inf: only the first term can survive (1 at q = 1, inf below); PyTorch gives NaN beyond
    at_inf = xp.isposinf(s) & (q > 0)
    out = xp.where(at_inf & (q > 1), xp.nan, xp.where(at_inf & (q == 1), 1.0, xp.where(at_inf & (q < 1), xp.inf, out)))
    return out.astype(dtype, copy=False)
