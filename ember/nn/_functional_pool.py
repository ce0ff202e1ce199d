"""torch.nn.functional's pooling and resampling (interpolate, grid_sample, affine_grid)."""
from .. import _dtype
from .._ops._registry import bind
from .._ops.nn.pool import AVG_POOL, MAX_POOL, out_size
from .._tensor import Tensor

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d"]

_WORDS = {1: "one int", 2: "two ints", 3: "three ints"}


def _tuple(value, nd, fn, arg, allow_empty=False):
    """A pooling argument as an nd-tuple of ints (an int or a sequence of 1 or nd ints)."""
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        value = tuple(int(v) for v in value)
        if len(value) == 1:
            return value * nd
        if len(value) == nd or (allow_empty and not value):
            return value
        if nd == 1:
            raise RuntimeError(f"{fn}() {arg} must be an int, list of ints or tuple of ints of size 1 but got size "
                               f"{len(value)}")
        if fn == "avg_pool3d":
            raise RuntimeError(f"{fn}: {arg} must be a single int, or a tuple of {_WORDS[nd]}")
        raise RuntimeError(f"{fn}: {arg} must either be a single int, or a tuple of {_WORDS[nd]}")
    return (int(value),) * nd


def _shape_text(shape):
    return "[" + ", ".join(str(v) for v in shape) + "]"


def pool_shape_check(input, nd, kind):
    """PyTorch's dimension checks for max/avg pooling of rank nd (each kernel words its own)."""
    fn = f"{kind}_pool{nd}d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    dims, shape = input.dim(), tuple(input.shape)
    batched = dims == nd + 2
    if nd == 1 and kind == "avg":  # NOTE: PyTorch pools (N, C, L) as (N, C, 1, L)
        nd, shape = 2, shape[:-1] + (1,) + shape[-1:]
    optional = (f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim batch size for input, "
                f"but got:{_shape_text(shape)}")
    if fn == "max_pool1d":
        optional = f"max_pool1d: {optional}"
    if len(shape) not in (nd + 1, nd + 2):
        if nd == 3 or fn == "max_pool2d":
            raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")
        if len(shape) < 3 and fn == "avg_pool2d":
            raise IndexError(f"Dimension out of range (expected to be in range of [{-len(shape)}, "
                             f"{len(shape) - 1}], but got -3)")
        raise RuntimeError(optional)
    rest = shape[1:] if len(shape) == nd + 2 else shape
    if 0 in rest:
        if nd == 3:
            # NOTE: PyTorch's message names dimension 0 whichever one is empty
            where = "max_pool3d_with_indices_out_cpu_template()" if kind == "max" else "avg_pool3d()"
            raise RuntimeError(f"{where}: Expected input's non-batch dimensions to have positive length, but "
                               f"input has a shape of {_shape_text(shape)} and non-batch dimension 0 has length zero!")
        raise RuntimeError(optional)
    return batched


def _pool_args(nd, fn, kernel_size, stride, padding, dilation):
    kernel = _tuple(kernel_size, nd, fn, "kernel_size")
    stride = _tuple(stride, nd, fn, "stride", allow_empty=True) if stride is not None else ()
    if not stride:
        stride = kernel
    padding = _tuple(padding, nd, fn, "padding")
    dilation = _tuple(dilation, nd, fn, "dilation")
    if fn == "max_pool1d":
        _max_pool1d_args(kernel[0], stride[0], padding[0], dilation[0])
    if any(s == 0 for s in stride) or any(k == 0 for k in kernel):
        raise RuntimeError("stride should not be zero")
    if any(k < 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got {kernel}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got {stride}")
    if any(d <= 0 for d in dilation):
        names = ("dilationT", "dilationH", "dilationW")[3 - nd:] if nd > 1 else ("dilationW",)
        raise RuntimeError("dilation should be greater than zero, but got "
                           + " ".join(f"{n}: {d}" for n, d in zip(names, dilation)))
    for p in padding:
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
    for k, p, d in zip(kernel, padding, dilation):
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    return kernel, stride, padding, dilation


def _max_pool1d_args(k, s, p, d):
    for value, what, rule in ((k, "kernel_size", "must be greater than zero"), (s, "stride", "must be greater than zero"),
                              (p, "padding", "must be non-negative")):
        if (value < 0) if what == "padding" else (value <= 0):
            raise RuntimeError(f"max_pool1d() {what} {rule}, but got {value}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and "
                           f"kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")


def _check_out(input, nd, kernel, stride, padding, dilation, ceil_mode, fn=""):
    spatial = tuple(input.shape[-nd:])
    outs = [out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)]
    if any(o < 1 for o in outs):
        if fn == "max_pool1d":
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {outs[0]}")
        if fn == "avg_pool3d":
            raise RuntimeError(f"input image (T: {spatial[0]} H: {spatial[1]} W: {spatial[2]}) smaller than kernel "
                               f"size (kT: {kernel[0]} kH: {kernel[1]} kW: {kernel[2]})")
        plane = input.shape[-nd - 1] if input.dim() > nd else 1
        if fn == "avg_pool1d":
            spatial, outs = (1,) + spatial, [1] + outs
        given = "x".join(str(v) for v in (plane,) + spatial)
        calc = "x".join(str(v) for v in (plane,) + tuple(outs))
        raise RuntimeError(f"Given input size: ({given}). Calculated output size: ({calc}). Output size is too small")
    return outs


def _max_pool(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    fn = f"max_pool{nd}d"
    pool_shape_check(input, nd, "max")
    kernel, stride, padding, dilation = _pool_args(nd, fn, kernel_size, stride, padding, dilation)
    if nd == 1 and not input.dtype.is_floating_point:
        refuse_dtype(input, "max_pool1d_impl")
    if input.dtype is _dtype.bool:
        refuse_dtype(input, fn)
    _check_out(input, nd, kernel, stride, padding, dilation, ceil_mode, fn)
    values, indices = MAX_POOL[nd].apply(input, kernel, stride, padding, dilation, bool(ceil_mode))
    return (values, indices) if return_indices else values


def refuse_dtype(input, kernel):
    """PyTorch's dispatch error for a dtype a kernel lacks."""
    if input.dtype.is_complex:
        raise RuntimeError(f"\"{kernel}\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """(values, indices) of a 1D max pool over (N, C, L) or (C, L)."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """(values, indices) of a 2D max pool over (N, C, H, W) or (C, H, W)."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """(values, indices) of a 3D max pool over (N, C, D, H, W) or (C, D, H, W)."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1D max pooling; with return_indices, (values, indices)."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2D max pooling; with return_indices, (values, indices)."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3D max pooling; with return_indices, (values, indices)."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


# --- average pooling --------------------------------------------------------------------------------
def _avg_pool(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    fn = f"avg_pool{nd}d"
    if nd == 1:
        if isinstance(input, Tensor) and input.dim() not in (2, 3):
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument "
                               "#1 'self' (while checking arguments for avg_pool1d)")
        if isinstance(kernel_size, (list, tuple)) and len(kernel_size) != 1:
            raise RuntimeError(f"avg_pool1d() argument 'kernel_size' should contain one int (got {len(kernel_size)})")
    pool_shape_check(input, nd, "avg")
    if not input.dtype.is_floating_point and input.dtype is not _dtype.int64:
        refuse_dtype(input, "avg_pool3d_out_frame" if nd == 3 else "avg_pool2d")
    kernel, stride, padding, _ = _pool_args(nd, fn, kernel_size, stride, padding, 1)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _check_out(input, nd, kernel, stride, padding, (1,) * nd, ceil_mode, fn)
    return AVG_POOL[nd].apply(input, kernel, stride, padding, bool(ceil_mode), bool(count_include_pad),
                              divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1D average pooling over (N, C, L) or (C, L)."""
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2D average pooling over (N, C, H, W) or (C, H, W)."""
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3D average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


# --- LP pooling: composed from avg pooling, as PyTorch does ---------------------------------------------
def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    kernel = _tuple(kernel_size, nd, f"lp_pool{nd}d", "kernel_size")
    count = 1
    for k in kernel:
        count *= k
    pool = (avg_pool1d, avg_pool2d, avg_pool3d)[nd - 1]
    out = pool(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    from . import functional as F
    return (out.sign() * F.relu(out.abs())).mul(count).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1D power-average pooling: (sum of x**p over each window) ** (1/p)."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2D power-average pooling: (sum of x**p over each window) ** (1/p)."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3D power-average pooling: (sum of x**p over each window) ** (1/p)."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


# --- max unpooling: a scatter of the values at their indices -----------------------------------------
def _unpool(nd, input, indices, kernel_size, stride, padding, output_size):
    fn = f"max_unpool{nd}d"
    if indices.dtype is not _dtype.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {_dtype.scalar_type_name(indices.dtype)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({_shape_text(input.shape)}) "
                           f"but got indices tensor with shape: {_shape_text(indices.shape)}")
    if nd > 1 and input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to max_unpooling{nd}d should be a {nd + 1}d or {nd + 2}d Tensor, but got a tensor "
                           f"with {input.dim()} dimensions.")
    kernel = _tuple(kernel_size, nd, fn, "kernel_size")
    stride = _tuple(stride, nd, fn, "stride") if stride is not None else kernel
    padding = _tuple(padding, nd, fn, "padding")
    spatial_in = tuple(input.shape[-nd:])
    default = tuple((n - 1) * s + k - 2 * p for n, s, k, p in zip(spatial_in, stride, kernel, padding))
    if output_size is None:
        size = default
    else:
        size = tuple(int(v) for v in output_size)
        if len(size) == nd + 2:
            size = size[2:]
        if len(size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                             f"length of '{len(output_size)}'")
        for d in range(nd):
            lo = default[d] - stride[d]
            hi = default[d] + stride[d]
            if not lo < size[d] < hi:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})')
    lead = tuple(input.shape[:-nd])
    plane = 1
    for s in size:
        plane *= s
    flat_in = input.reshape(lead + (-1,))
    flat_idx = indices.reshape(lead + (-1,))
    if flat_idx.numel():
        arr = flat_idx.reshape(-1, flat_idx.shape[-1])._data
        outside = (arr < 0) | (arr >= plane)
        if bool(outside.any()):
            # NOTE: the last invalid index; PyTorch's threads race to report one (single-threaded: the last)
            bad = int(arr.reshape(-1)[outside.reshape(-1).nonzero()[0][-1]])
            shown = "x".join(str(s) for s in size + ((1,) if nd == 1 else ()))  # NOTE: 1d unpools as (L, 1)
            raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size {shown})")
    out = flat_in.new_zeros(lead + (plane,)).scatter(-1, flat_idx, flat_in)
    return out.reshape(lead + size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: values put back at their indices, zeros elsewhere."""
    return _unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: values put back at their indices, zeros elsewhere."""
    return _unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d: values put back at their indices, zeros elsewhere."""
    return _unpool(3, input, indices, kernel_size, stride, padding, output_size)


# --- the torch.* names PyTorch also gives some of these ---------------------------------------------------
def _torch_max_pool(nd):
    base = (max_pool1d, max_pool2d, max_pool3d)[nd - 1]

    def fn(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return base(input, kernel_size, stride or None, padding, dilation, ceil_mode)
    fn.__name__ = base.__name__
    fn.__doc__ = base.__doc__
    return fn


def _torch_max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """(values, indices) of a 1D max pool."""
    return max_pool1d_with_indices(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def _torch_avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    """1D average pooling."""
    return avg_pool1d(input, kernel_size, stride or None, padding, ceil_mode, count_include_pad)


for _nd in (1, 2, 3):
    bind(f"max_pool{_nd}d", _torch_max_pool(_nd))
bind("max_pool1d_with_indices", _torch_max_pool1d_with_indices)
bind("avg_pool1d", _torch_avg_pool1d)
del _nd

from ._functional_pool_adaptive import *  # noqa: E402,F401,F403
from ._functional_pool_adaptive import __all__ as _adaptive_all  # noqa: E402
from ._functional_pool_resample import *  # noqa: E402,F401,F403
from ._functional_pool_resample import __all__ as _resample_all  # noqa: E402

__all__ = __all__ + _adaptive_all + _resample_all
