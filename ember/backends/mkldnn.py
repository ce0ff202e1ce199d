"""torch.backends.mkldnn: ember computes with NumPy, without oneDNN, so it is not available."""
import sys
import types

from . import _flags


def is_available():
    """False: ember has no oneDNN kernels (PyTorch's CPU build has them)."""
    return False


class _Module(types.ModuleType):
    @property
    def enabled(self):
        return _flags.get("mkldnn.enabled")

    @enabled.setter
    def enabled(self, value):
        _flags.set_bool("mkldnn.enabled", value, "set_enabled_mkldnn")


sys.modules[__name__].__class__ = _Module
