"""torch.types: the type aliases PyTorch's annotations use (Number, Device, _size, FileLike, ...)."""
import os
from collections.abc import Sequence
from typing import IO, Union

from ._classes import SymBool, SymFloat, SymInt, qscheme as _qscheme
from ._device import device as _device
from ._dtype import dtype as _dtype
from ._storage import TypedStorage, UntypedStorage
from ._tensor import Size, Tensor
from ._types import layout as _layout

_bool, _int, _float, _complex, _str, _bytes = bool, int, float, complex, str, bytes
_Number = (int, float, bool)
Number = Union[int, float, bool]
Device = Union[_device, str, int, None]
_size = Union[Size, list, tuple]
_symsize = Union[Size, Sequence]
_TensorOrTensors = Union[Tensor, Sequence]
_TensorOrOptionalTensors = Union[Tensor, Sequence]
_TensorOrTensorsOrGradEdge = Union[Tensor, Sequence]
_dispatchkey = str
IntLikeType = Union[int, SymInt]
FloatLikeType = Union[float, SymFloat]
BoolLikeType = Union[bool, SymBool]
PySymType = Union[SymInt, SymFloat, SymBool]
py_sym_types = (SymInt, SymFloat, SymBool)
FileLike = Union[str, os.PathLike, IO[bytes]]
Storage = Union[TypedStorage, UntypedStorage]

__all__ = ["Number", "Device", "FileLike", "IntLikeType", "FloatLikeType", "BoolLikeType", "PySymType",
           "py_sym_types", "Storage", "Size", "Tensor", "SymInt", "SymFloat", "SymBool"]
_ = (_dtype, _layout, _qscheme)  # NOTE: torch.types re-exports these under their underscored names
