"""torch.nn.modules.lazy: LazyModuleMixin, and the lazy linear, convolution and normalisation layers.

A lazy layer is its ordinary layer built with size 0 and its shape-dependent tensors replaced by
UninitializedParameter / UninitializedBuffer. Its first forward runs `initialize_parameters(*input)`
(a forward pre-hook), which materialises them from the input's shape; then the hook is removed and
the module becomes `cls_to_become` (LazyLinear -> Linear), as in PyTorch.

A lazy layer is a class with `cls_to_become`, an `__init__` that builds the ordinary layer with 0 in the
unknown size and assigns UninitializedParameter()s, and an `initialize_parameters(self, input)` that
calls `self._materialize(weight=shape, ...)` (the convolutions share one such body, _LazyConvNd).
"""
from ... import _creation, _dtype
from ...autograd import no_grad
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .linear import Linear

# NOTE: LazyModuleMixin stays out of __all__: torch.nn does not export it (torch.nn.modules.lazy does)
__all__ = ["LazyLinear", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d"]


class LazyModuleMixin:
    """Mixin for modules whose parameters' shapes are inferred from the first input."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def initialize_parameters(self, *args, **kwargs):
        """Materialise the uninitialised tensors from the forward's arguments (each layer defines it)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def has_uninitialized_params(self):
        """Whether any parameter or buffer of this module (not its children) is still uninitialised."""
        tensors = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(t) for t in tensors)

    def _materialize(self, **shapes):
        """Materialise each named tensor with its shape, then reset_parameters (under no_grad)."""
        with no_grad():
            for name, shape in shapes.items():
                t = getattr(self, name)
                if is_lazy(t):
                    t.materialize(shape)
            self.reset_parameters()

    @staticmethod
    def _infer_parameters(module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        # NOTE: removed from this module's own hook dicts by id (not handle.remove()): a deep copy of a
        # lazy module has copies of the dicts, which its copied handle may not point to.
        hook_id = module._initialize_hook.id
        module._forward_pre_hooks.pop(hook_id, None)
        module._forward_pre_hooks_with_kwargs.pop(hook_id, None)
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    # NOTE: the state dict holds the uninitialised tensors themselves, as PyTorch's does; loading
    # a real tensor into one materialises it with the loaded shape first.
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars or is_lazy(param) else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars or is_lazy(buf) else buf.detach()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs, assign=False):
        for name, t in list(self._parameters.items()) + list(self._buffers.items()):
            key = prefix + name
            if key in state_dict and is_lazy(t) and not is_lazy(state_dict[key]):
                with no_grad():
                    t.materialize(state_dict[key].shape)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs, assign)

    def _apply(self, fn):
        # NOTE: uninitialised buffers stay uninitialised through .to()/.double(): their (empty)
        # data is converted in place, so materialize later uses the new device and dtype.
        lazy = {k: b for k, b in self._buffers.items() if is_lazy(b)}
        for k in lazy:
            self._buffers[k] = None
        try:
            super()._apply(fn)
        finally:
            for k, b in lazy.items():
                b.data = fn(_creation.empty(0, device=b.device, dtype=b.dtype))
                self._buffers[k] = b
        return self


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear whose in_features is inferred from the first input's last dim."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            shapes = {"weight": (self.out_features, self.in_features)}
            if self.bias is not None:
                shapes["bias"] = (self.out_features,)
            self._materialize(**shapes)


class _LazyNormBase(LazyModuleMixin):
    """Batch/instance norm whose num_features is inferred from the first input's dim 1."""

    def __init__(self, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        super().__init__(0, eps, momentum, False, False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = _creation.tensor(0, dtype=_dtype.int64, device=device)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            # NOTE: as PyTorch: dim 1, also for unbatched instance-norm input
            self.num_features = input.shape[1]
            shape = (self.num_features,)
            names = (("weight", "bias") if self.affine else ()) + (
                ("running_mean", "running_var") if self.track_running_stats else ())
            self._materialize(**{n: shape for n in names})


class _LazyConvNd(LazyModuleMixin):
    """A convolution whose in_channels is inferred from the first input (dim 1, or dim 0 unbatched)."""

    def __init__(self, out_channels, kernel_size, *args, bias=True, device=None, dtype=None, **kwargs):
        super().__init__(0, 0, kernel_size, *args, bias=False, **kwargs)
        self.out_channels = out_channels
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if not self.has_uninitialized_params():
            return
        n = self._get_num_spatial_dims()
        if input.dim() not in (n + 1, n + 2):
            raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                               f"{self._get_name()}, but got input of size: {input.shape}")
        self.in_channels = input.shape[input.dim() - n - 1]
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        weight = ((self.in_channels, self.out_channels // self.groups) if self.transposed else
                  (self.out_channels, self.in_channels // self.groups)) + tuple(self.kernel_size)
        self._materialize(weight=weight, **({"bias": (self.out_channels,)} if self.bias is not None else {}))


def _lazy_conv(name, base, transposed):
    if transposed:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                     dilation=1, padding_mode="zeros", device=None, dtype=None):
            _LazyConvNd.__init__(self, out_channels, kernel_size, stride, padding, output_padding, groups, bias=bias,
                                 dilation=dilation, padding_mode=padding_mode, device=device, dtype=dtype)
    else:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                     padding_mode="zeros", device=None, dtype=None):
            _LazyConvNd.__init__(self, out_channels, kernel_size, stride, padding, dilation, groups, bias=bias,
                                 padding_mode=padding_mode, device=device, dtype=dtype)
    doc = f"A {base.__name__} whose in_channels is inferred from the first input."
    return type(name, (_LazyConvNd, base), {"cls_to_become": base, "__init__": __init__, "__doc__": doc,
                                            "__module__": __name__})


LazyConv1d = _lazy_conv("LazyConv1d", Conv1d, False)
LazyConv2d = _lazy_conv("LazyConv2d", Conv2d, False)
LazyConv3d = _lazy_conv("LazyConv3d", Conv3d, False)
LazyConvTranspose1d = _lazy_conv("LazyConvTranspose1d", ConvTranspose1d, True)
LazyConvTranspose2d = _lazy_conv("LazyConvTranspose2d", ConvTranspose2d, True)
LazyConvTranspose3d = _lazy_conv("LazyConvTranspose3d", ConvTranspose3d, True)


def _lazy(name, target, doc):
    # NOTE: as PyTorch's, a lazy norm subclasses the family (_BatchNorm / _InstanceNorm), not the layer
    # it becomes (isinstance(LazyBatchNorm1d(), BatchNorm1d) is False); the layer's own dim checks are
    # copied in.
    family = target.__mro__[1]
    own = {k: v for k, v in vars(target).items() if k not in ("__module__", "__doc__", "__qualname__", "__dict__",
                                                               "__weakref__")}
    return type(name, (_LazyNormBase, family), {**own, "cls_to_become": target, "__doc__": doc, "__module__": __name__})


LazyBatchNorm1d = _lazy("LazyBatchNorm1d", BatchNorm1d, "A BatchNorm1d whose num_features is inferred from input.size(1).")
LazyBatchNorm2d = _lazy("LazyBatchNorm2d", BatchNorm2d, "A BatchNorm2d whose num_features is inferred from input.size(1).")
LazyBatchNorm3d = _lazy("LazyBatchNorm3d", BatchNorm3d, "A BatchNorm3d whose num_features is inferred from input.size(1).")
LazyInstanceNorm1d = _lazy("LazyInstanceNorm1d", InstanceNorm1d,
                           "An InstanceNorm1d whose num_features is inferred from input.size(1).")
LazyInstanceNorm2d = _lazy("LazyInstanceNorm2d", InstanceNorm2d,
                           "An InstanceNorm2d whose num_features is inferred from input.size(1).")
LazyInstanceNorm3d = _lazy("LazyInstanceNorm3d", InstanceNorm3d,
                           "An InstanceNorm3d whose num_features is inferred from input.size(1).")
