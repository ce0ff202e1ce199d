"""torch.nn.functional.grid_sample and affine_grid (part of ember/nn/_functional_pool.py).

Bilinear and nearest sampling is one primitive (ember/_ops/nn/resample.py). Bicubic is composed of
Tensor ops: source coordinates are computed from the grid differentiably (unnormalize; each tap then
through the padding mode), the tap indices are constants, and each tap's values are gathered from
the flattened input planes (gather's backward scatters into the input). The loop runs over the 16
taps, never over output positions.
"""
import itertools
import warnings

from .._device import runs_on_its_device
from .. import _dtype
from .._ops._registry import OpSpec as _OpSpec, bind as _bind, spec as _spec
from .._ops.nn.resample import GRID_SAMPLE
from .._tensor import Tensor, _wrap

__all__ = ["grid_sample", "affine_grid"]

_CUBIC_A = -0.75


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _clip(coord, size):
    """clip to [0, size - 1]; PyTorch's gradient is 0 on and beyond both borders."""
    limit = size - 1
    inside = ((coord > 0) & (coord < limit)).to(coord.dtype)
    return coord * inside + (coord >= limit).to(coord.dtype) * limit


def _reflect(coord, twice_low, twice_high):
    """PyTorch's reflect_coordinates: fold coord into [low, high] by mirror reflections."""
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    shifted = coord - low
    sign = (shifted >= 0).to(coord.dtype) * 2 - 1  # NOTE: PyTorch flips only below 0 (gradient +1 at 0)
    folded = shifted * sign
    flips = (folded.detach() / span).floor()
    extra = folded - flips * span
    even = ((flips % 2) == 0).to(coord.dtype)
    return even * (extra + low) + (1 - even) * (span - extra + low)


def _source(coord, size, padding_mode, align_corners):
    if padding_mode == "border":
        return _clip(coord, size)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return _clip(coord, size)
    return coord


def _gather(flat, sizes, taps, weight):
    """sum over taps of flat[n, c, index(tap)] * weight(tap), zero where a tap lies outside the input.

    flat: (N, C, prod(sizes)); taps: list of integer tensors per dim (N, *out), weight: (N, *out)."""
    n, c = flat.shape[0], flat.shape[1]
    inside = None
    lin = None
    for t, s in zip(taps, sizes):
        ok = (t >= 0) & (t < s)
        inside = ok if inside is None else inside & ok
        t = t.clamp(0, s - 1)
        lin = t if lin is None else lin * s + t
    out_shape = tuple(lin.shape[1:])
    idx = lin.reshape(n, 1, -1).expand(n, c, lin[0].numel())
    values = flat.gather(2, idx).reshape((n, c) + out_shape)
    return values * (weight * inside.to(weight.dtype)).unsqueeze(1)


def _cubic(t):
    a = _CUBIC_A

    def conv1(v):
        return ((a + 2) * v - (a + 3)) * v * v + 1

    def conv2(v):
        return ((a * v - 5 * a) * v + 8 * a) * v - 4 * a
    return [conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)]


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input (N, C, *spatial) at the normalized grid points (N, *out, nd) (x first)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=2)
        align_corners = False
    _check_grid(input, grid)
    if mode == "bicubic" and input.dim() != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    nd = input.dim() - 2
    sizes = tuple(input.shape[2:])
    flat = input.reshape(input.shape[0], input.shape[1], -1)
    if mode != "bicubic":
        return GRID_SAMPLE[nd].apply(input, grid, mode, padding_mode, bool(align_corners))
    # NOTE: bicubic is composed of Tensor ops (16 taps); grid's last dim lists x (the last spatial dim) first
    coords = [_unnormalize(grid[..., nd - 1 - i], sizes[i], align_corners) for i in range(nd)]
    return _bicubic(flat, sizes, coords, padding_mode, align_corners)


def _bicubic(flat, sizes, coords, padding_mode, align_corners):
    floors = [c.detach().floor() for c in coords]
    coeffs = [_cubic(c - f) for c, f in zip(coords, floors)]
    out = None
    for ky, kx in itertools.product(range(4), repeat=2):
        taps = []
        for f, s, k in zip(floors, sizes, (ky, kx)):
            tap = f + (k - 1)
            # NOTE: each tap goes through the padding mode on its own (PyTorch's get_value_bounded)
            tap = _source(tap, s, padding_mode, align_corners)
            taps.append(tap.detach().long())
        weight = coeffs[0][ky] * coeffs[1][kx]
        term = _gather(flat, sizes, taps, weight)
        out = term if out is None else out + term
    return out


def _check_grid(input, grid):
    if not isinstance(grid, Tensor):
        raise TypeError(f"grid_sample(): argument 'grid' (position 2) must be Tensor, not {type(grid).__name__}")
    nd = input.dim() - 2
    if input.dim() not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.dim() != input.dim():
        raise RuntimeError("grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
                           f"{list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension, but got grid with sizes "
                           f"{list(grid.shape)}")
    if input.dtype is not grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{_dtype.scalar_type_name(input.dtype)} and grid has {_dtype.scalar_type_name(grid.dtype)}")


# --- affine_grid -------------------------------------------------------------------------------------
@runs_on_its_device
def _base_line(theta, steps, align_corners):
    """linspace(-1, 1, steps), scaled by (steps - 1) / steps unless align_corners (0 for one step)."""
    xp = theta._device.backend.xp
    if steps <= 1:
        line = xp.zeros(max(steps, 1), dtype=theta.dtype.np)
    else:
        line = xp.linspace(-1, 1, steps).astype(theta.dtype.np)
        if not align_corners:
            line = line * theta.dtype.np.type((steps - 1) / steps)
    return line


@runs_on_its_device
def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, *spatial, nd) of the affine maps theta (N, nd, nd + 1) for output `size`."""
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    shown = size
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {shown}. "
                             f"Got {theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {shown}. "
                             f"Got {theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {shown}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation of "
                      "affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {shown}")
    xp = theta._device.backend.xp
    nd = len(spatial)
    lines = [_base_line(theta, s, align_corners) for s in reversed(spatial)]  # x (last dim) first
    mesh = xp.meshgrid(*reversed(lines), indexing="ij")  # spatial order
    cols = [mesh[nd - 1 - i] for i in range(nd)] + [xp.ones_like(mesh[0])]
    base = xp.stack(cols, axis=-1).reshape(-1, nd + 1)
    base_t = _wrap(base, theta._device, theta.dtype)
    grid = base_t.unsqueeze(0) @ theta.transpose(1, 2)  # (N, prod(spatial), nd)
    return grid.reshape([size[0]] + list(spatial) + [nd])


def _grid_sample_sample(g):
    n, c = g.integers(1, 2), g.integers(1, 3)
    x = g.values((n, c, g.integers(1, 5), g.integers(1, 5)))
    grid = g.values((n, g.integers(1, 4), g.integers(1, 4), 2), domain=(-1.2, 1.2))
    return [x, grid], dict(mode=g.choice(["bilinear", "nearest", "bicubic"]),
                           padding_mode=g.choice(["zeros", "border", "reflection"]), align_corners=g.boolean())


_spec(_OpSpec("nn.functional.grid_sample", sample=_grid_sample_sample, large=False, gradcheck=False, atol=2e-5,
              call=lambda torch, x, grid, **kw: torch.nn.functional.grid_sample(x, grid, **kw)))


# --- the torch.* forms (integer mode codes, as PyTorch's native functions take them) ---------------------
_MODE_CODES = ("bilinear", "nearest", "bicubic")
_PADDING_CODES = ("zeros", "border", "reflection")


def _torch_grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """torch.grid_sampler: grid_sample with modes given as integers (0 bilinear, 1 nearest, 2 bicubic;
    0 zeros, 1 border, 2 reflection)."""
    return grid_sample(input, grid, _MODE_CODES[interpolation_mode], _PADDING_CODES[padding_mode],
                       bool(align_corners))


def _torch_affine_grid_generator(theta, size, align_corners):
    """torch.affine_grid_generator: affine_grid without its warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return affine_grid(theta, size, bool(align_corners))


for _name in ("grid_sampler", "grid_sampler_2d", "grid_sampler_3d"):
    _bind(_name, _torch_grid_sampler)
_bind("affine_grid_generator", _torch_affine_grid_generator)
del _name


def _composed_sample(input, grid, mode, padding_mode, align_corners):
    """Bilinear or nearest grid sampling in Tensor ops: the primitive's double-backward path."""
    nd = input.dim() - 2
    sizes = tuple(input.shape[2:])
    flat = input.reshape(input.shape[0], input.shape[1], -1)
    coords = [_source(_unnormalize(grid[..., nd - 1 - i], sizes[i], align_corners), sizes[i], padding_mode,
                      align_corners) for i in range(nd)]
    if mode == "nearest":
        taps = [c.detach().round().long() for c in coords]
        # NOTE: the grid's gradient is 0 in nearest mode; `* 0` keeps the grid in the graph
        return _gather(flat, sizes, taps, coords[0].detach() * 0 + 1) + (grid * 0).sum()
    floors = [c.detach().floor() for c in coords]
    out = None
    for corner in itertools.product((0, 1), repeat=nd):
        weight = None
        taps = []
        for c, f, k in zip(coords, floors, corner):
            w = (c - f) if k else (f + 1 - c)
            weight = w if weight is None else weight * w
            taps.append((f + k).long())
        term = _gather(flat, sizes, taps, weight)
        out = term if out is None else out + term
    return out


GRID_SAMPLE[2].composed = GRID_SAMPLE[3].composed = staticmethod(_composed_sample)
