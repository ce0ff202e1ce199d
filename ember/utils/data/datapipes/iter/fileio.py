"""torch.utils.data.datapipes.iter (filelister, fileopener, streamreader):
File DataPipes: FileLister (list_files), FileOpener (open_files), StreamReader (read_from_stream)."""
import fnmatch
import os

from .._common import StreamWrapper
from .._decorator import functional_datapipe
from ..datapipe import IterDataPipe
from .utils import IterableWrapperIterDataPipe

__all__ = ["FileListerIterDataPipe", "FileOpenerIterDataPipe", "StreamReaderIterDataPipe"]


def _matches(name, masks):
    if not masks:
        return True
    masks = [masks] if isinstance(masks, str) else masks
    return any(fnmatch.fnmatch(name, m) for m in masks)


def _list_paths(root, masks, recursive, abspath, non_deterministic):
    if isinstance(masks, str):
        masks = [masks] if masks else []
    if os.path.isfile(root):
        path = os.path.abspath(root) if abspath else root
        if _matches(os.path.basename(path), masks):
            yield path
        return
    for dirpath, dirnames, filenames in os.walk(root):
        if abspath:
            dirpath = os.path.abspath(dirpath)
        if not non_deterministic:
            filenames = sorted(filenames)
        for f in filenames:
            if _matches(f, masks):
                yield os.path.join(dirpath, f)
        if not recursive:
            break
        if not non_deterministic:
            dirnames.sort()  # NOTE: in place, so os.walk descends in sorted order


@functional_datapipe("list_files")
class FileListerIterDataPipe(IterDataPipe):
    """Paths of the files under root (a path, a list of them, or a DataPipe of them) that match masks,
    sorted unless non_deterministic (functional: list_files)."""

    def __init__(self, root=".", masks="", *, recursive=False, abspath=False, non_deterministic=False,
                 length=-1):
        super().__init__()
        if isinstance(root, str):
            root = [root]
        if not isinstance(root, IterDataPipe):
            root = IterableWrapperIterDataPipe(root)
        self.datapipe = root
        self.masks = masks
        self.recursive = recursive
        self.abspath = abspath
        self.non_deterministic = non_deterministic
        self.length = length

    def __iter__(self):
        for path in self.datapipe:
            yield from _list_paths(path, self.masks, self.recursive, self.abspath, self.non_deterministic)

    def __len__(self):
        if self.length == -1:
            raise TypeError(f"{type(self).__name__} instance doesn't have valid length")
        return self.length


@functional_datapipe("open_files")
class FileOpenerIterDataPipe(IterDataPipe):
    """(path, stream) for each path, opened with mode ('r', 'rb', 'b', 't', 'rt') (functional: open_files)."""

    def __init__(self, datapipe, mode="r", encoding=None, length=-1):
        super().__init__()
        self.datapipe = datapipe
        self.mode = mode
        self.encoding = encoding
        if self.mode not in ("b", "t", "rb", "rt", "r"):
            raise ValueError(f"Invalid mode {mode}")
        if "b" in mode and encoding is not None:
            raise ValueError("binary mode doesn't take an encoding argument")
        self.length = length

    def __iter__(self):
        mode = self.mode if self.mode.startswith("r") else "r" + self.mode
        for path in self.datapipe:
            yield path, StreamWrapper(open(path, mode, encoding=self.encoding))

    def __len__(self):
        if self.length == -1:
            raise TypeError(f"{type(self).__name__} instance doesn't have valid length")
        return self.length


@functional_datapipe("read_from_stream")
class StreamReaderIterDataPipe(IterDataPipe):
    """(path, chunk) pieces read from each (path, stream), chunk characters/bytes at a time (all at once if
    None); each stream is closed once read (functional: read_from_stream)."""

    def __init__(self, datapipe, chunk=None):
        self.datapipe = datapipe
        self.chunk = chunk

    def __iter__(self):
        for path, stream in self.datapipe:
            while True:
                data = stream.read() if self.chunk is None else stream.read(self.chunk)
                if not data:
                    stream.close()
                    break
                yield path, data
