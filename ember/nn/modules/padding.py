"""torch.nn.modules.padding: the padding layers (zero, constant, reflection, replication, circular)."""
from .. import functional as F
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _padding(value, n):
    """PyTorch's _pair/_quadruple/_ntuple(6): an int repeated 2n times; a sequence kept as given."""
    if hasattr(value, "__iter__"):
        return tuple(value)
    return (value,) * (2 * n)


# === constant and zero ===========================================================================
class _ConstantPadNd(Module):
    __constants__ = ["padding", "value"]

    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with `value`: padding int or (left, right) (torch.nn.ConstantPad1d)."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _padding(padding, 1)


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with `value`: int or (left, right, top, bottom) (torch.nn.ConstantPad2d)."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _padding(padding, 2)


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with `value`: int or a 6-tuple (torch.nn.ConstantPad3d)."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _padding(padding, 3)


class _ZeroPad:
    """ZeroPad{1,2,3}d's own part: ConstantPad{1,2,3}d with value 0, shown by its padding alone."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pads the last dim with zeros (torch.nn.ZeroPad1d)."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pads the last 2 dims with zeros (torch.nn.ZeroPad2d)."""


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pads the last 3 dims with zeros (torch.nn.ZeroPad3d)."""


# === reflection, replication, circular ===========================================================
class _ModePadNd(Module):
    __constants__ = ["padding"]
    _mode = None
    _n = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(padding, self._n)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Pads the last dim with its reflection (torch.nn.ReflectionPad1d)."""
    _mode, _n = "reflect", 1


class ReflectionPad2d(_ModePadNd):
    """Pads the last 2 dims with their reflection (torch.nn.ReflectionPad2d)."""
    _mode, _n = "reflect", 2


class ReflectionPad3d(_ModePadNd):
    """Pads the last 3 dims with their reflection (torch.nn.ReflectionPad3d)."""
    _mode, _n = "reflect", 3


class ReplicationPad1d(_ModePadNd):
    """Pads the last dim by repeating its edge values (torch.nn.ReplicationPad1d)."""
    _mode, _n = "replicate", 1


class ReplicationPad2d(_ModePadNd):
    """Pads the last 2 dims by repeating their edge values (torch.nn.ReplicationPad2d)."""
    _mode, _n = "replicate", 2


class ReplicationPad3d(_ModePadNd):
    """Pads the last 3 dims by repeating their edge values (torch.nn.ReplicationPad3d)."""
    _mode, _n = "replicate", 3


class _CircularPadNd(_ModePadNd):
    _mode = "circular"

    def _check_input_dim(self, input):
        n = self._n
        if input.dim() != n + 1 and input.dim() != n + 2:
            raise ValueError(f"expected {n + 1}D or {n + 2}D input (got {input.dim()}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pads the last dim by wrapping around (torch.nn.CircularPad1d)."""
    _n = 1


class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dims by wrapping around (torch.nn.CircularPad2d)."""
    _n = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dims by wrapping around (torch.nn.CircularPad3d)."""
    _n = 3
