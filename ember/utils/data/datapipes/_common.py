"""Helpers shared by the DataPipes: function checks, length checks and StreamWrapper."""
import functools
import inspect
import random
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


def _check_input_col(fn, input_col):
    """Refuse (ValueError, torch's messages) a fn whose signature cannot take the input_col columns."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except ValueError:
        return  # NOTE: a builtin without a signature: nothing to check, as torch
    wanted = len(input_col) if isinstance(input_col, (list, tuple)) else 1
    P = inspect.Parameter
    positional = [p for p in params if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    star_args = any(p.kind is P.VAR_POSITIONAL for p in params)
    required_kw = [p for p in params if p.kind is P.KEYWORD_ONLY and p.default is p.empty]
    inner = fn.func if isinstance(fn, functools.partial) else fn
    name = getattr(inner, "__name__", repr(inner))
    if required_kw:
        raise ValueError(f"The function {name} takes {len(required_kw)} non-default keyword-only parameters, "
                         "which is not allowed.")
    if len(params) < wanted:
        if not star_args:
            raise ValueError(f"The function {name} takes {len(params)} parameters, but {wanted} are required.")
        return
    too_many = len(positional) > wanted and any(p.default is p.empty for p in positional[wanted:])
    too_few = len(positional) < wanted and not star_args
    if too_many or too_few:
        raise ValueError(f"The function {name} takes {len(positional)} positional parameters, "
                         f"but {wanted} are required.")


class _Shuffling:
    """What the iterable and the map Shuffler share: set_shuffle, set_seed, the per-iteration seeding of their
    random.Random, and pickling it by its state."""

    def _init_shuffling(self):
        self._enabled = True
        self._seed = None
        self._rng = random.Random()

    def set_shuffle(self, shuffle=True):
        """Turn shuffling on or off; returns self."""
        self._enabled = shuffle
        return self

    def set_seed(self, seed):
        """Seed the next iteration; returns self."""
        self._seed = seed
        return self

    def _seed_rng(self, draw=True):
        """Seed this iteration's generator with set_seed's seed (used once), else (where `draw`) with one drawn
        from ember's global RNG, as torch's Shufflers do."""
        import ember
        if draw and self._seed is None:
            self._seed = int(ember.empty((), dtype=ember.int64).random_().item())
        self._rng.seed(self._seed)
        self._seed = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_rng"] = self._rng.getstate()
        return state

    def __setstate__(self, state):
        rng_state = state.pop("_rng")
        self.__dict__.update(state)
        self._rng = random.Random()
        self._rng.setstate(rng_state)


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
