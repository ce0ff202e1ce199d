"""torch.utils.data.datapipes: composable iterable- and map-style data pipelines."""
from . import iter, map  # noqa: F401  (importing them registers the functional forms)
from ._common import StreamWrapper  # noqa: F401
from ._decorator import (argument_validation, functional_datapipe, guaranteed_datapipes_determinism,  # noqa: F401
                         non_deterministic, runtime_validation, runtime_validation_disabled)
from .datapipe import DataChunk, DFIterDataPipe, IterDataPipe, MapDataPipe  # noqa: F401
