"""Derive the Chebyshev coefficients used by ember/_backends/_special_math.py (erf, lgamma, digamma).

Run: .venv/bin/python tools/fit_special.py   (needs mpmath, a test-time dependency only)
Each piece is a function on [a, b] sampled at Chebyshev points in 50-digit arithmetic; the
coefficients are kept until they fall below 1e-17 of the largest.
"""
import mpmath as mp

mp.mp.dps = 50
X0 = mp.findroot(mp.digamma, 1.46)  # the positive root of digamma


def cheb(f, a, b, n=60):
    """Chebyshev coefficients c_k of f on [a, b]: f(x) = sum c_k T_k(u), u = (2x - a - b) / (b - a)."""
    nodes = [mp.cos(mp.pi * (j + mp.mpf(1) / 2) / n) for j in range(n)]
    vals = [f((b - a) / 2 * u + (a + b) / 2) for u in nodes]
    coeffs = []
    for k in range(n):
        s = mp.fsum(v * mp.cos(mp.pi * k * (j + mp.mpf(1) / 2) / n) for j, v in enumerate(vals))
        coeffs.append(s * (1 if k == 0 else 2) / n)
    top = max(abs(c) for c in coeffs)
    while abs(coeffs[-1]) < 1e-17 * top:
        coeffs.pop()
    return [float(c) for c in coeffs]


def erf_over_x(t):  # erf(x) / x as a function of t = x^2, on [0, 1]
    x = mp.sqrt(t)
    return 2 / mp.sqrt(mp.pi) if t == 0 else mp.erf(x) / x


def scaled_erfc(x):  # exp(x^2) erfc(x)
    return mp.exp(x * x) * mp.erfc(x)


def scaled_erfc_tail(s):  # x exp(x^2) erfc(x) as a function of s = 1 / x^2
    if s == 0:
        return 1 / mp.sqrt(mp.pi)
    x = 1 / mp.sqrt(s)
    return x * scaled_erfc(x)


def lgamma_core(x):  # lgamma(x) / ((x - 1)(x - 2))
    return mp.loggamma(x) / ((x - 1) * (x - 2))


def digamma_core(x):  # digamma(x) / (x - x0)
    return mp.digamma(x) / (x - X0)


PIECES = {
    "ERF_SMALL": (erf_over_x, 0, 1),
    "ERFC_1_2": (scaled_erfc, 1, 2),
    "ERFC_2_4": (scaled_erfc, 2, 4),
    "ERFC_4_8": (scaled_erfc, 4, 8),
    "ERFC_TAIL": (scaled_erfc_tail, 0, mp.mpf(1) / 64),
    "LGAMMA_CORE": (lgamma_core, 1.5, 2.5),
    "DIGAMMA_CORE": (digamma_core, 1, 2),
}

if __name__ == "__main__":
    x0_hi = float(X0)
    print(f"DIGAMMA_ROOT = ({x0_hi!r}, {float(X0 - mp.mpf(x0_hi))!r})")
    for name, (f, a, b) in PIECES.items():
        c = cheb(f, mp.mpf(a), mp.mpf(b))
        print(f"{name} = ({float(a)!r}, {float(b)!r}, (")
        for i in range(0, len(c), 3):
            print("    " + ", ".join(repr(v) for v in c[i:i + 3]) + ",")
        print("))")
