"""torch.nn.functional's adaptive and fractional pooling (part of ember/nn/_functional_pool.py)."""
from .._device import runs_on_its_device
from .. import _dtype
from .._ops._registry import bind
from .._ops.nn.pool import AVG_POOL
from .._ops.nn.pool_adaptive import ADAPTIVE_MAX, FRACTIONAL_MAX, adaptive_bounds, adaptive_table, fractional_table
from .._tensor import Tensor, _wrap

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices", "fractional_max_pool2d",
           "fractional_max_pool3d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices"]


def _output_size(output_size, input, nd, fn):
    """output_size as nd ints (None entries keep the input's size)."""
    if isinstance(output_size, (list, tuple)):
        sizes = tuple(output_size)
        if nd == 1 and None in sizes:
            raise TypeError(f"{fn}(): argument 'output_size' (position 2) must be tuple of ints, but found element "
                            f"of type NoneType at pos {sizes.index(None)}")
        if len(sizes) == 1 and nd > 1:
            sizes = sizes * nd
        if len(sizes) != nd:
            if nd == 1:
                raise RuntimeError(f"{fn}() argument 'output_size' should contain one int (got {len(sizes)})")
            if "avg" in fn:
                raise RuntimeError(f"{fn}: output_size must be {nd}")
            raise RuntimeError(f"{fn}(): internal error: output_size.size() must be {nd}")
    else:
        sizes = (output_size,) * nd
    spatial = tuple(input.shape[-nd:])
    return tuple(int(s) if s is not None else n for s, n in zip(sizes, spatial))


def _adaptive_dims(input, nd, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    dims = input.dim()
    if nd == 1 and dims not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {dims}-dimensional tensor for argument #1 'self' "
                           f"(while checking arguments for {fn})")
    if dims not in (nd + 1, nd + 2):
        colon = ":" if "max" in fn else ""
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got{colon} {list(input.shape)}")


def _adaptive_check(input, nd, fn, sizes):
    dims = input.dim()
    # NOTE: PyTorch's 1d/2d average kernels accept empty channels; the others refuse any empty non-batch dim
    first = dims - nd if fn in ("adaptive_avg_pool1d", "adaptive_avg_pool2d") else int(dims == nd + 2)
    for i in range(first, dims):
        if input.shape[i] == 0:
            raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(input.shape)} with dimension {i} being empty")
    if not input.dtype.is_floating_point:
        from ._functional_pool import refuse_dtype
        kind = "avg" if "avg" in fn else "max"
        refuse_dtype(input, f"adaptive_{kind}_pool3d_cpu" if nd == 3 else f"adaptive_{kind}_pool2d")
    if any(s < 0 for s in sizes):
        if "max" in fn:
            shape = list(input.shape[:-nd]) + ([1] if nd == 1 else []) + list(sizes)
            raise RuntimeError(f"Trying to create tensor with negative dimension {min(sizes)}: {shape}")
        if nd == 1:
            fn, sizes = "adaptive_avg_pool2d", (1,) + sizes
        shown = ", ".join(str(s) for s in sizes) if nd < 3 else f"{sizes[0]}, {sizes[1]},{sizes[2]}"
        raise RuntimeError(f"{fn}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{shown}}}")


def apply_matrix(x, dim, mat):
    """x with `dim` (of size n) mapped through mat (o, n): one 2-D matrix product over the last dim.

    NOTE: other dims are moved last first: NumPy's batched products (mat @ x over many small
    matrices) run 10-100x slower than one 2-D product, and erratically so on a loaded machine."""
    last = x.dim() - 1
    if dim != last:
        return apply_matrix(x.transpose(dim, last), last, mat).transpose(dim, last)
    lead = tuple(x.shape[:-1])
    return (x.reshape(-1, x.shape[-1]) @ mat.t()).reshape(lead + (mat.shape[0],))


@runs_on_its_device
def _adaptive_avg(nd, input, output_size):
    fn = f"adaptive_avg_pool{nd}d"
    _adaptive_dims(input, nd, fn)
    sizes = _output_size(output_size, input, nd, fn)
    _adaptive_check(input, nd, fn, sizes)
    if 0 in sizes or input.numel() == 0:
        return input.new_zeros(tuple(input.shape[:-nd]) + sizes)
    spatial = tuple(input.shape[-nd:])
    x = input
    if all(o > 0 and n % o == 0 for n, o in zip(spatial, sizes)):
        # NOTE: equal windows: a plain average pool (PyTorch's own sums and divisor, exactly)
        kernel = tuple(n // o for n, o in zip(spatial, sizes))
        return AVG_POOL[nd].apply(x, kernel, kernel, (0,) * nd, False, True, None)
    xp = input._device.backend.xp
    for i, (n, o) in enumerate(zip(spatial, sizes)):
        # NOTE: unequal windows: along each dim a product with the (out, in) averaging matrix
        start, end = adaptive_bounds(xp, n, o)
        cols = xp.arange(n, dtype=xp.int64)[None, :]
        inside = (cols >= start[:, None]) & (cols < end[:, None])
        weights = inside / (end - start)[:, None]
        mat = _wrap(weights.astype(x.dtype.np), input._device, x.dtype)
        x = apply_matrix(x, x.dim() - nd + i, mat)
    return x


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to `output_size` along the last dim of (N, C, L) or (C, L)."""
    return _adaptive_avg(1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to `output_size` (an int, or (H, W) with None keeping a size)."""
    return _adaptive_avg(2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to `output_size` (an int, or (D, H, W) with None keeping a size)."""
    return _adaptive_avg(3, input, output_size)


@runs_on_its_device
def _adaptive_max(nd, input, output_size, return_indices):
    fn = f"adaptive_max_pool{nd}d"
    _adaptive_dims(input, nd, fn)
    sizes = _output_size(output_size, input, nd, fn)
    _adaptive_check(input, nd, fn, sizes)
    if 0 in sizes:
        shape = tuple(input.shape[:-nd]) + sizes
        values = input.new_zeros(shape) + input.sum() * 0 if input.requires_grad else input.new_zeros(shape)
        return (values, input.new_zeros(shape, dtype=_dtype.int64)) if return_indices else values
    xp = input._device.backend.xp
    tables = [adaptive_table(xp, n, o) for n, o in zip(input.shape[-nd:], sizes)]
    values, indices = ADAPTIVE_MAX[nd].apply(input, tables)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """(values, indices) of adaptive max pooling along the last dim."""
    return _adaptive_max(1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """(values, indices) of 2D adaptive max pooling."""
    return _adaptive_max(2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """(values, indices) of 3D adaptive max pooling."""
    return _adaptive_max(3, input, output_size, True)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to `output_size` along the last dim; with return_indices, (values, indices)."""
    return _adaptive_max(1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """2D max pooling to `output_size`; with return_indices, (values, indices)."""
    return _adaptive_max(2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """3D max pooling to `output_size`; with return_indices, (values, indices)."""
    return _adaptive_max(3, input, output_size, return_indices)


# --- fractional max pooling ----------------------------------------------------------------------------
@runs_on_its_device
def _fractional(nd, input, kernel_size, output_size, output_ratio, return_indices, _random_samples):
    fn = f"fractional_max_pool{nd}d"
    from ._functional_pool import _tuple
    kernel = _tuple(kernel_size, nd, fn, "kernel_size")
    if output_size is None and output_ratio is None:
        raise ValueError(f"{fn} requires specifying either an output_size or an output_ratio")
    dims = input.dim()
    if dims not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
    spatial = tuple(input.shape[-nd:])
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{fn}(): kernel_size must be greater than zero, but got {kernel}")
    if output_size is None:
        sizes = tuple(int(n * r) for n, r in zip(spatial, _tuple_float(output_ratio, nd)))
    else:
        sizes = _tuple(output_size, nd, fn, "output_size")
    names = ("time", "height", "width")[3 - nd:]
    for name, n, o, k in zip(names, spatial, sizes, kernel):
        if o + k - 1 > n:
            where = f"{fn}_out()" if nd == 3 else f"{fn}()"
            raise RuntimeError(f"{where}: pool {name} {k} too large relative to input {name} {n}")
    batch = input.shape[0] if dims == nd + 2 else 1
    planes = input.shape[-nd - 1]
    if _random_samples is None:
        from .. import _random
        _random_samples = _random.rand(batch, planes, nd, dtype=input.dtype, device=input.device)
    if _random_samples.dtype is not input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    shape = tuple(_random_samples.shape)
    if len(shape) != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {len(shape)}")
    if shape[2] != nd:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got {shape[2]}.")
    if shape[1] != planes:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if shape[0] < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    samples = _random_samples.detach()._data[:batch].reshape(-1, nd)
    xp = input._device.backend.xp
    # NOTE: PyTorch reads the samples backwards: the last spatial dim uses sample 0
    tables = [fractional_table(xp, samples[:, nd - 1 - i] if nd == 2 else samples[:, i], n, o, k)
              for i, (n, o, k) in enumerate(zip(spatial, sizes, kernel))]
    values, indices = FRACTIONAL_MAX[nd].apply(input, tables)
    return (values, indices) if return_indices else values


def _tuple_float(value, nd):
    if isinstance(value, (list, tuple)):
        return tuple(float(v) for v in value) * (nd if len(value) == 1 else 1)
    return (float(value),) * nd


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """(values, indices) of 2D fractional max pooling."""
    return _fractional(2, input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """(values, indices) of 3D fractional max pooling."""
    return _fractional(3, input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """2D fractional max pooling (Graham): pseudo-random window starts; with return_indices, (values, indices)."""
    return _fractional(2, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """3D fractional max pooling (Graham): pseudo-random window starts; with return_indices, (values, indices)."""
    return _fractional(3, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def _torch_adaptive_max_pool1d(input, output_size):
    """(values, indices) of adaptive max pooling along the last dim."""
    return _adaptive_max(1, input, output_size, True)


bind("adaptive_avg_pool1d", adaptive_avg_pool1d)
bind("adaptive_max_pool1d", _torch_adaptive_max_pool1d)
