"""torch.utils.data.datapipes.datapipe: the IterDataPipe and MapDataPipe bases, DataChunk, DFIterDataPipe."""
import functools
import inspect

from ..dataset import Dataset, IterableDataset, T_co

__all__ = ["DataChunk", "DFIterDataPipe", "IterDataPipe", "MapDataPipe"]

_FEEDBACK = ("\nFor feedback regarding this single iterator per IterDataPipe constraint, feel free "
             "to comment on this issue: https://github.com/pytorch/data/issues/45.")


def _describe(dp):
    """`Name(arg=value, ...)` of a datapipe's constructor arguments, as torch's invalid-iterator message shows."""
    try:
        names = [p for p in inspect.signature(type(dp).__init__).parameters if p != "self"]
    except (TypeError, ValueError):
        names = []
    parts = []
    for name in sorted(names):
        if name in vars(dp):
            value = vars(dp)[name]
            parts.append(f"{name}={value.__name__ if inspect.isfunction(value) else repr(value)}")
    return f"{type(dp).__name__}({', '.join(parts)})"


def _invalid_message(dp):
    return ("This iterator has been invalidated because another iterator has been created "
            f"from the same IterDataPipe: {_describe(dp)}\n"
            "This may be caused by multiple references to the same IterDataPipe. We recommend "
            "using `.fork()` if that is necessary.")


def _new_iterator_id(dp):
    """Mark the iterator being created as the valid one (the previous one is invalidated) and reset dp."""
    if getattr(dp, "_is_child_datapipe", False):
        dp._set_main_datapipe_valid_iterator_id()
        return dp._valid_iterator_id
    dp._valid_iterator_id = 0 if dp._valid_iterator_id is None else dp._valid_iterator_id + 1
    dp._number_of_samples_yielded = 0
    dp.reset()
    return dp._valid_iterator_id


def _check_valid(dp, iterator_id):
    if getattr(dp, "_is_child_datapipe", False):
        if not dp._check_valid_iterator_id(iterator_id):
            raise RuntimeError("This iterator has been invalidated, because a new iterator has been created "
                               f"from one of the ChildDataPipes of {_describe(dp.main_datapipe)}." + _FEEDBACK)
    elif dp._valid_iterator_id != iterator_id:
        raise RuntimeError(_invalid_message(dp) + _FEEDBACK)


class _CheckedIterator:
    """An iterator returned by a non-generator __iter__: every next() checks it is still the valid one."""

    def __init__(self, iterator, dp, iterator_id, self_is_iterator):
        self.iterator, self.dp, self.iterator_id = iterator, dp, iterator_id
        self._self_is_iterator = self_is_iterator

    def __iter__(self):
        return self

    def __next__(self):
        _check_valid(self.dp, self.iterator_id)
        value = next(self.iterator)
        if not self._self_is_iterator:
            self.dp._number_of_samples_yielded += 1
        return value

    def __getattr__(self, name):
        return getattr(self.iterator, name)


def _hook_iter(func):
    """Wrap a subclass's __iter__ so that each new iterator invalidates the previous one (torch's rule)."""
    if inspect.isgeneratorfunction(func):
        @functools.wraps(func)
        def generator(self, *args, **kwargs):
            gen = func(self, *args, **kwargs)
            # NOTE: as in torch, the id is taken (and reset() runs) at the first next(), not at iter().
            iterator_id = _new_iterator_id(self)
            try:
                while True:
                    value = next(gen)
                    self._number_of_samples_yielded += 1
                    yield value
                    _check_valid(self, iterator_id)
            except StopIteration:
                return
            finally:
                gen.close()
        generator._ember_hooked = True
        return generator

    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        result = func(self, *args, **kwargs)
        # NOTE: also when __iter__ returns self (a pipe with __next__): each iter() resets it, and the
        # iterator returned before is invalidated, as torch's IteratorDecorator does.
        iterator_id = _new_iterator_id(self)
        return _CheckedIterator(result, self, iterator_id, result is self)
    wrapper._ember_hooked = True
    return wrapper


class _FunctionalMixin:
    """What IterDataPipe and MapDataPipe share: the functional form (`dp.name(...)` builds the class registered
    under `name` over dp), pickling with its hooks, and repr/str with theirs. The function table and the hooks
    live on the base (IterDataPipe or MapDataPipe), one set for all of its subclasses, as in PyTorch."""

    @classmethod
    def _base(cls):
        """IterDataPipe or MapDataPipe: the class in cls's MRO that derives from this mixin directly."""
        return next(c for c in cls.__mro__ if _FunctionalMixin in c.__bases__)

    def __getattr__(self, name):
        functions = type(self)._base().functions
        if name in functions:
            f = functions[name]
            bound = functools.partial(f, self)
            functools.update_wrapper(wrapper=bound, wrapped=f, assigned=("__doc__",))
            return bound
        raise AttributeError(f"'{self.__class__.__name__}' object has no attribute '{name}")

    @classmethod
    def register_function(cls, function_name, function):
        """Register a plain function under `function_name`."""
        cls._base().functions[function_name] = function

    @classmethod
    def register_datapipe_as_function(cls, function_name, cls_to_register, enable_df_api_tracing=False):
        """Register a DataPipe class as the functional form `function_name`."""
        table = cls._base().functions
        if function_name in table:
            raise Exception(f"Unable to add DataPipe function name {function_name} as it is already taken")

        def class_function(source_dp, *args, **kwargs):
            return cls_to_register(source_dp, *args, **kwargs)
        class_function.__doc__ = getattr(cls_to_register, "__doc__", None)
        table[function_name] = class_function

    def __getstate__(self):
        state = dict(self.__dict__)
        hook = type(self)._base().getstate_hook
        return hook(state) if hook is not None else state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __reduce_ex__(self, *args, **kwargs):
        hook = type(self)._base().reduce_ex_hook
        if hook is not None:
            try:
                return hook(self)
            except NotImplementedError:
                pass
        return super().__reduce_ex__(*args, **kwargs)

    @classmethod
    def set_getstate_hook(cls, hook_fn):
        """Install (or, with None, remove) a hook applied to every datapipe's pickled state."""
        base = cls._base()
        if base.getstate_hook is not None and hook_fn is not None:
            raise RuntimeError("Attempt to override existing getstate_hook")
        base.getstate_hook = hook_fn

    @classmethod
    def set_reduce_ex_hook(cls, hook_fn):
        """Install (or, with None, remove) a hook that may replace __reduce_ex__."""
        base = cls._base()
        if base.reduce_ex_hook is not None and hook_fn is not None:
            raise RuntimeError("Attempt to override existing reduce_ex_hook")
        base.reduce_ex_hook = hook_fn

    def __repr__(self):
        if self.repr_hook is not None:
            return self.repr_hook(self)
        return str(self.__class__.__qualname__)

    def __str__(self):
        if self.str_hook is not None:
            return self.str_hook(self)
        return str(self.__class__.__qualname__)

    def __dir__(self):
        return list(super().__dir__()) + list(type(self)._base().functions.keys())


class IterDataPipe(_FunctionalMixin, IterableDataset[T_co]):
    """Iterable-style DataPipe: one valid iterator at a time; functional forms via IterDataPipe.functions."""

    functions = {}
    reduce_ex_hook = None
    getstate_hook = None
    str_hook = None
    repr_hook = None
    _valid_iterator_id = None
    _number_of_samples_yielded = 0
    _snapshot_state = None
    _fast_forward_iterator = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        it = cls.__dict__.get("__iter__")
        if it is not None and not getattr(it, "_ember_hooked", False):
            cls.__iter__ = _hook_iter(it)

    def reset(self):
        """Called when a new iterator is created: drop any state of the previous iteration."""


class MapDataPipe(_FunctionalMixin, Dataset[T_co]):
    """Map-style DataPipe (__getitem__/__len__); functional forms via MapDataPipe.functions."""

    functions = {}
    reduce_ex_hook = None
    getstate_hook = None
    str_hook = None
    repr_hook = None


class DFIterDataPipe(IterDataPipe):
    """IterDataPipe of dataframes. Differs from PyTorch: ember has no dataframe API (its ops raise)."""

    def _is_dfpipe(self):
        return True

    def __getattr__(self, name):
        if name.startswith("_dataframes") or name in ("trace_as_dataframe", "_to_dataframes_pipe"):
            raise NotImplementedError(f"DFIterDataPipe.{name}: ember has no dataframe (pandas) DataPipe API")
        return super().__getattr__(name)


class DataChunk(list):
    """A list of samples (a batch) that prints its items with an indent."""

    def __init__(self, items):
        items = list(items)
        super().__init__(items)
        self.items = items

    def as_str(self, indent=""):
        return indent + "[" + ", ".join(str(i) for i in iter(self)) + "]"

    def __iter__(self):
        yield from super().__iter__()

    def raw_iterator(self):
        yield from self.items

