"""torch.device: parsing 'cuda:0' and mapping a device to its array backend."""
from . import _backends


class device:
    """torch.device('cpu'), torch.device('cuda:1'), torch.device('cuda', 0)."""

    __slots__ = ("type", "index")

    def __new__(cls, type, index=None):
        if isinstance(type, device):
            return type
        if isinstance(type, int):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type.__class__.__name__})")
        if ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in ("cpu", "cuda", "meta", "mps"):
            raise RuntimeError(
                f"Expected one of cpu, cuda, mps, meta device type at start of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative")
        self = object.__new__(cls)
        self.type = type
        self.index = index
        return self

    @property
    def backend(self):
        return _backends.get(self.type)

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

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


CPU = device("cpu")


def as_device(d):
    """Normalise what users pass as `device=`: None, str, int or device. cuda gets index 0."""
    if d is None:
        return None
    d = device(d)
    if d.type == "cuda" and d.index is None:
        from . import _state
        return device("cuda", _state.current_cuda_index())
    return d


def of_array(array):
    """The device that holds `array`."""
    kind = _backends.device_type_of(array)
    if kind == "cpu":
        return CPU
    return device("cuda", array.device.id)
