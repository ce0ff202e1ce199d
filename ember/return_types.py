"""torch.return_types: the named-tuple types that ops with several outputs return (max, sort, linalg_qr, ...).

Every type is made by `_return_type` where its op is defined and lands here under its name; `<name>_out` is
the same type under PyTorch's name for the `out=` form's result."""
import collections

__all__ = []
_NO_OUT_FORM = {"histogramdd"}
all_return_types = []


def _repr(self):
    body = ",\n".join(f"{k}={v!r}" for k, v in zip(self._fields, self))
    return f"torch.return_types.{type(self).__name__}(\n{body})"


def _return_type(name, fields=("values", "indices")):
    """A named tuple that prints as torch.return_types.<name>(...), published in this module."""
    cls = collections.namedtuple(name, fields)
    cls.__module__ = "torch.return_types"  # NOTE: the name PyTorch pickles and prints these types under
    cls.__repr__ = _repr
    if not name.startswith("_"):
        globals()[name] = cls
        __all__.append(name)
        all_return_types.append(cls)
        if name not in _NO_OUT_FORM:
            globals()[f"{name}_out"] = cls  # NOTE: PyTorch has a twin class per op for out=; ember has one
            __all__.append(f"{name}_out")
    return cls
