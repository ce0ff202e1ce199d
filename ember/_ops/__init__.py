"""ember's primitive ops, grouped by family: pointwise/, reduction/, shape/, indexing/, linalg/, nn/, spectral/.
Importing this package registers every op (see _registry): each module of each family is imported,
families in FAMILIES' order and modules by name within one, so a new op file needs no edit here. The
`_*.py` modules here are the infrastructure the families share."""
import importlib as _importlib
import pkgutil as _pkgutil

FAMILIES = ("pointwise", "reduction", "shape", "indexing", "linalg", "nn", "spectral")

for _family in FAMILIES:
    _package = _importlib.import_module(f"{__name__}.{_family}")
    for _mod in sorted(m.name for m in _pkgutil.iter_modules(_package.__path__)):
        if not _mod.startswith("_"):
            _importlib.import_module(f"{_package.__name__}.{_mod}")

from ._registry import FUNCTIONS, SPECS  # noqa: E402
from ..autograd.function import Primitive as _Primitive  # noqa: E402
from .pointwise import set_batch_rules as _set_batch_rules  # noqa: E402
_set_batch_rules(_Primitive)

from ._guards import guard_operators as _guard_operators  # noqa: E402
_guard_operators()
