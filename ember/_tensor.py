"""torch.Tensor: an array of the device's array module plus what autograd needs.

Only the data model lives here (storage, views, version counter, autograd fields, conversions).
Math methods are bound onto the class by ember/_ops when each op registers.
"""
import builtins
import warnings

from . import _dtype, _state
from ._device import CPU, device as _device_cls


class Size(tuple):
    """torch.Size: a tuple of ints describing a shape."""

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for i, s in enumerate(sizes):
            if type(s) is not builtins.int:
                if not hasattr(s, "__index__") or isinstance(s, builtins.float):
                    raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is '{type(s).__name__}')")
                sizes = sizes[:i] + (s.__index__(),) + sizes[i + 1:]
        return tuple.__new__(cls, sizes)

    def __repr__(self):
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))


# NOTE: how many inference_mode blocks are open, in any thread (ember/autograd/grad_mode.py keeps the count).
# The mode itself is _state.local.inference (per thread); this count only summarises it for `_wrap`, the
# hottest constructor: while no block is open, one read of this module's global tells it that the tensor
# it makes is a normal one. The thread's own flag is read only while some block is open.
_inference_blocks = 0

INFERENCE_INPLACE = ("Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone "
                     "to get a normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 "
                     "for more details.")


class InferenceVersion(list):
    """The version counter of an inference tensor (one made inside inference_mode, or a view or detach of one).

    NOTE: PyTorch's inference tensors keep no version counter, and a write into one outside inference mode
    raises when the counter would be bumped (after the data was written, as here). Every in-place write in
    ember ends with `t._vc[0] += 1`; routing that bump through this class is what makes the refusal cost
    nothing for normal tensors. Its type is also what `Tensor.is_inference()` reads."""

    __slots__ = ()

    def __setitem__(self, index, value):
        if not _state.local.inference:
            raise RuntimeError(INFERENCE_INPLACE)
        list.__setitem__(self, index, value)


def _new_version():
    """A fresh version counter for a tensor made while some inference_mode block is open (in some thread)."""
    return InferenceVersion((0,)) if _state.local.inference else [0]


def _wrap(array, device, dtype, requires_grad=False, vc=None):
    """Make a Tensor around `array` without any checks (the internal fast constructor). A tensor that shares
    no version counter (vc=None) made inside inference_mode is an inference tensor."""
    t = object.__new__(Tensor)
    t._data = array
    t._device = device
    t._dtype = dtype
    t._requires_grad = requires_grad
    t._grad = None
    t._grad_fn = None
    t._output_nr = 0
    if vc is None:
        vc = [0] if not _inference_blocks else _new_version()
    t._vc = vc
    t._base = None
    t._accum = None
    t._retains_grad = False
    return t


_WARNED_FLOAT = []  # float(t) of a tensor requiring grad has warned (PyTorch warns once)

class Tensor:
    """A multi-dimensional array with autograd, on the CPU (NumPy) or a GPU (CuPy)."""

    __slots__ = ("_data", "_device", "_dtype", "_requires_grad", "_grad", "_grad_fn", "_output_nr",
                 "_vc", "_base", "_view_chain", "_view_version", "_accum", "_retains_grad", "_fw", "_view_meta",
                 "__weakref__")
    # NOTE: _fw holds forward-mode AD tangents by dual level (ember/autograd/forward_ad.py); like _view_chain it is
    # unset on most tensors (_wrap does not touch it), so plain tensors pay nothing for it.

    # NOTE: NumPy scalars defer to the tensor's reflected operators (np.float64(2) * t is a Tensor,
    # not an ndarray), as with PyTorch's tensors.
    __array_priority__ = 1000

    # Legacy constructors (torch.Tensor(5, 3), torch.Tensor([1, 2])) live in _compat.
    def __new__(cls, *args, **kwargs):
        from ._compat.legacy import legacy_new
        return legacy_new(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        pass

    def _adopt(self, other):
        """Take over another tensor's fields (used by subclasses built from a tensor)."""
        for name in Tensor.__slots__[:-1]:
            try:
                object.__setattr__(self, name, getattr(other, name))
            except AttributeError:
                pass
        return self

    # --- basic properties ---------------------------------------------------------------------
    @property
    def shape(self):
        return tuple.__new__(Size, self._data.shape)  # NumPy's sizes are ints already

    def size(self, dim=None):
        if dim is None:
            return tuple.__new__(Size, self._data.shape)
        return self._data.shape[_dim_index(dim, self._data.ndim)]

    @property
    def dtype(self):
        return self._dtype

    _sparse = False  # NOTE: True on the sparse layouts (ember/_sparse.py, ember/_sparse_compressed.py): no dense array

    @property
    def is_sparse(self):
        return False

    @property
    def layout(self):
        from ._types import LAYOUTS
        return LAYOUTS["strided"]

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self):
        return self._device.type == "cuda"

    @property
    def is_cpu(self):
        return self._device.type == "cpu"

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._dtype.itemsize

    @property
    def itemsize(self):
        return self._dtype.itemsize

    @property
    def nbytes(self):
        return self._dtype.itemsize * int(self._data.size)

    def stride(self, dim=None):
        data = self._data
        if data.size == 0 and getattr(data.flags, "writeable", True) and not any(data.strides):
            # NOTE: NumPy allocates empty arrays with zero strides; PyTorch's contiguous strides count
            # a size-0 dim as 1 (zeros(2, 0, 3).stride() == (3, 3, 1)). Expanded (read-only) arrays
            # keep their zeros, as in PyTorch.
            strides, acc = [], 1
            for size in reversed(data.shape):
                strides.append(acc)
                acc *= builtins.max(size, 1)
            strides = tuple(reversed(strides))
        else:
            item = data.itemsize
            strides = tuple(s // item for s in data.strides)
        if dim is None:
            return strides
        return strides[_dim_index(dim, self._data.ndim)]

    def storage_offset(self):
        backend = self._device.backend
        return (backend.data_ptr(self._data) - backend.storage(self._data)[0]) // self._data.itemsize

    def is_contiguous(self, memory_format=None):
        if self._data.size == 0:
            return True
        expected = 1
        for size, stride in zip(reversed(self._data.shape), reversed(self.stride())):
            if size == 0:
                return True
            if size != 1 and stride != expected:
                return False
            expected *= size
        return True

    def is_floating_point(self):
        return self._dtype.category == _dtype.FLOAT

    def is_complex(self):
        return self._dtype.category == _dtype.COMPLEX

    def get_device(self):
        return -1 if self._device.type == "cpu" else self._device.index

    @property
    def is_leaf(self):
        return self.grad_fn is None

    # --- autograd fields ------------------------------------------------------------------------
    @property
    def requires_grad(self):
        if self._base is not None and self._view_version != self._vc[0]:
            self._sync_view(strict=False)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self._grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")
        if value and self._dtype.category < _dtype.FLOAT:
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        if value and type(self._vc) is InferenceVersion and not _state.local.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place; returns self."""
        if requires_grad and self._dtype.category < _dtype.FLOAT:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        if self._base is not None and self._view_version != self._vc[0]:
            self._sync_view()
        return self._grad_fn

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
                "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
                "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
                "github.com/pytorch/pytorch/pull/30531 for more information.",
                UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._dtype is not self._dtype:
                from ._ops._registry import _C_TYPE_NAMES
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_C_TYPE_NAMES.get(value._dtype.name)}' to a "
                    f"tensor with grad_dtype '{_dtype.scalar_type_name(self._dtype)}'. The gradient must match the "
                    "tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's grad_dtype "
                    "attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with caution. "
                    "Diverging the dtypes of a tensor and its gradient may break downstream systems that assume "
                    "they match.")
            if value._device != self._device:
                raise RuntimeError("assigned grad has data located on a different device")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor of size "
                    f"'{list(self._data.shape)}'. Please ensure that the gradient and the tensor are the same size")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def _version(self):
        if type(self._vc) is InferenceVersion:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._vc[0]

    def is_inference(self):
        """Whether this is an inference tensor: made inside inference_mode (or a view or detach of one)."""
        return type(self._vc) is InferenceVersion

    def _accumulator(self):
        acc = self._accum
        if acc is None:
            from .autograd.graph import AccumulateGrad
            acc = self._accum = AccumulateGrad(self)
        return acc

    def _edge_for_grad(self):
        """The graph position whose incoming gradient is this tensor's gradient."""
        fn = self.grad_fn
        if fn is not None:
            return (fn, self._output_nr)
        if not self._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        return (self._accumulator(), 0)

    def _sync_view(self, strict=True):
        """A view whose base changed in place: rebuild its grad_fn from the base's new history.

        A view made without grad tracking of a tensor that requires grad (see autograd/function.py _link_view)
        has no history to rebuild: reading its grad_fn then (strict) raises PyTorch's error."""
        meta = getattr(self, "_view_meta", None)
        base = self._base
        # NOTE: a piece of a multi-output view of a tensor that requires no grad has nothing to rebuild, as in PyTorch
        if meta is not None and not (meta == "multi" and self._grad_fn is None and not base.requires_grad):
            if strict:
                from .autograd.inplace import view_rebase_error
                raise view_rebase_error(meta, self)
            if meta == "multi" and base.requires_grad:  # NOTE: as PyTorch, a view requires grad with its base
                self._requires_grad = True
            return
        self._view_version = self._vc[0]
        if base._grad_fn is None and not base._requires_grad:
            return
        from .autograd.function import replay_view
        prev = _state.local.grad_enabled
        _state.local.grad_enabled = True
        try:
            fresh = replay_view(base, self._view_chain)
        finally:
            _state.local.grad_enabled = prev
        if fresh._grad_fn is not None:
            from .autograd.inplace import as_strided_node
            self._grad_fn, self._output_nr = as_strided_node(fresh), 0
        else:
            self._grad_fn, self._output_nr = None, fresh._output_nr
        self._requires_grad = fresh._requires_grad

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. graph leaves, accumulating into `.grad`."""
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Run hook(grad) when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        fn = self.grad_fn
        if fn is None:
            return self._accumulator()._add_tensor_hook(0, hook)
        return fn._add_tensor_hook(self._output_nr, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Run hook(tensor) on this leaf after backward has accumulated its `.grad`; hook returns None."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        return self._accumulator()._add_post_accumulate_hook(hook)

    def retain_grad(self):
        """Keep `.grad` for this non-leaf tensor during backward."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        self._retains_grad = True
        import weakref
        ref = weakref.ref(self)

        def keep(grad):
            t = ref()
            if t is not None:
                if t._grad is None:
                    t._grad = _wrap(grad._data.copy(), grad._device, grad._dtype)
                else:
                    total = t._grad._data + grad._data
                    if not total.shape:  # NOTE: NumPy adds 0-d arrays into a scalar; a tensor holds an array
                        total = grad._device.backend.xp.asarray(total)
                    t._grad = _wrap(total, grad._device, grad._dtype)
        self._grad_fn._set_retains_grad_hook(self._output_nr, keep)  # NOTE: run after the tensor's hooks

    @property
    def retains_grad(self):
        return self._retains_grad

    def detach(self):
        """A tensor sharing this one's data (and version counter) that is out of the graph."""
        return _wrap(self._data, self._device, self._dtype, vc=self._vc)

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are using "
                               "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view "
                               "is set as True, gradients are views of DDP buckets, and hence detach_() "
                               "cannot be called on these gradients. To fix this error, please refer to "
                               "the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """The same data, out of the graph, with its own version counter (PyTorch's `.data`)."""
        t = _wrap(self._data, self._device, self._dtype)
        return t

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data
        self._dtype = value._dtype
        self._device = value._device

    # --- conversions --------------------------------------------------------------------------
    def item(self):
        """The single value as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        v = self._device.backend.to_host(self._data).reshape(()).item()
        if self._dtype is _dtype.bfloat16:
            v = float(v)
        return v

    def tolist(self):
        data = self._device.backend.to_host(self._data)
        if self._dtype is _dtype.bfloat16:
            data = data.astype("float32")
        return data.tolist()

    def numpy(self, *, force=False):
        """A NumPy array sharing this CPU tensor's memory (a new array object each call)."""
        if not force:
            if self._requires_grad:
                raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
            if self._device != CPU:
                raise TypeError(f"can't convert {self._device} device type tensor to numpy. Use Tensor.cpu() "
                                "to copy the tensor to host memory first.")
        if self._device != CPU:
            return self._device.backend.to_host(self._data)
        # NOTE: a fresh view, so that setting its shape or dtype cannot change this tensor.
        return self._data.view()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()  # NOTE: PyTorch's error for a tensor that requires grad (np.asarray(t))
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        return a.copy() if copy else a

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """NumPy's ufuncs over a tensor and an ndarray (`t + ndarray`, after Tensor's operator
        declines it) return a CPU tensor, as with PyTorch, whose wrap turns bool results into uint8."""
        from ._creation import from_array
        import numpy
        array = numpy.asarray(array)
        if array.dtype == numpy.bool_:
            array = array.astype(numpy.uint8)
        return from_array(array)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self):
        if self._data.size != 1:
            what = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
        return bool(self._device.backend.to_host(self._data).reshape(()))

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self):
        if self.requires_grad and not _WARNED_FLOAT:
            _WARNED_FLOAT.append(True)  # NOTE: PyTorch warns once per process (TORCH_WARN_ONCE)
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                          "behavior.\nConsider using tensor.detach() first.", UserWarning, stacklevel=2)
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __complex__(self):
        return complex(self._scalar())

    def __index__(self):
        if self._dtype.category not in (_dtype.INT, _dtype.BOOL) or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol at the moment.  If you were attempting to deepcopy a "
                               "module, this may be because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        new = _wrap(self._data.copy(), self._device, self._dtype, self._requires_grad)
        if type(self) is not Tensor:
            new = type(self).__new__(type(self), new, self._requires_grad) if _is_param(self) else new
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol):
        data = self._device.backend.to_host(self._data)
        return (_rebuild, (data, str(self._device), self._requires_grad))

    def __getstate__(self):
        raise TypeError("use __reduce_ex__")

    # --- device and dtype moves ---------------------------------------------------------------
    def to(self, *args, **kwargs):
        """Move to a device and/or cast to a dtype; returns self when nothing changes."""
        dtype, dev, copy = _parse_to(self, args, kwargs)
        if (dtype is None or dtype is self._dtype) and (dev is None or dev == self._device) and not copy:
            return self
        from ._ops.shape.copy import ToCopy
        return ToCopy.apply(self, dtype or self._dtype, dev or self._device)

    def cpu(self, memory_format=None):
        return self.to("cpu")

    def pin_memory(self, device=None):
        """A copy in page-locked host memory (needs a GPU, as in PyTorch)."""
        from . import _backends
        cuda = _backends.get("cuda")
        if not cuda.is_available():
            raise RuntimeError("Cannot access accelerator device when none is available.")
        if self._device != CPU:
            raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
        if cuda.is_pinned(self._data):
            return self
        return _wrap(cuda.pin(self._data), CPU, self._dtype)

    def is_pinned(self, device=None):
        """Whether this CPU tensor lives in page-locked memory (see pin_memory)."""
        from . import _backends
        cuda = _backends.get("cuda")
        return self._device == CPU and cuda.xp is not None and cuda.is_pinned(self._data)

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = f"cuda:{device}"
        return self.to(device)

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """With no argument, the legacy type name ('torch.FloatTensor'); otherwise a cast."""
        if dtype is None:
            prefix = "torch.cuda." if self._device.type == "cuda" else "torch."
            return prefix + self._dtype._legacy
        if isinstance(dtype, str):
            from ._compat.legacy import dtype_of_type_name
            dtype = dtype_of_type_name(dtype)
        elif hasattr(dtype, "_legacy_dtype"):  # torch.FloatTensor and the other legacy classes
            dtype = dtype._legacy_dtype
        return self.to(dtype)

    def float(self, memory_format=None):
        return self.to(_dtype.float32)

    def double(self, memory_format=None):
        return self.to(_dtype.float64)

    def half(self, memory_format=None):
        return self.to(_dtype.float16)

    def bfloat16(self, memory_format=None):
        return self.to(_dtype.bfloat16)

    def long(self, memory_format=None):
        return self.to(_dtype.int64)

    def int(self, memory_format=None):
        return self.to(_dtype.int32)

    def short(self, memory_format=None):
        return self.to(_dtype.int16)

    def char(self, memory_format=None):
        return self.to(_dtype.int8)

    def byte(self, memory_format=None):
        return self.to(_dtype.uint8)

    def bool(self, memory_format=None):
        return self.to(_dtype.bool)

    def type_as(self, other):
        return self.to(other._dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from ._creation import tensor
        return tensor(data, dtype=dtype or self._dtype, device=device or self._device, requires_grad=requires_grad)


def _is_param(t):
    return getattr(type(t), "_is_parameter", False)


def _rebuild(data, dev, requires_grad):
    from ._creation import from_array
    return from_array(data.copy(), device=dev, requires_grad=requires_grad)


def _parse_to(self, args, kwargs):
    from ._arguments import as_dtype
    dtype = as_dtype(kwargs.pop("dtype", None), "to")
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, _dtype.dtype) or isinstance(a, type) and a in _PY_DTYPES:
            dtype = as_dtype(a, "to")
        elif isinstance(a, Tensor):
            dtype, dev = a._dtype, a._device
        elif isinstance(a, (str, _device_cls, builtins.int)):
            dev = a
        elif isinstance(a, builtins.bool):
            pass
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got ({type(a).__name__})")
    if dev is not None:
        from ._device import as_device
        dev = as_device(dev)
    return dtype, dev, copy


_PY_DTYPES = (builtins.float, builtins.int, builtins.bool, builtins.complex)


def _dim_index(dim, ndim):
    """A dim for size(dim)/stride(dim): a 0-d tensor has none at all (PyTorch's IndexError)."""
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return _norm_dim(dim, ndim)


def _norm_dim(dim, ndim):
    """Normalise a possibly negative dim; PyTorch's IndexError when out of range."""
    if type(dim) is not builtins.int:
        if isinstance(dim, builtins.float) or not hasattr(dim, "__index__"):
            raise TypeError(f"argument 'dim' must be int, not {type(dim).__name__}")
        dim = dim.__index__()
    lo, hi = (-ndim, ndim - 1) if ndim > 0 else (-1, 0)
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    if ndim == 0:
        return 0
    return dim + ndim if dim < 0 else dim


def norm_dims(dims, ndim):
    """Normalise an int, tuple or list of dims; duplicates get PyTorch's RuntimeError."""
    if isinstance(dims, (builtins.int,)) or hasattr(dims, "__index__") and not isinstance(dims, (tuple, list)):
        return (_norm_dim(dims.__index__(), ndim),)
    out = tuple(_norm_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        for d in out:
            if out.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return out


norm_dim = _norm_dim


def reduction_dims(dims, ndim):
    """The array axes a reduction over `dims` (int, tuple or list) covers. A 0-d tensor accepts
    dim 0 and -1, as PyTorch does, and has no axis to reduce."""
    out = norm_dims(dims, ndim)
    return out if ndim else ()


def broadcast_shapes(*shapes):
    """torch.broadcast_shapes, with PyTorch's message naming the mismatched sizes."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for s in shapes:
        for i, size in enumerate(s):
            j = ndim - len(s) + i
            if size == out[j] or size == 1:
                continue
            if out[j] == 1:
                out[j] = size
            else:
                raise RuntimeError(
                    f"The size of tensor a ({out[j]}) must match the size of tensor b ({size}) "
                    f"at non-singleton dimension {j}")
    return Size(out)


def sum_to(t, shape):
    """Sum `t` down to `shape`, undoing broadcasting: the one place that does it."""
    shape = tuple(shape)
    if t._data.shape == shape:
        return t
    lead = t._data.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"sum_to: {list(t.shape)} is not expandable to {list(shape)}")
    dims = list(range(lead))
    for i, size in enumerate(shape):
        have = t._data.shape[lead + i]
        if size == 1 and have != 1:
            dims.append(lead + i)
        elif size != have:
            raise RuntimeError(f"sum_to: {list(t.shape)} is not expandable to {list(shape)}")
    if dims:
        t = t.sum(dim=tuple(dims), keepdim=True)
    if lead:
        t = t.reshape(shape)
    return t
