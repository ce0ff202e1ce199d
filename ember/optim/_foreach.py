"""The vocabulary of the optimizers' raw-array updates: PyTorch's `_foreach_*` ops over lists of arrays.

Each function takes the array module `xp` and lists of raw arrays (`t._data`), works with in-place ufuncs
(`out=`) and rounds exactly as the Tensor op of the same name does in ember (one rounding per ufunc, a Python
scalar taken in the array's dtype). Nothing here touches autograd or version counters: the update that writes
a tensor's array bumps that tensor's counter (`bump`) as many times as PyTorch's in-place ops would.
"""
from .._dtype import float32, float64
from .._tensor import _wrap

# NOTE: float16/bfloat16 keep the Tensor-op path: there an addcdiv rounds once (computed in float32), where
# three in-place ufuncs would round three times
RAW_DTYPES = (float32, float64)


def raw_dtypes(params):
    """Whether every parameter is a real float32/float64 tensor (the raw-array updates' domain)."""
    return all(p._dtype in RAW_DTYPES for p in params)


def xp_of(tensors):
    return tensors[0]._device.backend.xp


def arrays(tensors):
    return [t._data for t in tensors]


def state_arrays(states, key):
    return [s[key]._data for s in states]


def bump(tensors, times=1):
    """What an in-place op does to a tensor's version counter, `times` over."""
    for t in tensors:
        t._vc[0] += times


def new_state(like, array):
    """A fresh state tensor (no history) around `array`, on `like`'s device and of its dtype."""
    return _wrap(array, like._device, like._dtype)


def step_value(step):
    """A `step` counter's value as a Python number (a host read only where it lives on a device)."""
    return step._data.item() if step._device.type == "cpu" else step.item()


def per_step(steps, formula):
    """[formula(t) for each step's value t], evaluated once per distinct t (a group's steps are usually equal)."""
    cache, out = {}, []
    for step in steps:
        t = step_value(step)
        if t not in cache:
            cache[t] = formula(t)
        out.append(cache[t])
    return out


def increment(steps):
    """`_foreach_add_(steps, 1)`."""
    for step in steps:
        step._data += 1
    bump(steps)


def _scalars(values, n):
    return values if isinstance(values, list) else [values] * n


def neg(xp, xs):
    return [xp.negative(x) for x in xs]


def add(xp, xs, ys, alpha=1):
    """[x + alpha * y] as new arrays."""
    if alpha == 1:
        return [xp.add(x, y) for x, y in zip(xs, ys)]
    out = [xp.multiply(y, alpha) for y in ys]
    for o, x in zip(out, xs):
        xp.add(x, o, out=o)
    return out


def add_(xp, xs, ys, alpha=1):
    """x += alpha * y."""
    for x, y in zip(xs, ys):
        x += y if alpha == 1 else xp.multiply(y, alpha)


def add_scalar_(xs, value):
    for x in xs:
        x += value


def mul_(xs, values):
    """x *= value (one number, or one per array)."""
    for x, v in zip(xs, _scalars(values, len(xs))):
        x *= v


def div_(xs, values):
    for x, v in zip(xs, _scalars(values, len(xs))):
        x /= v


def sqrt(xp, xs):
    return [xp.sqrt(x) for x in xs]


def sqrt_(xp, xs):
    for x in xs:
        xp.sqrt(x, out=x)


def maximum_(xp, xs, ys):
    for x, y in zip(xs, ys):
        xp.maximum(x, y, out=x)


def lerp_(xp, xs, ends, weight):
    """x += weight * (end - x), in PyTorch's two-sided form (end - (end - x) * (1 - weight) for |weight| >= 0.5)."""
    for x, end in zip(xs, ends):
        w = x.dtype.type(weight)
        diff = xp.subtract(end, x)
        if abs(w) < 0.5:
            diff *= w
            x += diff
        else:
            diff *= x.dtype.type(1) - w
            xp.subtract(end, diff, out=x)


def addcmul_(xp, xs, t1s, t2s, values=1):
    """x += value * (t1 * t2)."""
    for x, t1, t2, v in zip(xs, t1s, t2s, _scalars(values, len(xs))):
        term = xp.multiply(t1, t2)
        if v != 1:
            term *= v
        x += term


def addcdiv_(xp, xs, t1s, t2s, values=1):
    """x += value * (t1 / t2)."""
    for x, t1, t2, v in zip(xs, t1s, t2s, _scalars(values, len(xs))):
        term = xp.divide(t1, t2)
        if v != 1:
            term *= v
        x += term
