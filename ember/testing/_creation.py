"""torch.testing.make_tensor: a tensor of random values in [low, high) for tests."""
import collections.abc
import math
import warnings

from .. import _dtype


def _integral(dtype):
    return not (dtype.is_floating_point or dtype.is_complex)


def _bounds(dtype, low, high, *, lowest_inclusive, highest_exclusive, default_low, default_high):
    """`low` and `high` checked (ValueError as PyTorch) and clamped to what `dtype` holds."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low!r} and high={high!r}")
    if low == high and not _integral(dtype):
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is "
                      "deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
                      FutureWarning, stacklevel=4)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest_inclusive or low >= highest_exclusive:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only "
                         f"supports [{lowest_inclusive}, {highest_exclusive})")
    low = min(max(low, lowest_inclusive), highest_exclusive)
    high = min(max(high, lowest_inclusive), highest_exclusive)
    if _integral(dtype):
        return math.ceil(low), math.ceil(high)  # NOTE: randint's high is exclusive, so it is ceiled too
    return low, high


def _uniform_(t, low, high):
    import ember
    finfo = ember.finfo(t.dtype)
    if high - low >= finfo.max:
        # NOTE: a range wider than the dtype's largest value overflows uniform_; draw half of it, then double
        return t.uniform_(low / 2, high / 2).mul_(2)
    return t.uniform_(low, high)


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of `shape` with values drawn uniformly from [low, high) (defaults -9 and 9 or 10), for tests."""
    import ember
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous!r} and memory_format={memory_format!r}")
    if dtype not in _dtype.ALL:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor(). "
                        "To request support, file an issue at: https://github.com/pytorch/pytorch/issues")
    if requires_grad and _integral(dtype):
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    if dtype is ember.bool:
        low, high = _bounds(dtype, low, high, lowest_inclusive=0, highest_exclusive=2, default_low=0,
                            default_high=2)
        result = ember.randint(low, high, shape, device=device, dtype=dtype)
    elif _integral(dtype):
        info = ember.iinfo(dtype)
        low, high = _bounds(dtype, low, high, lowest_inclusive=info.min,
                            highest_exclusive=info.max + (1 if dtype is not ember.int64 else 0),
                            default_low=-9, default_high=10)
        result = ember.randint(low, high, shape, device=device, dtype=dtype)
    else:
        info = ember.finfo(dtype)
        low, high = _bounds(dtype, low, high, lowest_inclusive=info.min, highest_exclusive=info.max,
                            default_low=-9, default_high=9)
        result = ember.empty(shape, device=device, dtype=dtype)
        _uniform_(ember.view_as_real(result) if dtype.is_complex else result, low, high)
    if noncontiguous and result.numel() > 1:
        result = ember.repeat_interleave(result, 2, dim=-1)[..., ::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if _integral(dtype) else ember.finfo(dtype).tiny
    if not _integral(dtype):
        result.requires_grad = requires_grad
    return result
