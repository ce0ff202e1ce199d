"""Blocks of shared CPU memory that tensors' arrays live in (what share_memory_ moves a storage into).

A block is a file of the size of the storage in a tmpfs, mapped with mmap(MAP_SHARED): every process that
maps it (through fork, or by receiving it through multiprocessing's pickler) reads and writes the same memory.
Two ways to make one, as PyTorch's two sharing strategies on Linux:

- "file_descriptor" (the default): an anonymous memory file (memfd_create; or a file in /dev/shm unlinked at
  once) that has no name at all; another process receives a duplicate of its descriptor (multiprocessing's
  DupFd). Nothing can leak in /dev/shm; the memory goes when the last process unmaps it.
- "file_system": a named file /dev/shm/ember_<pid>_<n>; another process opens it by name. The process that
  made it unlinks it when it drops its last reference to the block, or at exit (processes that mapped it keep
  their mapping). NOTE: PyTorch runs a daemon (torch_shm_manager) that unlinks the file when the last user
  dies; ember has none, so a creator killed by a signal leaves its files behind, and a block must be received
  before its creator drops it.
"""
import itertools
import mmap
import os
import secrets
import weakref

_SHM_DIR = "/dev/shm"
_serial = itertools.count()

# NOTE: key -> weak reference to the block's mmap in this process. A process that receives a block it already
# maps (its own, one sent twice, or a view of a storage it received before) reuses the mapping, so tensors that
# share a storage in the sender share one in the receiver too.
_mapped = {}
# NOTE: id(mmap) -> (fd, size, key, name) of the blocks alive in this process: never the mmap itself, which
# lives as long as the arrays over it (NumPy arrays keep their buffer's exporter alive through `base`).
_blocks = {}
# NOTE: key -> weak reference to the block's root array (Block.array).
_roots = {}


class Block:
    """One shared-memory block mapped in this process: its mmap, descriptor, size, key and (file_system) name."""

    __slots__ = ("mm", "fd", "size", "key", "name", "__weakref__")

    def __init__(self, mm, fd, size, key, name):
        self.mm, self.fd, self.size, self.key, self.name = mm, fd, size, key, name

    def array(self, xp):
        """The whole block as a 1-D uint8 array of the array module `xp` (NumPy) over the mapping: one array per
        block in a process, the storage every tensor over the block views (so they share one storage)."""
        ref = _roots.get(self.key)
        root = ref() if ref is not None else None
        if root is None:
            root = xp.frombuffer(self.mm, dtype=xp.uint8, count=self.size)
            _roots[self.key] = weakref.ref(root)
        return root


def _new_key():
    return f"ember_{os.getpid()}_{next(_serial)}_{secrets.token_hex(4)}"


def _anonymous_fd(key):
    if hasattr(os, "memfd_create"):
        return os.memfd_create(key, os.MFD_CLOEXEC)
    path = os.path.join(_SHM_DIR, key)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.unlink(path)  # NOTE: nameless from here on; the descriptor keeps the memory
    return fd


def create(nbytes, strategy):
    """A new zeroed block of `nbytes` bytes (at least one: mmap maps no empty file) made by `strategy`."""
    size = max(int(nbytes), 1)
    key = _new_key()
    if strategy == "file_system":
        name = key
        fd = os.open(os.path.join(_SHM_DIR, name), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    else:
        name = None
        fd = _anonymous_fd(key)
    try:
        os.ftruncate(fd, size)
    except OSError:
        _release(fd, name, os.getpid())
        raise
    return _register(fd, size, key, name, creator=os.getpid())


def _register(fd, size, key, name, creator):
    mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    _mapped[key] = weakref.ref(mm)
    _blocks[id(mm)] = (fd, size, key, name)
    # NOTE: the finalizer holds no reference to the block or the mmap; it runs when the last array over the
    # mapping is collected (NumPy arrays keep their buffer's exporter, the mmap, alive), or at exit.
    weakref.finalize(mm, _dropped, id(mm), key, fd, name, creator)
    return Block(mm, fd, size, key, name)


def _dropped(mm_id, key, fd, name, creator):
    _blocks.pop(mm_id, None)
    for table in (_mapped, _roots):
        ref = table.get(key)
        if ref is not None and ref() is None:
            del table[key]
    _release(fd, name, creator)


def _release(fd, name, creator):
    try:
        os.close(fd)
    except OSError:
        pass
    # NOTE: only the process that made a named block unlinks it: a forked child that drops its copy must not
    # take the file from the processes still using it.
    if name is not None and os.getpid() == creator:
        try:
            os.unlink(os.path.join(_SHM_DIR, name))
        except FileNotFoundError:
            pass


def block_of(mm):
    """The Block whose mapping is `mm` (or a memoryview of it: NumPy's frombuffer keeps one as `base`), or None
    when `mm` is not one of ours."""
    if isinstance(mm, memoryview):
        mm = mm.obj
    info = _blocks.get(id(mm)) if isinstance(mm, mmap.mmap) else None
    return Block(mm, *info) if info is not None else None


def cached(key):
    """The block `key` if this process maps it already, else None."""
    ref = _mapped.get(key)
    mm = ref() if ref is not None else None
    return block_of(mm) if mm is not None else None


def open_fd(fd, size, key):
    """Map a block received as a descriptor (this process now owns `fd`)."""
    block = cached(key)
    if block is not None:
        os.close(fd)
        return block
    return _register(fd, size, key, None, creator=None)


def open_name(name, size, key):
    """Map a file_system block by its name in /dev/shm."""
    block = cached(key)
    if block is not None:
        return block
    fd = os.open(os.path.join(_SHM_DIR, name), os.O_RDWR)
    return _register(fd, size, key, name, creator=None)
