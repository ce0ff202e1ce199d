"""torch.backends.opt_einsum: ember's einsum does not use the opt_einsum package, so it is unavailable."""
import sys
import types

from . import _flags


def is_available():
    return False


def get_opt_einsum():
    return None


class _Module(types.ModuleType):
    @property
    def enabled(self):
        return _flags.get("opt_einsum.enabled")

    @enabled.setter
    def enabled(self, value):
        _flags.flags["opt_einsum.enabled"] = bool(value)

    @property
    def strategy(self):
        return _flags.get("opt_einsum.strategy")

    @strategy.setter
    def strategy(self, value):
        _flags.flags["opt_einsum.strategy"] = value


sys.modules[__name__].__class__ = _Module
