"""The classical orthogonal polynomials of torch.special, evaluated elementwise at (x, n) through `xp` only.
n is truncated to an integer, as PyTorch does; negative n gives 0. Each computes in the operands' (float)
dtype, as PyTorch's kernels do, by the three-term recurrences of DLMF 18.9.1 (Table 18.9.1), with PyTorch's
choices at x = +-1 and its trigonometric forms (DLMF 18.5.1) for large n inside (-1, 1).
"""


def _degree(xp, x, n):
    x, n = xp.broadcast_arrays(x, n)
    n = xp.trunc(n)
    top = int(n.max()) if n.size and bool(xp.isfinite(n.max())) else 0
    return x, n, top


def _recurrence(xp, x, n, top, p0, p1, step):
    """p_n(x) from p_0, p_1 and p_{k+1} = step(k, p_k, p_{k-1}), for each element's own n (<= top)."""
    prev = xp.broadcast_to(xp.asarray(p0, dtype=x.dtype), x.shape)
    cur = p1
    out = xp.where(n == 0, prev, xp.where(n == 1, cur, xp.zeros_like(x)))
    for k in range(1, top):
        prev, cur = cur, step(k, cur, prev)
        out = xp.where(n == k + 1, cur, out)
    return xp.where(n < 0, xp.zeros_like(x), out)


def _chebyshev(xp, x, n, kind):
    x, n, top = _degree(xp, x, n)
    inside = (xp.abs(x) < 1) & (n > (6 if kind == "t" else 8))
    # NOTE: the recurrence runs only as far as the elements that need it (a large n inside (-1, 1) takes
    # the trigonometric form; +-1 the closed values)
    needs = ~inside & (xp.abs(x) != 1) & (n > 1)
    top = int(xp.where(needs, n, 0).max()) if top > 1 and bool(needs.any()) else min(top, 1)
    first = {"t": x, "u": x + x, "v": x + x - 1, "w": x + x + 1}[kind]
    out = _recurrence(xp, x, n, top, 1.0, first, lambda k, p, q: (x + x) * p - q)
    if inside.any():
        # NOTE: with theta = acos(x): T_n = cos(n theta), U_n = sin((n + 1) theta) / sin(theta),
        # V_n = cos((n + 1/2) theta) / cos(theta / 2), W_n = sin((n + 1/2) theta) / sin(theta / 2)
        theta = xp.arccos(xp.where(inside, x, 0))
        trig = {"t": lambda: xp.cos(n * theta),
                "u": lambda: xp.sin((n + 1) * theta) / xp.sin(theta),
                "v": lambda: xp.cos((n + 0.5) * theta) / xp.cos(theta / 2),
                "w": lambda: xp.sin((n + 0.5) * theta) / xp.sin(theta / 2)}[kind]()
        out = xp.where(inside, trig, out)
    # NOTE: at x = 1 and x = -1 the closed values (parity of n), as PyTorch returns them
    even = (n % 2) == 0
    sign = xp.where(even, 1.0, -1.0)
    at_one = {"t": (1.0, sign), "u": (n + 1, sign * (n + 1)), "v": (1.0, sign * (n + n + 1)),
              "w": (n + n + 1, sign)}[kind]
    out = xp.where((x == 1) & (n >= 0), at_one[0], out)
    out = xp.where((x == -1) & (n >= 0), at_one[1], out)
    return out.astype(x.dtype, copy=False)


def chebyshev(x, n, kind, xp):
    """Chebyshev polynomial of the first (t), second (u), third (v) or fourth (w) kind."""
    return _chebyshev(xp, x, n, kind)


def shifted_chebyshev(x, n, kind, xp):
    """The shifted Chebyshev polynomials on [0, 1]: the polynomial at 2x - 1."""
    return _chebyshev(xp, x + x - 1, n, kind)


def hermite_h(x, n, xp):
    """Physicists' Hermite polynomial: H_{k+1} = 2x H_k - 2k H_{k-1}."""
    x, n, top = _degree(xp, x, n)
    return _recurrence(xp, x, n, top, 1.0, x + x, lambda k, p, q: (x + x) * p - (k + k) * q)


def hermite_he(x, n, xp):
    """Probabilists' Hermite polynomial: He_{k+1} = x He_k - k He_{k-1}."""
    x, n, top = _degree(xp, x, n)
    return _recurrence(xp, x, n, top, 1.0, x.copy(), lambda k, p, q: x * p - k * q)


def laguerre_l(x, n, xp):
    """Laguerre polynomial: (k + 1) L_{k+1} = (2k + 1 - x) L_k - k L_{k-1}."""
    x, n, top = _degree(xp, x, n)
    out = _recurrence(xp, x, n, top, 1.0, 1 - x, lambda k, p, q: ((k + k + 1 - x) * p - k * q) / (k + 1))
    return xp.where((x == 0) & (n >= 0), xp.ones_like(x), out)


def legendre_p(x, n, xp):
    """Legendre polynomial: (k + 1) P_{k+1} = (2k + 1) x P_k - k P_{k-1}."""
    x, n, top = _degree(xp, x, n)
    out = _recurrence(xp, x, n, top, 1.0, x.copy(), lambda k, p, q: ((k + k + 1) * x * p - k * q) / (k + 1))
    sign = xp.where((n % 2) == 0, 1.0, -1.0)
    out = xp.where((x == 1) & (n >= 0), 1.0, out)
    return xp.where((x == -1) & (n >= 0), sign, out).astype(x.dtype, copy=False)
