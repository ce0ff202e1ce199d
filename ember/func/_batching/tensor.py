"""BatchedTensor: what a function under `vmap` sees in place of each batched input.

A BatchedTensor wraps a physical Tensor `_value` whose dim 0 is the batch dim of one vmap level
(`_level`, 1 for the outermost vmap). Everything a program can ask it (shape, size(), dim(), numel(),
dtype, device) describes the LOGICAL tensor, one example of the batch: the value's shape without dim 0.
Nested vmap is a BatchedTensor whose value is a BatchedTensor of the level below.

It is a subclass of Tensor, so every Tensor method and every composed public function runs on it
unchanged; their ops reach `Primitive.apply`, where ember/func/_batching/rules.py runs each op's batching
rule on the physical values.

NOTE: code that reads `tensor._data` for its metadata (`x._data.ndim`, `x._data.shape`) is common in
ember's composed functions; a BatchedTensor's `_data` is a `LogicalArray` that answers those with the
logical metadata and raises a RuntimeError naming the read for anything that needs the numbers (a raw
array fast path, `.item()`, a data-dependent check), so that no raw read of a batched tensor is ever
silently wrong.
"""
from ... import _state
from ..._tensor import Tensor, Size


class LogicalArray:
    """The `_data` of a BatchedTensor: its logical shape, ndim, size and dtype; every other use raises."""

    __slots__ = ("_owner",)

    def __init__(self, owner):
        self._owner = owner

    @property
    def shape(self):
        return tuple(self._owner._value._data.shape[1:])

    @property
    def ndim(self):
        return self._owner._value._data.ndim - 1

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def dtype(self):
        return self._owner._value._data.dtype

    @property
    def itemsize(self):
        return self._owner._value._data.itemsize

    @property
    def strides(self):
        return tuple(self._owner._value._data.strides[1:])

    @property
    def flags(self):
        return _Flags(self)

    def __getattr__(self, name):
        raise _data_error(f"the array attribute '{name}'")

    def __array__(self, *args, **kwargs):
        raise _data_error("a conversion to an array")

    def __bool__(self):
        raise _data_error("a data-dependent check (bool())")

    def __getitem__(self, key):
        raise _data_error("an indexing of its raw data")

    def __setitem__(self, key, value):
        raise _data_error("a write into its raw data (an in-place op)")

    def __float__(self):
        raise _data_error("float()")

    def __int__(self):
        raise _data_error("int()")

    def __index__(self):
        raise _data_error("an index conversion")

    def __iter__(self):
        raise _data_error("an iteration over its raw data")


def _refuse(what):
    def method(self, *args):
        raise _data_error(what)
    return method


for _op in ("lt", "le", "gt", "ge", "eq", "ne", "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and",
            "or", "xor", "radd", "rsub", "rmul", "rtruediv", "rand", "ror", "neg", "invert", "abs"):
    setattr(LogicalArray, f"__{_op}__", _refuse(f"the array operator '__{_op}__'"))
LogicalArray.__hash__ = None


class _Flags:
    """The `flags` of a LogicalArray: contiguity of the logical strides; writeable as the physical array."""

    __slots__ = ("c_contiguous", "f_contiguous", "writeable")

    def __init__(self, array):
        shape, strides, item = array.shape, array.strides, array.itemsize
        self.c_contiguous = _dense(shape, strides, item)
        self.f_contiguous = _dense(shape[::-1], strides[::-1], item)
        self.writeable = getattr(array._owner._value._data.flags, "writeable", True)  # NOTE: CuPy has no such flag


def _dense(shape, strides, item):
    expected = item
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size == 0:
            return True
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def _data_error(what):
    return RuntimeError(
        f"vmap: an operation read the data of a batched tensor directly ({what}). This operation is not "
        "supported inside vmap; please rewrite it with tensor operations, or call it outside of vmap.")


class BatchedTensor(Tensor):
    """A logical tensor inside vmap: `_value` holds the whole batch at dim 0 for vmap level `_level`."""

    __slots__ = ("_value", "_level")

    def __new__(cls, *args, **kwargs):  # NOTE: made only by `batched`; Tensor.__new__ is the legacy constructor
        return object.__new__(cls)

    @property
    def _data(self):
        return LogicalArray(self)

    @_data.setter
    def _data(self, array):
        raise RuntimeError("vmap: an in-place change of a batched tensor's shape or storage (t_, transpose_, "
                           "squeeze_, unsqueeze_, set_, resize_, .data = ...) is not supported by ember; use the "
                           "out-of-place op instead")

    # NOTE: the graph is recorded on the physical values (see rules.py): requires_grad is the physical value's
    # (ember.func's transforms read it; PyTorch's batched tensors report False), grad_fn is None, so that
    # autograd called on a batched tensor itself refuses it (it is not in the graph) instead of a wrong gradient.
    @property
    def _requires_grad(self):
        return self._value._requires_grad

    @_requires_grad.setter
    def _requires_grad(self, value):
        self._value._requires_grad = value

    @property
    def _grad_fn(self):
        return None

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        raise RuntimeError("backward() called inside a functorch transform. This is not supported, please use "
                           "functorch.grad or functorch.vjp instead or call backward() outside of functorch transforms.")

    @property
    def shape(self):
        return tuple.__new__(Size, self._value.shape[1:])

    def size(self, dim=None):
        shape = self._value.shape[1:]
        if dim is None:
            return tuple.__new__(Size, shape)
        return Size(shape)[_logical_dim(dim, len(shape))]

    @property
    def ndim(self):
        return self._value.dim() - 1

    def dim(self):
        return self._value.dim() - 1

    def numel(self):
        return self.shape.numel()

    def detach(self):
        return batched(self._value.detach(), self._level)

    @property
    def data(self):
        return self.detach()

    def requires_grad_(self, requires_grad=True):
        self._value.requires_grad_(requires_grad)
        return self

    def item(self):
        raise RuntimeError(
            "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling .item() "
            "on a Tensor, please try to rewrite what you're doing with other operations. If error is occurring "
            "somewhere inside PyTorch internals, please file a bug report.")

    def tolist(self):
        raise _data_error(".tolist()")

    def numpy(self, *, force=False):
        raise _data_error(".numpy()")

    def __array__(self, dtype=None, copy=None):
        raise _data_error("a conversion to a NumPy array")

    def __bool__(self):
        raise RuntimeError(
            "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. We don't "
            "support that yet, please shout over at https://github.com/pytorch/functorch/issues/257 .")

    def __repr__(self):
        return f"BatchedTensor(lvl={self._level}, bdim=0, value=\n    {self._value!r}\n)"

    def __deepcopy__(self, memo):
        raise _data_error("copy.deepcopy()")

    def __reduce_ex__(self, protocol):
        raise _data_error("pickling")


def _logical_dim(dim, ndim):
    lo = -ndim if ndim else -1
    hi = ndim - 1 if ndim else 0
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return dim + ndim if dim < 0 else dim


def batched(value, level):
    """A BatchedTensor over `value` (batch at dim 0) for vmap level `level`."""
    t = object.__new__(BatchedTensor)
    t._value = value
    t._level = level
    t._device = value._device
    t._dtype = value._dtype
    t._grad = None
    t._output_nr = 0
    t._vc = value._vc
    t._base = None
    t._accum = None
    t._retains_grad = False
    return t


class Level:
    """One active vmap: its batch size and randomness mode; its number is its place in the stack (from 1)."""

    __slots__ = ("size", "randomness")

    def __init__(self, size, randomness):
        self.size = size
        self.randomness = randomness


def levels():
    """The active vmap levels, outermost first (the stack lives in ember/_state.py, per thread)."""
    return _state.local.vmap_levels


def physical(t):
    """The plain Tensor under every level of `t` (its batch dims first: the lowest level's at dim 0).
    Anything else is returned as it is."""
    while type(t) is BatchedTensor:
        t = t._value
    return t


def level_of(t):
    """The vmap level `t` is batched at (0: not a BatchedTensor)."""
    return t._level if type(t) is BatchedTensor else 0


def is_batched(t):
    """Whether `t` is a BatchedTensor (composed functions whose argument checks read raw arrays use it to
    leave those checks to the physical call of the op's batching rule)."""
    return type(t) is BatchedTensor
