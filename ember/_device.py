"""torch.device: parsing 'cuda:0' and mapping a device to its array backend."""
import builtins
import contextlib
import functools
import re

from . import _backends


_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
          "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_UNSET = object()
# NOTE: PyTorch's grammar: letters and underscores, then an optional index without leading zeros.
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::(0|[1-9][0-9]*))?")


class device:
    """torch.device('cpu'), torch.device('cuda:1'), torch.device('cuda', 0).

    Every device type PyTorch knows parses; only cpu and cuda have a backend."""

    __slots__ = ("type", "index", "_backend")

    def __new__(cls, type, index=_UNSET):
        if isinstance(type, device) and index is _UNSET:
            return type
        if isinstance(type, builtins.int) and not isinstance(type, builtins.bool) and index is _UNSET:
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({type.__class__.__name__}), but expected one of:\n * (torch.device device)\n"
                            f"      didn't match because some of the arguments have invalid types: "
                            f"(!{type.__class__.__name__}!)\n * (str type, int index = -1)\n")
        if index is not _UNSET and index is not None and (
                isinstance(index, builtins.bool) or not hasattr(index, "__index__")):
            raise TypeError(f"device(): argument 'index' (position 2) must be int, not {index.__class__.__name__}")
        if not type:
            raise RuntimeError("Device string must not be empty")
        m = _DEVICE_STRING.fullmatch(type)
        if m is None:
            raise RuntimeError(f"Invalid device string: '{type}'")
        name, idx = m.group(1), m.group(2)
        if name not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device string: {name}")
        if idx is not None:
            if index is not _UNSET:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: "
                                   f"{type}")
            index = builtins.int(idx)
        if index is _UNSET or index is None:
            index = None
        else:
            index = builtins.int(index.__index__())
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self = object.__new__(cls)
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "_backend", None)
        return self

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.device' objects is not writable")

    @property
    def backend(self):
        """The backend module (ember/_backends) that holds this device's arrays; looked up once."""
        b = self._backend
        if b is None:
            b = _backends.get(self.type)
            object.__setattr__(self, "_backend", b)
        return b

    def __eq__(self, other):
        # NOTE: as in PyTorch, a device never equals a string: device('cpu') == 'cpu' is False.
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        """`with torch.device('cuda'):` makes this the default device of the factories inside the block."""
        from . import _state
        _state.default_device_stack.append(_state.default_device)
        _state.default_device = self
        return self

    def __exit__(self, *exc):
        from . import _state
        _state.default_device = _state.default_device_stack.pop()


CPU = device("cpu")


def as_device(d):
    """Normalise what users pass as `device=`: None, str, int or device. cuda gets index 0."""
    if d is None:
        return None
    given = d
    d = device(d)
    if d.type == "cpu":
        return CPU  # NOTE: tensors live on 'cpu', never 'cpu:0', as in PyTorch
    if d.type == "cuda":
        _require_cuda(given)
        if d.index is None:
            from . import _state
            return device("cuda", _state.current_cuda_index())
    return d


_NOWHERE = contextlib.nullcontext()


def current(device_):
    """The context in which arrays for `device_` are made: its device made current (nothing on the CPU)."""
    activate = device_.backend.activate if device_ is not None else None
    return _NOWHERE if activate is None else activate(device_.index)


def runs_on_its_device(fn):
    """Decorator for code that makes arrays itself (outside an op's apply): it runs with the device of its
    first Tensor (or device) argument made current, so cuda:1's arrays are made on GPU 1."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        if not _backends.needs_activation:
            return fn(*args, **kwargs)
        for a in args:
            if type(a) in (list, tuple) and a:
                a = a[0]
            where = a if isinstance(a, device) else getattr(a, "_device", None)
            if where is not None:
                activate = where.backend.activate
                if activate is None:
                    break
                with activate(where.index):
                    return fn(*args, **kwargs)
        return fn(*args, **kwargs)
    return run


def set_default_device(device_):
    """torch.set_default_device: the device factories use when given none (None: the CPU again)."""
    from . import _state
    _state.default_device = None if device_ is None else device(device_)


def get_default_device():
    """torch.get_default_device: the factories' default device (cuda with its current index)."""
    from . import _state
    if _state.default_device is None:
        return CPU
    return as_device(_state.default_device)


def _require_cuda(given):
    """PyTorch's errors for a cuda device on a machine without one: a CPU-only build (no CuPy
    here) fails an assertion; a CUDA build (CuPy importable) finds no driver."""
    backend = _backends.get("cuda")
    if backend.xp is None:
        if isinstance(given, builtins.int):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        raise AssertionError("Torch not compiled with CUDA enabled")
    if not backend.is_available():
        raise RuntimeError("Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and "
                           "installed a driver from http://www.nvidia.com/Download/index.aspx")


def of_array(array):
    """The device that holds `array`."""
    backend = _backends.of_array(array)
    index = backend.device_index(array)
    return CPU if index is None else device(backend.name, index)
