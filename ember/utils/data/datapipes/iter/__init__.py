"""torch.utils.data.datapipes.iter: the iterable-style DataPipes (their functional names in brackets)."""
from .callable import CollatorIterDataPipe as Collator  # noqa: F401
from .callable import FilterIterDataPipe as Filter  # noqa: F401
from .callable import MapperIterDataPipe as Mapper  # noqa: F401
from .combinatorics import SamplerIterDataPipe as Sampler  # noqa: F401
from .combinatorics import ShufflerIterDataPipe as Shuffler  # noqa: F401
from .combining import ConcaterIterDataPipe as Concater  # noqa: F401
from .combining import DemultiplexerIterDataPipe as Demultiplexer  # noqa: F401
from .combining import ForkerIterDataPipe as Forker  # noqa: F401
from .combining import MultiplexerIterDataPipe as Multiplexer  # noqa: F401
from .combining import ZipperIterDataPipe as Zipper  # noqa: F401
from .fileio import FileListerIterDataPipe as FileLister  # noqa: F401
from .fileio import FileOpenerIterDataPipe as FileOpener  # noqa: F401
from .fileio import StreamReaderIterDataPipe as StreamReader  # noqa: F401
from .grouping import BatcherIterDataPipe as Batcher  # noqa: F401
from .grouping import GrouperIterDataPipe as Grouper  # noqa: F401
from .grouping import UnBatcherIterDataPipe as UnBatcher  # noqa: F401
from .sharding import ShardingFilterIterDataPipe as ShardingFilter  # noqa: F401
from .utils import IterableWrapperIterDataPipe as IterableWrapper  # noqa: F401

__all__ = ["Batcher", "Collator", "Concater", "Demultiplexer", "FileLister", "FileOpener", "Filter", "Forker",
           "Grouper", "IterableWrapper", "Mapper", "Multiplexer", "Sampler", "ShardingFilter", "Shuffler",
           "StreamReader", "UnBatcher", "Zipper"]
