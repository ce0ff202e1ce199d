"""PyTorch's CPU transforms from mt19937 words to samples, vectorised over a whole tensor.

Each function takes an Engine (ember/_mt19937.py) and a count and returns a flat host array in the order
PyTorch's serial CPU kernels write a contiguous tensor, consuming exactly the words PyTorch consumes.
"""
import math

import numpy as np

# std::numeric_limits<T>::digits: the random bits a uniform of that type uses.
DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
# NOTE: PyTorch computes a float16/bfloat16/float32 sample in float and a float64 one in double.
_ACC = {"float64": np.float64}
_TWO_PI = 2.0 * math.pi


def _split(a):
    """Veltkamp's split of float64 values into two halves of 26 bits, whose products are exact."""
    t = a * 134217729.0  # 2**27 + 1
    hi = t - (t - a)
    return hi, a - hi


def fma(a, b, c):
    """a * b + c rounded once in float64, as PyTorch's compiled CPU kernels fuse it (vectorised: the
    product's exact error by Dekker's algorithm, the sum's by Knuth's; correct but for rare ties)."""
    a, b, c = np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(c, np.float64)
    if b.ndim == 0 and b == 1:
        return a + c  # NOTE: the product is exact: one rounding either way
    if c.ndim == 0 and c == 0:
        return a * b
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    v = s - p
    t = (p - (s - v)) + (c - v)
    with np.errstate(invalid="ignore", over="ignore"):
        out = s + (t + err)
    return np.where(np.isfinite(out), out, s)


def _glibc(fn, x):
    """A float64 log/log1p as PyTorch's kernels get it from the C library: NumPy's SIMD versions differ from
    it in the last bit for about 1% of inputs (sin, cos and sqrt agree), Python's math calls the C library."""
    return np.fromiter(map(fn, x.ravel().tolist()), np.float64, count=x.size).reshape(x.shape)


def _acc(name):
    return _ACC.get(name, np.float32)


def uniform01(engine, n, name):
    """uniform_real_distribution<T>(0, 1): the low `digits` bits of a 32-bit draw (64-bit for double)."""
    digits = DIGITS[name]
    if digits == 53:
        return (engine.u64(n) & np.uint64((1 << 53) - 1)).astype(np.float64) * (2.0 ** -53)
    acc = _acc(name)
    return (engine.u32(n) & np.uint32((1 << digits) - 1)).astype(acc) * acc(2.0 ** -digits)


def uniform(engine, n, dtype, low, high):
    """uniform_(low, high): x * (to - from) + from, float16/bfloat16 drawn as float32 and rounded."""
    if dtype.name == "float64":
        x = uniform01(engine, n, "float64")
        return x if low == 0 and high == 1 else fma(x, float(high) - float(low), float(low))
    lo, hi = np.float32(low), np.float32(high)
    x = uniform01(engine, n, "float32")
    if lo == 0 and hi == 1 and dtype.name == "float32":  # NOTE: x * 1 + 0 is x
        return x
    # NOTE: PyTorch's float kernel fuses x * span + lo (one rounding); the product is exact in double,
    # so the sum in double rounded once to float matches it (but for double-rounding ties, ~2**-29).
    wide = x.astype(np.float64) * np.float64(hi - lo) + np.float64(lo)
    out = wide.astype(np.float32).astype(dtype.np)
    if dtype.name != "float32":
        # NOTE: a sample that rounds up to `to` in float16/bfloat16 becomes `from`, as PyTorch keeps [from, to).
        top = np.asarray(hi, dtype.np)
        out[out == top] = np.asarray(lo, dtype.np)
    return out


def _box_muller_double(engine, n):
    """n samples of normal_distribution<double>, using and refilling the generator's cached second value."""
    out = np.empty(n, np.float64)
    start = 0
    if n and engine.next_double_normal is not None:
        out[0] = engine.next_double_normal
        engine.next_double_normal = None
        start = 1
    pairs = (n - start + 1) // 2
    if pairs:
        u = uniform01(engine, 2 * pairs, "float64")
        u1, u2 = u[0::2], u[1::2]
        r = np.sqrt(-2.0 * _glibc(math.log1p, -u2))
        theta = _TWO_PI * u1
        both = np.empty(2 * pairs, np.float64)
        both[0::2] = r * np.cos(theta)
        both[1::2] = r * np.sin(theta)
        out[start:] = both[:n - start]
        if (n - start) % 2:
            engine.next_double_normal = float(both[-1])
    return out


def _fill_16(data, name):
    """normal_fill_16 over every whole block of 16 uniforms: 8 cosines then 8 sines, in T."""
    acc = _acc(name)
    blocks = data.reshape(-1, 16)
    u1 = acc(1) - blocks[:, :8]
    u2 = blocks[:, 8:]
    radius = np.sqrt(acc(-2) * (_glibc(math.log, u1) if acc is np.float64 else np.log(u1)))
    # NOTE: float32 as PyTorch's AVX2 kernel (2*pi rounded to float, times u2 in float); its scalar kernel
    # rounds once from double, but float32 normals are compared within rounding anyway.
    theta = (_TWO_PI * u2) if acc is np.float64 else np.float32(_TWO_PI) * u2
    out = np.empty_like(blocks)
    out[:, :8] = radius * np.cos(theta)
    out[:, 8:] = radius * np.sin(theta)
    return out.reshape(-1)


def normal(engine, n, dtype, mean=0.0, std=1.0, contiguous=True):
    """normal_(mean, std) of a tensor of n elements, as PyTorch's CPU normal_kernel draws it."""
    name = dtype.name
    if n < 16 or not contiguous:
        # NOTE: small or non-contiguous tensors go element by element through normal_distribution<double>.
        return fma(_box_muller_double(engine, n), std, mean).astype(dtype.np)
    acc = _acc(name)
    whole = n - n % 16
    # NOTE: float16/bfloat16 are drawn as float32, but their first pass draws only the whole blocks'
    # uniforms (float32 and float64 draw all n, then redraw the last 16).
    first = whole if name in ("float16", "bfloat16") else n
    data = np.empty(n, acc)
    draw = "float32" if acc is np.float32 else name
    data[:first] = uniform01(engine, first, draw)
    data[:whole] = _fill_16(data[:whole], name)
    if n % 16:
        # NOTE: the last 16 are drawn again and transformed as one more block (overlapping the last whole one).
        data[n - 16:] = _fill_16(uniform01(engine, 16, draw), name)
    if acc is np.float32 and mean == 0 and std == 1:
        return data.astype(dtype.np, copy=False)
    if acc is np.float32:
        # NOTE: PyTorch's AVX2 kernel fuses n * std + mean; in double then rounded once is the same.
        return (data.astype(np.float64) * np.float64(np.float32(std)) + np.float64(np.float32(mean))).astype(
            np.float32).astype(dtype.np)
    return fma(data, std, mean)


_WIDE = {"int64", "float64", "float32", "bfloat16"}


def random_from_to(engine, n, dtype, low, high):
    """random_(low, high): (draw % range) + low, with a 64-bit draw when the range needs one and the dtype has it."""
    span = high - low
    wide = dtype.name in _WIDE and span >= 1 << 32
    words = engine.u64(n) if wide else engine.u32(n)
    if span >= 1 << 64:
        return words.view(np.int64).astype(dtype.np)  # NOTE: PyTorch's full 64-bit range ignores `low`
    if span < 1 << 32 and 0 <= low and high <= 1 << 32:
        return (words.astype(np.uint32, copy=False) % np.uint32(span) + np.uint32(low)).astype(dtype.np)
    return _plus(words.astype(np.uint64) % np.uint64(span), low, dtype)


def _plus(offsets, low, dtype):
    if low >= 0:
        return (offsets + np.uint64(low)).astype(dtype.np)
    # NOTE: wrap through int64 as PyTorch's static_cast<int64_t>(val % range + base) does.
    return (offsets.astype(np.int64) + np.int64(low)).astype(dtype.np)


def random_full(engine, n, dtype):
    """random_(): uniform over [0, max] of an integer dtype ([0, 2**digits] of a float one)."""
    name = dtype.name
    if name == "bool":
        return (engine.u32(n) & np.uint32(1)).astype(np.bool_)
    if name in DIGITS:
        words = engine.u64(n) if name == "float64" else engine.u32(n)
        return (words % np.uint64((1 << DIGITS[name]) + 1)).astype(dtype.np)
    words = engine.u64(n) if name == "int64" else engine.u32(n)
    top = int(np.iinfo(dtype.np).max) + 1
    return (words % np.uint64(top)).astype(dtype.np)


def randperm(engine, n):
    """randperm(n): PyTorch's Fisher-Yates from the front, swapping i with i + random() % (n - i)."""
    if n < 2:
        return np.arange(n, dtype=np.int64)
    # NOTE: the draws do not depend on the permutation, so they are made at once; the swaps are sequential.
    if n < (1 << 32) // 20:
        offsets = engine.u32(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)
    else:
        # NOTE: not checked against PyTorch (n of 2**32 / 20 and more): 64-bit draws, same swaps.
        offsets = engine.u64(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)
    perm = list(range(n))
    for i, z in enumerate(offsets.tolist()):
        j = i + z
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm, dtype=np.int64)


# --- the other elementwise samplers: one uniform double per element, as PyTorch's serial CPU kernels ---
def bernoulli_scalar(engine, n, p):
    """bernoulli_(p) for a number p: a double uniform below p."""
    # NOTE: u = k * 2**-53 < p  <=>  k < ceil(p * 2**53) (p * 2**53 is exact): integers, no conversion.
    bound = math.ceil(float(p) * 2.0 ** 53)
    return (engine.u64(n) & np.uint64((1 << 53) - 1)) < np.uint64(bound)


def bernoulli_tensor(engine, probs):
    """bernoulli_(p) for a tensor p (already broadcast, in self's order): a float uniform below a float p,
    a double uniform below a double p."""
    flat = np.ascontiguousarray(probs).reshape(-1)
    if flat.dtype == np.float64:
        return (uniform01(engine, flat.size, "float64") < flat).reshape(probs.shape)
    return (uniform01(engine, flat.size, "float32") < flat.astype(np.float32)).reshape(probs.shape)


def exponential(engine, n, lambd):
    """exponential_(lambd): -1 / lambd * log1p(-u)."""
    return (-1.0 / lambd) * _glibc(math.log1p, -uniform01(engine, n, "float64"))


def geometric(engine, n, p):
    """geometric_(p): ceil(log(u) / log1p(-p))."""
    return np.ceil(_glibc(math.log, uniform01(engine, n, "float64")) / math.log1p(-p))


def cauchy(engine, n, median, sigma):
    """cauchy_(median, sigma): median + sigma * tan(pi * (u - 1/2))."""
    u = uniform01(engine, n, "float64")
    return fma(sigma, _glibc(math.tan, math.pi * (u - 0.5)), median)


def log_normal(engine, n, mean, std):
    """log_normal_(mean, std): exp of normal_distribution<double>(mean, std) (sharing the cached sample)."""
    return _glibc(math.exp, fma(_box_muller_double(engine, n), std, mean))


# --- per-element rejection samplers (a Python loop: each element draws until it accepts) --------------------
class _Uniforms:
    """Double uniforms one at a time, read from blocks of words; `close` puts back the unread ones so the
    engine has consumed exactly the words the samples used."""

    def __init__(self, engine):
        self.engine, self.saved, self.block, self.used = engine, engine.bits.state, [], 0
        self.pos = 0

    def __call__(self):
        if self.pos == len(self.block):
            self.block = uniform01(self.engine, 64, "float64").tolist()
            self.pos = 0
        self.pos += 1
        self.used += 1
        return self.block[self.pos - 1]

    def close(self):
        self.engine.bits.state = self.saved
        self.engine.u64(self.used)


def _poisson_one(lam, uniform):
    """PyTorch's CPU sample_poisson: Hörmann's transformed rejection (PTRS) from 10 up, else multiplying
    uniforms until the product falls to exp(-lambda)."""
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        log_invalpha = math.log(1.1239 + 1.1328 / (b - 3.4))
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = uniform() - 0.5
            v = uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if math.log(v) + log_invalpha - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1.0):
                return k
    if lam == 0:
        return 0
    limit, prod, x = math.exp(-lam), 1.0, 0
    while True:
        prod *= uniform()
        if prod <= limit:
            return x
        x += 1


def poisson(engine, rates):
    """poisson(rates) element by element in rates' (contiguous) order."""
    uniform = _Uniforms(engine)
    try:
        out = [_poisson_one(r, uniform) for r in np.asarray(rates, np.float64).ravel().tolist()]
    finally:
        uniform.close()
    return np.array(out, dtype=np.float64).reshape(np.shape(rates))


def _normal_one(engine, uniform):
    """One normal_distribution<double>(0, 1) sample, using and refilling the engine's cached second value."""
    cached = engine.next_double_normal
    if cached is not None:
        engine.next_double_normal = None
        return cached
    u1, u2 = uniform(), uniform()
    r = math.sqrt(-2.0 * math.log1p(-u2))
    theta = _TWO_PI * u1
    engine.next_double_normal = r * math.sin(theta)
    return r * math.cos(theta)


def _gamma_one(alpha, engine, uniform, single):
    """PyTorch's CPU sample_gamma: Marsaglia and Tsang's method, alpha < 1 boosted by a uniform power;
    alpha's own arithmetic in the tensor's precision (`single`: float32), the rest in double."""
    f = np.float32 if single else float
    alpha = f(alpha)
    scale = 1.0
    if alpha < 1:
        if alpha == 0:
            return 0.0
        scale *= (1 - uniform()) ** float(f(1) / alpha)
        alpha = f(alpha + f(1))
    d = float(f(alpha - f(np.float32(1) / np.float32(3))))  # NOTE: 1.0f / 3.0f, a float, whatever alpha's type
    c = 1.0 / math.sqrt(9.0 * d)
    squeeze = float(np.float32(0.0331))  # NOTE: a float constant in PyTorch's code
    while True:
        while True:
            x = _normal_one(engine, uniform)
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1 - uniform()
        xx = x * x
        if u < 1.0 - squeeze * xx * xx or math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def standard_gamma(engine, alpha, dtype):
    """_standard_gamma(alpha) element by element, at least the dtype's smallest normal number."""
    single = dtype.name != "float64"
    uniform = _Uniforms(engine)
    try:
        out = [_gamma_one(a, engine, uniform, single) for a in np.asarray(alpha).ravel().tolist()]
    finally:
        uniform.close()
    values = np.array(out, dtype=np.float64).astype(dtype.np)
    tiny = np.finfo(np.float32 if dtype.name == "bfloat16" else dtype.np).tiny
    return np.maximum(values, np.asarray(tiny, dtype.np)).reshape(np.shape(alpha))


# NOTE: log(k!) - (k + 1/2) log(k + 1) + (k + 1) - log(sqrt(2 pi)) for k = 0..9: the Stirling series' tail,
# tabulated where the series is poor (the values are mathematical constants).
_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k):
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    k = float(k)
    with np.errstate(over="ignore"):
        kp1sq = float(np.float64(k + 1) * np.float64(k + 1))  # NOTE: inf past 1e154, as in C
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _binomial_inversion(count, prob, uniform, f):
    """Count geometric waiting times until they pass `count`."""
    log_q = math.log1p(-prob)
    total, hits = 0.0, f(0)
    while True:
        total += math.ceil(math.log(uniform()) / log_q)
        if total > count:
            return hits
        hits = f(hits + f(1))


def _btrs(count, prob, uniform, f):
    """Hörmann's transformed rejection with squeeze (BTRS) for count * prob >= 10."""
    stddev = math.sqrt(float(f(f(count * prob) * f(f(1) - prob))))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * float(prob)
    c = float(f(count * prob)) + 0.5
    v_r = 0.92 - 4.2 / b
    r = float(prob) / float(f(1) - prob)
    alpha = (2.83 + 5.1 / b) * stddev
    m = float(math.floor(float(f(count + f(1))) * float(prob)))
    count = float(count)
    while True:
        u = uniform() - 0.5
        v = uniform()
        us = 0.5 - abs(u)
        k = float(f(math.floor((2 * a / us + b) * u + c)))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        bound = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                 + (count + 1) * math.log((count - m + 1) / (count - k + 1))
                 + (k + 0.5) * math.log(r * (count - k + 1) / (k + 1))
                 + _stirling_tail(m) + _stirling_tail(count - m) - _stirling_tail(k) - _stirling_tail(count - k))
        if v <= bound:
            return k


def _binomial_one(count, prob, uniform, f):
    """PyTorch's CPU sample_binomial for one (count, prob) of the tensor's precision `f`."""
    if count <= 0 or prob <= 0:
        return 0.0
    if prob >= 1:
        return float(count)
    flip = prob > 0.5
    q = f(f(1) - prob) if flip else prob
    k = _btrs(count, q, uniform, f) if f(count * q) >= 10 else _binomial_inversion(count, q, uniform, f)
    return float(f(count - f(k))) if flip else float(k)


def binomial(engine, counts, probs, dtype):
    """binomial(counts, probs) element by element (both already broadcast, in the output's order)."""
    f = np.float32 if dtype.name == "float32" else np.float64
    uniform = _Uniforms(engine)
    try:
        out = [_binomial_one(f(n), f(p), uniform, f) for n, p in
               zip(np.asarray(counts, f).ravel().tolist(), np.asarray(probs, f).ravel().tolist())]
    finally:
        uniform.close()
    return np.array(out, dtype=np.float64).reshape(np.shape(counts))
