"""Bessel and Airy functions of torch.special on float arrays, through `xp` only: I0, I1 (and their
exponentially scaled forms), K0, K1 (and scaled), J0, J1, Y0, Y1, the spherical j0 and Airy's Ai. Each
computes in float64 and returns the input's dtype. Methods, all from the mathematics (DLMF numbers):
- power series where the argument is small (10.25.2, 10.31.1/2, 10.2.2, 10.8.1/2, 9.4.1);
- I for large arguments: the asymptotic expansion 10.40.1 (its error is below e^-2x, negligible past 30);
- K (and Ai on the right) past 2: the integral 10.32.9, e^x K_nu(x) = int_0^inf exp(-2x sinh^2(t/2))
  cosh(nu t) dt, by the trapezoidal rule in s = t sqrt(x), which converges geometrically for a smooth,
  fast-decaying integrand (the step 1/4 leaves an error near e^-300);
- J and Y (and Ai on the left) from 6 to 40: Miller's backward recurrence for J_{nu+n} (10.6.1), normalised
  by the Neumann sums of DLMF 10.12 and 10.23(ii) (1 = J0 + 2 sum J_2k; (z/2)^nu = sum (nu + 2k) Gamma(nu + k)
  / k! J_{nu+2k}),
  with Y0 from its Neumann series (DLMF 10.23; Y0 = 2/pi (log(x/2) + gamma) J0 - 4/pi sum (-1)^k J_2k / k) and
  Y1 its negated derivative;
- J and Y past 40: Hankel's expansion 10.17.3 (error below e^-2x).
"""
import functools
import math

from ._special_math import _by_pieces, _by_ranges, _float64

_EULER = 0.57721566490153286061
_TWO_OVER_PI = 2 / math.pi
_CHUNK = 8


def _series(xp, y, first, ratio, terms=60):
    """sum_k t_k with t_0 = first and t_k = t_{k-1} * y * ratio(k), stopping once every term is negligible."""
    term = first
    total = first.copy()
    for k in range(1, terms):
        term = term * y * ratio(k)
        total = total + term
        if k % _CHUNK == 0 and not bool(xp.any(xp.abs(term) > 1e-17 * xp.abs(total))):
            break
    return total


# NOTE: log of the largest finite value, by itemsize (float16, float32, float64; CuPy has no finfo)
_LOG_MAX = {2: math.log(65504.0), 4: math.log(3.4028234663852886e38), 8: math.log(1.7976931348623157e308)}


# --- I0, I1 -------------------------------------------------------------------------------------------
_I_SERIES_MAX = 30.0


def _scaled_i(xp, a, nu):
    """e^-a I_nu(a) for a >= 0 (nu = 0 or 1)."""
    def small(t):
        first = xp.ones_like(t) if nu == 0 else t / 2
        return _series(xp, t * t / 4, first, lambda k: 1 / (k * (k + nu)), terms=120) * xp.exp(-t)

    def large(t):
        # NOTE: 10.40.1: e^-t I_nu(t) ~ (2 pi t)^-1/2 sum_k (-1)^k a_k(nu) / t^k
        mu = 4 * nu * nu
        term = xp.ones_like(t)
        total = term.copy()
        for k in range(1, 40):
            term = term * -(mu - (2 * k - 1) ** 2) / (8 * k * t)
            total = total + term
        return total / xp.sqrt(2 * math.pi * t)
    return _by_ranges(xp, a, (_I_SERIES_MAX,), (small, large))


def _bessel_i(x, nu, scaled, xp):
    v = _float64(xp, x)
    a = xp.abs(v)
    finite = xp.isfinite(a)
    s = _scaled_i(xp, xp.where(finite, a, 0.0), nu)
    if scaled:
        out = xp.where(finite, s, 0.0)  # NOTE: e^-x I(x) -> 0 as x -> inf
    else:
        # NOTE: inf once e^|x| overflows in the input's dtype (PyTorch's kernels compute e^|x| times the scaled
        # value, in the input's precision); e^a is taken in two halves so that float64 reaches that point
        limit = _LOG_MAX[x.dtype.itemsize]
        half = xp.exp(a / 2)
        out = xp.where(a > limit, xp.inf, half * s * half)
        out = xp.where(finite, out, xp.nan)  # NOTE: NaN at +-inf, as PyTorch's
    if nu == 1:
        out = xp.copysign(out, v)  # NOTE: I1 is odd
    return xp.where(xp.isnan(v), v, out).astype(x.dtype, copy=False)


# NOTE: the backend's Special looks these names up and calls them as kernel(x, xp=xp)
i0 = functools.partial(_bessel_i, nu=0, scaled=False)
i0e = functools.partial(_bessel_i, nu=0, scaled=True)
i1 = functools.partial(_bessel_i, nu=1, scaled=False)
i1e = functools.partial(_bessel_i, nu=1, scaled=True)


# --- K0, K1 -------------------------------------------------------------------------------------------
_K_STEP = 0.25
_K_NODES = tuple(j * _K_STEP for j in range(41))  # s in [0, 10]: the integrand is below e^-40 beyond


def _scaled_k_integral(xp, x, nu):
    """e^x K_nu(x) for x >= 2 by the trapezoidal rule on 10.32.9 (see the module's docstring)."""
    root = xp.sqrt(x)
    total = xp.zeros_like(x)
    for j, s in enumerate(_K_NODES):
        t = s / root
        sh = xp.sinh(t / 2)
        f = xp.exp(-2 * x * sh * sh)
        if nu:
            f = f * xp.cosh(nu * t)
        total = total + (0.5 * f if j == 0 else f)
    return total * _K_STEP / root


def _k_small(xp, x, nu):
    """K_nu(x) for 0 < x <= 2 (nu = 0, 1) from 10.31.2 and 10.31.1, with psi(k+1) = H_k - gamma."""
    y = x * x / 4
    log_half = xp.log(x / 2)
    term = xp.ones_like(x) if nu == 0 else x / 2
    i_sum = term.copy()       # I_nu(x)
    h_sum = xp.zeros_like(x)  # nu = 0: sum H_k y^k / k!^2; nu = 1: sum (H_k + H_{k+1}) y^k / (k! (k+1)!)
    harmonic = 0.0
    if nu == 1:
        h_sum = term * 1.0  # k = 0: H_0 + H_1 = 1
    for k in range(1, 40):
        term = term * y / (k * (k + nu))
        harmonic += 1 / k
        i_sum = i_sum + term
        h_sum = h_sum + term * (harmonic if nu == 0 else 2 * harmonic + 1 / (k + 1))
    if nu == 0:
        return -(log_half + _EULER) * i_sum + h_sum
    # NOTE: 10.31.1: K1 = 1/x + log(x/2) I1 - (x/4) sum (psi(k+1) + psi(k+2)) y^k / (k! (k+1)!), and
    # term already carries x/2: sum (H_k + H_{k+1} - 2 gamma) term / 2
    return 1 / x + log_half * i_sum - (h_sum - 2 * _EULER * i_sum) / 2


def _bessel_k(x, nu, scaled, xp):
    v = _float64(xp, x)
    out = xp.where(v == 0, xp.inf, xp.nan)
    out = xp.where(xp.isposinf(v), 0.0, out)
    out = xp.where(xp.isnan(v), v, out)
    _by_pieces(xp, v, out, [
        ((v > 0) & (v <= 2), lambda t: _k_small(xp, t, nu) * (xp.exp(t) if scaled else 1.0)),
        ((v > 2) & xp.isfinite(v), lambda t: _scaled_k_integral(xp, t, nu) * (1.0 if scaled else xp.exp(-t))),
    ])
    return out.astype(x.dtype, copy=False)


k0 = functools.partial(_bessel_k, nu=0, scaled=False)
k0e = functools.partial(_bessel_k, nu=0, scaled=True)
k1 = functools.partial(_bessel_k, nu=1, scaled=False)
k1e = functools.partial(_bessel_k, nu=1, scaled=True)


# --- J0, J1, Y0, Y1 -----------------------------------------------------------------------------------
_JY_SERIES_MAX = 6.0
_JY_MILLER_MAX = 40.0
_MILLER_TOP = 100


def _jy_series(xp, x):
    """(J0, J1, Y0, Y1) for 0 < x <= 6 from 10.2.2 and 10.8.1/2 (psi(k+1) = H_k - gamma)."""
    y = -x * x / 4
    t0 = xp.ones_like(x)   # (-y)^k / k!^2
    t1 = x / 2             # (x/2) (-y)^k / (k! (k+1)!)
    j0, j1 = t0.copy(), t1.copy()
    h0 = xp.zeros_like(x)  # sum H_k t0_k
    h1 = t1.copy()         # sum (H_k + H_{k+1}) t1_k
    harmonic = 0.0
    for k in range(1, 40):
        t0 = t0 * y / (k * k)
        t1 = t1 * y / (k * (k + 1))
        harmonic += 1 / k
        j0, j1 = j0 + t0, j1 + t1
        h0 = h0 + harmonic * t0
        h1 = h1 + (2 * harmonic + 1 / (k + 1)) * t1
    log_half = xp.log(x / 2)
    y0 = _TWO_OVER_PI * ((log_half + _EULER) * j0 - h0)
    # NOTE: 10.8.1 with n = 1: -2/(pi x) + (2/pi) log(x/2) J1 - (1/pi) sum (psi(k+1) + psi(k+2)) t1_k
    y1 = -_TWO_OVER_PI / x + _TWO_OVER_PI * log_half * j1 - (h1 - 2 * _EULER * j1) / math.pi
    return j0, j1, y0, y1


def _odd_weight(m):
    """The weight of J_m (m odd) in sum_k (-1)^k (J_{2k-1} - J_{2k+1}) / k."""
    k = (m + 1) // 2
    w = (-1) ** k / k
    if m >= 3:
        k = (m - 1) // 2
        w -= (-1) ** k / k
    return w


_ODD_WEIGHTS = {m: _odd_weight(m) for m in range(1, _MILLER_TOP + 2, 2)}


def _jy_miller(xp, x):
    """(J0, J1, Y0, Y1) for 6 < x <= 40 by Miller's algorithm and the Neumann series (module docstring)."""
    upper = xp.zeros_like(x)       # J_{n+1}
    cur = xp.full_like(x, 1e-250)  # J_n, n = _MILLER_TOP; NOTE: grows by < 1e112 on the way down from here
    norm = xp.zeros_like(x)
    even_sum = xp.zeros_like(x)    # sum_k (-1)^k J_2k / k
    odd_sum = xp.zeros_like(x)     # sum_k (-1)^k (J_{2k-1} - J_{2k+1}) / k
    for n in range(_MILLER_TOP, 0, -1):
        if n % 2 == 0:
            norm = norm + 2 * cur
            even_sum = even_sum + ((-1) ** (n // 2) / (n // 2)) * cur
        else:
            odd_sum = odd_sum + _ODD_WEIGHTS[n] * cur
        upper, cur = cur, (2 * n / x) * cur - upper
    norm = norm + cur
    j0, j1 = cur / norm, upper / norm
    log_term = xp.log(x / 2) + _EULER
    y0 = _TWO_OVER_PI * (log_term * j0 - 2 * even_sum / norm)
    y1 = _TWO_OVER_PI * (log_term * j1 - j0 / x + odd_sum / norm)
    return j0, j1, y0, y1


def _hankel(xp, x, nu, terms=30):
    """(J_nu, Y_nu) for x > 40 from 10.17.3, the phase reduced with x itself (exact in cos and sin)."""
    mu = 4 * nu * nu
    term = xp.ones_like(x)
    p, q = term.copy(), xp.zeros_like(x)
    for m in range(1, terms):
        term = term * (mu - (2 * m - 1) ** 2) / (8 * m * x)
        sign = 1 if (m // 2) % 2 == 0 else -1
        if m % 2:
            q = q + sign * term
        else:
            p = p + sign * term
    shift = (2 * nu + 1) * math.pi / 4  # NOTE: omega = x - shift
    c, s = xp.cos(x), xp.sin(x)
    cos_w = c * math.cos(shift) + s * math.sin(shift)
    sin_w = s * math.cos(shift) - c * math.sin(shift)
    scale = xp.sqrt(_TWO_OVER_PI / x)
    return scale * (p * cos_w - q * sin_w), scale * (p * sin_w + q * cos_w)


def _jy(xp, a, which):
    """which = 0..3: J0, J1, Y0, Y1 at a > 0, finite."""
    return _by_ranges(xp, a, (_JY_SERIES_MAX, _JY_MILLER_MAX), (
        lambda t: _jy_series(xp, t)[which],
        lambda t: _jy_miller(xp, t)[which],
        lambda t: _hankel(xp, t, which % 2)[which // 2],
    ))


def bessel_j(x, nu, xp):
    """J0 or J1 (nu = 0, 1): even and odd in x."""
    v = _float64(xp, x)
    a = xp.abs(v)
    out = xp.where(v == 0, 1.0 if nu == 0 else v, xp.where(xp.isinf(v), xp.nan, v))  # NOTE: NaN at inf, as PyTorch
    _by_pieces(xp, a, out, [((a > 0) & xp.isfinite(a), lambda t: _jy(xp, t, nu))])
    if nu == 1:
        out = xp.where(v < 0, -out, out)  # NOTE: J1 is odd (and J1(-0) = -0)
    return out.astype(x.dtype, copy=False)


def bessel_y(x, nu, xp):
    """Y0 or Y1 (nu = 0, 1): -inf at 0, NaN for negative x and at inf (PyTorch's value)."""
    v = _float64(xp, x)
    out = xp.where(v == 0, -xp.inf, xp.nan)
    _by_pieces(xp, v, out, [((v > 0) & xp.isfinite(v), lambda t: _jy(xp, t, 2 + nu))])
    return out.astype(x.dtype, copy=False)


def spherical_j0(x, xp):
    """sin(x) / x, 1 at 0 and 0 at +-inf."""
    v = _float64(xp, x)
    safe = xp.where((v == 0) | xp.isinf(v), 1.0, v)
    out = xp.where(v == 0, 1.0, xp.where(xp.isinf(v), 0.0, xp.sin(safe) / safe))
    return out.astype(x.dtype, copy=False)


# --- Airy Ai --------------------------------------------------------------------------------------------
_AI0 = 0.355028053887817239260    # Ai(0) = 3^(-2/3) / Gamma(2/3)
_AIP0 = 0.258819403792806798405   # -Ai'(0) = 3^(-1/3) / Gamma(1/3)
_AIRY_SERIES_MAX = 2.0            # |zeta| = 2/3 |x|^(3/2) <= 2 there


def _airy_series(xp, x):
    """Ai(x) = Ai(0) f(x) + Ai'(0) g(x) with f, g the Maclaurin series of 9.4.1."""
    cube = x * x * x
    f_term, g_term = xp.ones_like(x), x.copy()
    f, g = f_term.copy(), g_term.copy()
    for k in range(1, 40):
        f_term = f_term * cube / ((3 * k - 1) * (3 * k))
        g_term = g_term * cube / ((3 * k) * (3 * k + 1))
        f, g = f + f_term, g + g_term
    return _AI0 * f - _AIP0 * g


def _miller_fractional(xp, z, nu):
    """J_nu(z) for 0 < nu < 1 and 2 <= z <= 40: Miller's recurrence normalised by
    (z/2)^nu = sum (nu + 2k) Gamma(nu + k) / k! J_{nu+2k}(z) (DLMF 10.23(ii))."""
    upper = xp.zeros_like(z)
    cur = xp.full_like(z, 1e-250)
    norm = xp.zeros_like(z)
    for n in range(_MILLER_TOP, 0, -1):
        if n % 2 == 0:
            k = n // 2
            norm = norm + (nu + n) * math.exp(math.lgamma(nu + k) - math.lgamma(k + 1)) * cur
        upper, cur = cur, (2 * (nu + n) / z) * cur - upper
    norm = norm + nu * math.gamma(nu) * cur
    return cur * (z / 2) ** nu / norm, upper * (z / 2) ** nu / norm


def _airy_left(xp, a):
    """Ai(-a) where zeta = 2/3 a^(3/2) > 2: (sqrt(a) / 3) (J_{1/3}(zeta) + J_{-1/3}(zeta)) (9.6.6)."""
    zeta = 2 / 3 * a * xp.sqrt(a)

    def near(z):
        j13, _ = _miller_fractional(xp, z, 1 / 3)
        j23, j53 = _miller_fractional(xp, z, 2 / 3)
        return j13 + (4 / 3 / z) * j23 - j53  # NOTE: J_{-1/3} = (2 (2/3) / z) J_{2/3} - J_{5/3}

    def far(z):
        return _hankel_fractional(xp, z, 1 / 3) + _hankel_fractional(xp, z, -1 / 3)
    return xp.sqrt(a) / 3 * _by_ranges(xp, zeta, (_JY_MILLER_MAX,), (near, far))


def _hankel_fractional(xp, z, nu):
    return _hankel(xp, z, nu)[0]


def _airy_right(xp, x):
    """Ai(x) for zeta > 2: sqrt(x / 3) K_{1/3}(zeta) / pi (9.6.1), K from its integral."""
    zeta = 2 / 3 * x * xp.sqrt(x)
    return xp.sqrt(x / 3) / math.pi * _scaled_k_integral(xp, zeta, 1 / 3) * xp.exp(-zeta)


def airy_ai(x, xp):
    """Airy's Ai; NaN at +-inf, as PyTorch's."""
    v = _float64(xp, x)
    out = xp.full_like(v, xp.nan)
    edge = _AIRY_SERIES_MAX ** (2 / 3) * 1.5 ** (2 / 3)  # NOTE: |x| where zeta = 2
    finite = xp.isfinite(v)
    _by_pieces(xp, v, out, [
        (xp.abs(v) <= edge, lambda t: _airy_series(xp, t)),
        ((v > edge) & (v <= 200), lambda t: _airy_right(xp, t)),
        ((v > 200) & finite, lambda t: xp.zeros_like(t)),  # NOTE: Ai(200) ~ 1e-820 underflows
        ((v < -edge) & finite, lambda t: _airy_left(xp, -t)),
    ])
    return out.astype(x.dtype, copy=False)
