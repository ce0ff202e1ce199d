"""Helpers shared by the DataPipes: function checks, length checks and StreamWrapper."""
import functools
import warnings

__all__ = ["StreamWrapper"]


def _check_unpickable_fn(fn):
    """Refuse a non-callable; warn (as torch does) for a lambda, which DataLoader workers cannot pickle."""
    if not callable(fn):
        raise TypeError(f"A callable function is expected, but {type(fn)} is provided.")
    while isinstance(fn, functools.partial):
        fn = fn.func
    if getattr(fn, "__name__", None) == "<lambda>":
        warnings.warn("Lambda function is not supported by pickle, please use regular python function or "
                      "functools.partial instead.", stacklevel=3)


def _sized_len(pipe, source):
    """len(source), or torch's TypeError when the source has no length."""
    # NOTE: a source with __len__ answers for itself (its own error propagates), as torch's Sized check
    if hasattr(type(source), "__len__"):
        return len(source)
    raise TypeError(f"{type(pipe).__name__} instance doesn't have valid length")


class StreamWrapper:
    """A file-like object opened by a DataPipe; attributes go to the wrapped stream; closes when collected."""

    session_streams = {}

    def __init__(self, file_obj, parent_stream=None, name=None):
        self.file_obj = file_obj
        self.child_counter = 0
        self.parent_stream = parent_stream
        self.close_on_last_child = False
        self.name = name
        self.closed = False
        if parent_stream is not None:
            parent_stream.child_counter += 1
        StreamWrapper.session_streams[self] = 1

    def __getattr__(self, name):
        return getattr(self.__dict__["file_obj"], name)

    def close(self, *args, **kwargs):
        """Close the wrapped stream (and its parent once its last child is closed)."""
        if self.closed:
            return
        StreamWrapper.session_streams.pop(self, None)
        if self.parent_stream is not None:
            self.parent_stream.child_counter -= 1
            if not self.parent_stream.child_counter and self.parent_stream.close_on_last_child:
                self.parent_stream.close()
        try:
            self.file_obj.close(*args, **kwargs)
        except AttributeError:
            pass
        self.closed = True

    def autoclose(self):
        """Close this stream when its last child stream closes (now, if it has none)."""
        if self.child_counter == 0:
            self.close()
        self.close_on_last_child = True

    def __iter__(self):
        yield from self.file_obj

    def __next__(self):
        return next(self.file_obj)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if not self.__dict__.get("closed", True):
            self.close()

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __repr__(self):
        return f"StreamWrapper<{self.name!r},{self.file_obj!r}>" if self.name else f"StreamWrapper<{self.file_obj!r}>"

    def __getstate__(self):
        return self.file_obj

    def __setstate__(self, obj):
        self.__init__(obj)
