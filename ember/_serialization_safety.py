"""The weights-only allowlist of ember.load and its user extension (torch.serialization's safe globals).

`add_safe_globals` / `safe_globals` / `get_safe_globals` / `clear_safe_globals` keep one process-wide set
of extra callables a weights-only load may import, named `module.qualname` (or by an explicit string).
Archive checks: every record's declared size is bounded by the bytes that are really in the file before
anything is read, so a zip bomb or a lying header fails without allocating.
"""
import mmap as _mmap
import pickle
import pickletools
import sys
import zipfile

_marked_safe_globals_set = set()


def add_safe_globals(safe_globals):
    """Mark globals (callables, or (callable, "module.name") pairs) safe for weights_only loads."""
    global _marked_safe_globals_set
    _marked_safe_globals_set = _marked_safe_globals_set.union(set(safe_globals))


def _remove_safe_globals(safe_globals):
    global _marked_safe_globals_set
    _marked_safe_globals_set = _marked_safe_globals_set - set(safe_globals)


def get_safe_globals():
    """The globals added with add_safe_globals (a list)."""
    return list(_marked_safe_globals_set)


def clear_safe_globals():
    """Forget every global added with add_safe_globals."""
    global _marked_safe_globals_set
    _marked_safe_globals_set = set()


class safe_globals:
    """Context manager: the given globals are safe for weights_only loads inside the block."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, type, value, tb):
        _remove_safe_globals(self.safe_globals)


def user_allowed_globals():
    """{"module.name": object} for the globals the user marked safe."""
    rc = {}
    for f in _marked_safe_globals_set:
        if isinstance(f, tuple):
            if len(f) != 2:
                raise ValueError(f"Expected tuple of length 2 (global, str of callable full path), but got "
                                 f"tuple of length: {len(f)}")
            if type(f[1]) is not str:
                raise TypeError(f"Expected second item in tuple to be str of callable full path, but got: "
                                f"{type(f[1])}")
            f, name = f
            rc[name] = f
        else:
            rc[f"{f.__module__}.{f.__qualname__}"] = f
            if f.__module__.partition(".")[0] == "ember":  # NOTE: files name it as torch does (ember saves so too)
                rc[f"torch{f.__module__[len('ember'):]}.{f.__qualname__}"] = f
    return rc


_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING",
               "STRING"}


def globals_in_pickle(data):
    """Every "module.name" a pickle's GLOBAL / STACK_GLOBAL / INST ops name, found without running it."""
    found, recent, memo = set(), [None, None], {}
    try:
        for op, arg, _ in pickletools.genops(data):
            name = op.name
            if name in ("GLOBAL", "INST"):
                module, _, qual = arg.partition(" ")
                found.add(f"{module}.{qual}")
                recent.append(None)
            elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[arg] = recent[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = recent[-1]
            elif name in ("BINGET", "LONG_BINGET", "GET"):
                recent.append(memo.get(arg))
            elif name == "STACK_GLOBAL":
                if isinstance(recent[-2], str) and isinstance(recent[-1], str):
                    found.add(f"{recent[-2]}.{recent[-1]}")
                else:
                    found.add("<dynamic STACK_GLOBAL>")  # NOTE: names built at load time are never safe
                recent.append(None)
            else:
                recent.append(arg if name in _STRING_OPS else None)
            del recent[:-2]
    except ValueError as e:
        raise pickle.UnpicklingError(f"ember.load: malformed pickle in checkpoint: {e}") from None
    return {("builtins" + g[len("__builtin__"):]) if g.startswith("__builtin__.") else g for g in found}


# NOTE: deflate cannot expand more than ~1032:1; a record claiming more is a lie (a zip bomb's header).
_MAX_DEFLATE_RATIO = 1100


def check_record(info, archive_size):
    """Refuse a record whose declared sizes the file cannot hold, before reading it."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise RuntimeError(f"ember.load: record {info.filename} uses an unsupported compression method "
                           f"({info.compress_type})")
    if info.header_offset + info.compress_size > archive_size:
        raise RuntimeError(f"ember.load: record {info.filename} claims {info.compress_size} bytes past the end "
                           f"of a {archive_size}-byte checkpoint (truncated or corrupt file)")
    limit = info.compress_size if info.compress_type == zipfile.ZIP_STORED else \
        _MAX_DEFLATE_RATIO * info.compress_size + 1024
    if info.file_size > limit:
        raise RuntimeError(f"ember.load: record {info.filename} declares {info.file_size} bytes from "
                           f"{info.compress_size} stored bytes (corrupt checkpoint or zip bomb)")


class _MmapConfig:
    flags = getattr(_mmap, "MAP_PRIVATE", 2)


def get_default_mmap_options():
    """The mmap flags load(mmap=True) uses: mmap.MAP_PRIVATE (copy-on-write, the default) or MAP_SHARED."""
    return _MmapConfig.flags


class set_default_mmap_options:
    """Set the mmap flags for load(mmap=True); usable as a function or as a context manager that restores them."""

    def __init__(self, flags):
        if sys.platform == "win32":
            raise RuntimeError("Changing the default mmap options is currently not supported for Windows")
        if flags != _mmap.MAP_PRIVATE and flags != _mmap.MAP_SHARED:
            raise ValueError(f"Invalid argument in function set_default_mmap_options, expected mmap.MAP_PRIVATE "
                             f"or mmap.MAP_SHARED, but got {flags}")
        self.prev = _MmapConfig.flags
        _MmapConfig.flags = flags

    def __enter__(self):
        pass

    def __exit__(self, exc_type, exc_value, traceback):
        _MmapConfig.flags = self.prev
