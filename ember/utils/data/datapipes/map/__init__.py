"""torch.utils.data.datapipes.map: the map-style DataPipes."""
from .pipes import BatcherMapDataPipe as Batcher  # noqa: F401
from .pipes import ConcaterMapDataPipe as Concater  # noqa: F401
from .pipes import MapperMapDataPipe as Mapper  # noqa: F401
from .pipes import SequenceWrapperMapDataPipe as SequenceWrapper  # noqa: F401
from .pipes import ShufflerIterDataPipe as Shuffler  # noqa: F401
from .pipes import ZipperMapDataPipe as Zipper  # noqa: F401

__all__ = ["Batcher", "Concater", "Mapper", "SequenceWrapper", "Shuffler", "Zipper"]
