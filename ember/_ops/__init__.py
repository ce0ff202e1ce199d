"""ember's primitive ops. Importing this package registers every op (see _registry)."""
from . import _registry, arith, copy, index, linalg, reduce, unary, views  # noqa: F401
from ._registry import FUNCTIONS, SPECS
