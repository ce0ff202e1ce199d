"""torch.nn.modules: the layer classes."""
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .linear import Bilinear, Flatten, Identity, Linear, Unflatten
from .module import Module

__all__ = [name for name in dir() if name[0].isupper()]
