"""Autocast's op policy (PyTorch's "Autocast Op Reference") and the one cast it applies: under an enabled
autocast, an op on the list casts its floating tensors of the autocast device type to the lower precision
dtype, to float32, or to the widest of them, then runs with autocast off for what it calls inside.

Ops are reached in two ways, both keyed by the tables below: public functions and methods named here are
wrapped while an autocast is on (`refresh`), and primitives named in PRIMITIVES cast at Primitive.apply (for code
that holds a function or primitive directly, e.g. the conv modules and the `@` operator)."""
import functools
import importlib

from .. import _dtype, _state

LOWER, FLOAT32, PROMOTE, BANNED = "lower", "float32", "promote", "banned"

# NOTE: names are where the op is public in ember: "x" is ember.x and Tensor.x (either that exists),
# "F.x" nn.functional.x, "linalg.x" / "fft.x" those modules' functions, "Tensor.x" the method only.
_CPU_LOWER = ("conv1d conv2d conv3d bmm mm linalg.vecdot baddbmm addmm addbmm matmul conv_tbc "
              "conv_transpose1d conv_transpose2d conv_transpose3d prelu F.conv1d F.conv2d F.conv3d F.linear "
              "F.conv_transpose1d F.conv_transpose2d F.conv_transpose3d F.prelu F.scaled_dot_product_attention "
              "Tensor.__matmul__ Tensor.__rmatmul__")
_CPU_FLOAT32 = ("F.avg_pool3d F.binary_cross_entropy F.grid_sample polar prod quantile nanquantile stft cdist trace "
                "view_as_complex cholesky cholesky_inverse cholesky_solve inverse lu_solve orgqr ormqr pinverse "
                "F.max_pool3d F.max_unpool2d F.max_unpool3d F.adaptive_avg_pool3d F.mse_loss F.cosine_embedding_loss "
                "F.nll_loss F.hinge_embedding_loss F.poisson_nll_loss F.smooth_l1_loss F.cross_entropy F.l1_loss "
                "F.huber_loss F.margin_ranking_loss F.soft_margin_loss F.triplet_margin_loss F.multi_margin_loss "
                "F.ctc_loss F.kl_div F.multilabel_margin_loss F.binary_cross_entropy_with_logits "
                "fft.fft fft.ifft fft.fft2 fft.ifft2 fft.fftn fft.ifftn fft.rfft fft.irfft fft.rfft2 fft.irfft2 "
                "fft.rfftn fft.irfftn fft.hfft fft.ihfft linalg.cond linalg.matrix_rank linalg.solve "
                "linalg.cholesky linalg.svdvals linalg.eigvals linalg.eigvalsh linalg.inv "
                "linalg.householder_product linalg.tensorinv linalg.tensorsolve geqrf qr svd triangular_solve "
                "F.fractional_max_pool2d F.fractional_max_pool3d F.adaptive_max_pool3d linalg.qr "
                "linalg.cholesky_ex linalg.svd linalg.eig linalg.eigh linalg.lstsq linalg.inv_ex "
                "hinge_embedding_loss kl_div poisson_nll_loss margin_ranking_loss triplet_margin_loss "
                "cosine_embedding_loss ctc_loss binary_cross_entropy_with_logits")
_CPU_PROMOTE = "stack cat index_copy"

_CUDA_LOWER = ("Tensor.__matmul__ Tensor.__rmatmul__ addbmm addmm addmv addr baddbmm bmm chain_matmul linalg.multi_dot "
               "conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d F.conv1d F.conv2d F.conv3d "
               "F.conv_transpose1d F.conv_transpose2d F.conv_transpose3d F.linear matmul mm mv prelu F.prelu "
               "F.scaled_dot_product_attention")
_CUDA_FLOAT32 = ("Tensor.__pow__ Tensor.__rpow__ Tensor.__rtruediv__ acos asin F.binary_cross_entropy_with_logits "
                 "cosh F.cosine_embedding_loss cdist F.cosine_similarity F.cross_entropy cumprod cumsum dist erfinv "
                 "exp expm1 F.group_norm F.hinge_embedding_loss F.kl_div F.l1_loss F.layer_norm log log_softmax "
                 "F.log_softmax log10 log1p log2 F.margin_ranking_loss F.mse_loss F.multilabel_margin_loss "
                 "F.multi_margin_loss F.nll_loss norm F.normalize F.pdist F.poisson_nll_loss pow prod reciprocal "
                 "rsqrt sinh F.smooth_l1_loss F.soft_margin_loss softmax F.softmax F.softmin F.softplus sum renorm "
                 "tan F.triplet_margin_loss")
_CUDA_PROMOTE = "addcdiv addcmul atan2 F.bilinear cross dot F.grid_sample index_put scatter_add tensordot stack cat"

POLICIES = {
    "cpu": {**{n: LOWER for n in _CPU_LOWER.split()}, **{n: FLOAT32 for n in _CPU_FLOAT32.split()},
            **{n: PROMOTE for n in _CPU_PROMOTE.split()}},
    "cuda": {**{n: LOWER for n in _CUDA_LOWER.split()}, **{n: FLOAT32 for n in _CUDA_FLOAT32.split()},
             **{n: PROMOTE for n in _CUDA_PROMOTE.split()}, "F.binary_cross_entropy": BANNED},
}
# NOTE: primitives that code reaches without a public name (nn.Conv2d keeps F.conv2d from import time, which
# calls the Convolution primitive; Tensor's `@`): their class name -> the public name whose policy they follow
PRIMITIVES = {"Convolution": "F.conv2d", "ConvTranspose": "F.conv_transpose2d", "Mm": "mm", "Matmul": "matmul",
              "Linear": "F.linear", "LinearBatched": "F.linear", "Mv": "mv",
              "ScaledDotProductAttention": "F.scaled_dot_product_attention",
              "BinaryCrossEntropy": "F.binary_cross_entropy",
              "BinaryCrossEntropyWithLogits": "F.binary_cross_entropy_with_logits", "Cat": "cat", "Stack": "stack"}

# NOTE: ember's own helpers that stand for a listed op inside composed layers, looked up as module globals at call
# time (so swapped like the public names): module -> {helper: the public name whose policy it follows}.
# multi_head_attention_forward's projections are PyTorch's F.linear (bias cast too), ember's one-GEMM `_linear`.
INTERNAL = {"ember.nn._functional_attention": {"_linear": "F.linear"}}

_BANNED_MESSAGE = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")


def active():
    """The device types whose autocast is on now, with their dtypes."""
    return {d: e[1] for d, e in _state.autocast.items() if e[0]}


def _eligible(t, device_type):
    # NOTE: PyTorch casts defined floating tensors other than float64, on the autocast's device type
    return (isinstance(t, _Tensor) and t._dtype.is_floating_point and t._dtype is not _dtype.float64
            and t._device.type == device_type)


def _cast_value(x, device_type, dtype):
    if _eligible(x, device_type):
        if x._dtype is dtype:
            return x
        if (x._dtype is _dtype.float32 and dtype is not _dtype.float32 and x._requires_grad and x._grad_fn is None
                and x._base is None and _state.autocast_cache_enabled and _state.local.grad_enabled):
            # NOTE: PyTorch's weight cache: a weight used again in the block reuses its first cast (and node);
            # not under no_grad, whose cast has no node for a later use with grad to reach the weight through
            hit = _state.autocast_cache.get(id(x))
            if hit is not None and hit[0] is x and hit[1]._dtype is dtype:
                return hit[1]
            cast = x.to(dtype)
            _state.autocast_cache[id(x)] = (x, cast)
            return cast
        return x.to(dtype)
    if isinstance(x, (list, tuple)) and any(isinstance(v, _Tensor) for v in x):
        return type(x)(_cast_value(v, device_type, dtype) for v in x)
    return x


def _widest(values, device_type, low):
    """PyTorch's `prioritize`: float32 if any eligible tensor is float32, else the autocast dtype, which every
    other eligible tensor must have."""
    found = low
    for x in values:
        items = x if isinstance(x, (list, tuple)) else (x,)
        for v in items:
            if not _eligible(v, device_type):
                continue
            if found is _dtype.float32 or v._dtype is _dtype.float32:
                found = _dtype.float32
            elif v._dtype is not low:
                raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return found


def cast_arguments(name, args, kwargs):
    """args and kwargs as autocast hands them to op `name` (a key of the policy tables)."""
    for device_type, low in active().items():
        rule = POLICIES.get(device_type, POLICIES["cuda"]).get(name)
        if rule is None:
            continue
        if rule == BANNED:
            raise RuntimeError(_BANNED_MESSAGE)
        dtype = (low if rule == LOWER else _dtype.float32 if rule == FLOAT32
                 else _widest(list(args) + list(kwargs.values()), device_type, low))
        if dtype is None:
            continue
        args = tuple(_cast_value(a, device_type, dtype) for a in args)
        kwargs = {k: _cast_value(v, device_type, dtype) for k, v in kwargs.items()}
    return args, kwargs


class _excluded:
    """Autocast off while an autocast op runs (PyTorch excludes its autocast dispatch key there)."""

    def __enter__(self):
        self.saved = _state.autocast_active
        _state.autocast_active = False

    def __exit__(self, *exc):
        _state.autocast_active = self.saved
        return False


def run(name, fn, args, kwargs):
    """fn(*args, **kwargs) under autocast's policy for `name`: as it is where no active autocast lists the op
    (its inner ops then autocast as PyTorch's do, e.g. tensordot's mm on the CPU)."""
    if not any(name in POLICIES.get(d, POLICIES["cuda"]) for d in active()):
        return fn(*args, **kwargs)
    args, kwargs = cast_arguments(name, args, kwargs)
    with _excluded():
        return fn(*args, **kwargs)


def primitive_arguments(cls, args):
    """Primitive.apply's hook: the operands cast by the policy of the public op the primitive stands for."""
    name = PRIMITIVES.get(cls.__name__)
    if name is None:
        return args
    return cast_arguments(name, args, {})[0]


def _wrap(name, fn, module=None):
    @functools.wraps(fn)
    def op(*args, **kwargs):
        if not _state.autocast_active:
            return fn(*args, **kwargs)
        return run(name, fn, args, kwargs)
    op._autocast = name
    if module is not None:  # NOTE: pickle finds a function by module and name: the wrapper is what is there
        op.__module__, op.__qualname__ = module, op.__name__
    return op


def _swaps():
    """(owner, attribute, original, wrapper) for every public op some policy names."""
    import ember
    from .. import fft, linalg
    from ..nn import functional
    modules = {"": ember, "F": functional, "linalg": linalg, "fft": fft}
    swaps = []
    for name in sorted({n for table in POLICIES.values() for n in table}):
        space, _, short = name.rpartition(".")
        owners = [(_Tensor, None)] if space == "Tensor" else [(modules[space], modules[space].__name__)]
        if space == "":
            owners.append((_Tensor, None))
        for owner, module in owners:
            f = owner.__dict__.get(short) if owner is _Tensor else getattr(owner, short, None)
            if f is not None and callable(f) and not isinstance(f, type):
                swaps.append((owner, short, f, _wrap(name, f, module)))
    for module_name, helpers in INTERNAL.items():
        module = importlib.import_module(module_name)
        for attr, name in helpers.items():
            f = getattr(module, attr)
            swaps.append((module, attr, f, _wrap(name, f, module_name)))
    return swaps


_SWAPS = []
_installed = [False]


def refresh():
    """NOTE: the public ops are wrapped only while some autocast is on (swapped in and out here, on every
    autocast switch): outside autocast they are PyTorch's functions with no extra frame (warnings' stack levels,
    pickling by name, speed); the op boundary tests one number, _state.autocast_active."""
    on = bool(active())
    _state.autocast_active = on
    if on == _installed[0]:
        return
    if not _SWAPS:
        _SWAPS.extend(_swaps())
    for owner, attr, original, wrapped in _SWAPS:
        setattr(owner, attr, wrapped if on else original)
    _installed[0] = on


from .._tensor import Tensor as _Tensor  # noqa: E402  (ember/_tensor.py imports nothing of amp)
