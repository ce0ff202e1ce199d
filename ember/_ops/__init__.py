"""ember's primitive ops. Importing this package registers every op (see _registry): each module
in this folder is imported, so a new op file needs no edit here."""
import importlib as _importlib
import pkgutil as _pkgutil

for _mod in sorted(m.name for m in _pkgutil.iter_modules(__path__)):
    if not _mod.startswith("_"):
        _importlib.import_module(f"{__name__}.{_mod}")

from ._registry import FUNCTIONS, SPECS  # noqa: E402

from ._guards import guard_operators as _guard_operators  # noqa: E402
_guard_operators()
