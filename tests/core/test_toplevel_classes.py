"""The torch namespace's remaining classes and modules: legacy typed storages, torch.storage, torch.types,
Stream/Event, the symbolic number stand-ins, Tag, qscheme, DisableTorchFunction and the error types."""
import pickle
import warnings

import pytest
import torch

import ember

STORAGES = ["BoolStorage", "ByteStorage", "CharStorage", "ShortStorage", "IntStorage", "LongStorage", "HalfStorage",
            "BFloat16Storage", "FloatStorage", "DoubleStorage", "ComplexFloatStorage", "ComplexDoubleStorage"]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("name", STORAGES)
def test_legacy_storages_construct_and_check_as_torch(name):
    mine, theirs = getattr(ember, name), getattr(torch, name)
    assert mine.dtype == getattr(ember, str(theirs.dtype).split(".")[1])
    assert mine.__name__ == theirs.__name__ and mine.__module__ == "torch"
    s, t = mine(3), theirs(3)
    assert type(s) is ember.storage.TypedStorage and type(t) is torch.storage.TypedStorage
    assert s.size() == t.size() == 3 and s.dtype == mine.dtype
    assert isinstance(s, mine) and isinstance(s, ember.TypedStorage)
    values = [1, 0, 1] if name == "BoolStorage" else [1, 2, 3]
    assert mine(values).tolist() == theirs(values).tolist()
    x = ember.zeros(2, dtype=mine.dtype, device="cpu")
    assert x.storage_type() is mine and isinstance(x.storage(), mine)
    other = "FloatStorage" if name != "FloatStorage" else "DoubleStorage"
    assert not isinstance(s, getattr(ember, other)) and not isinstance(t, getattr(torch, other))


def test_storage_module_and_alias():
    assert ember.Storage is ember.FloatStorage and torch.Storage is torch.FloatStorage
    assert ember.storage.TypedStorage is ember.TypedStorage and ember.storage.UntypedStorage is ember.UntypedStorage
    assert len(ember.FloatStorage()) == len(torch.FloatStorage()) == 0


def test_types_aliases():
    t = ember.types
    assert isinstance(3, t._Number) and isinstance(ember.ones(1), t.Tensor)
    assert t.Number == (int | float | bool) or set(t.Number.__args__) == {int, float, bool}
    assert set(t.py_sym_types) == {ember.SymInt, ember.SymFloat, ember.SymBool}
    assert isinstance(ember.ones(1).untyped_storage(), t.Storage.__args__)
    for name in ("Device", "FileLike", "IntLikeType", "FloatLikeType", "BoolLikeType", "PySymType", "_size"):
        assert hasattr(t, name) and hasattr(torch.types, name)


def test_stream_and_event_on_the_cpu():
    for mod in (ember, torch):
        s = mod.Stream("cpu")
        e = mod.Event("cpu")
        assert s.device == mod.device("cpu") and e.device == mod.device("cpu")
        assert s.device_type == 0 and s.device_index == -1 and s.query() and e.query()
        s.synchronize()
        assert repr(s).startswith("torch.Stream device_type=cpu, device_index=-1")
    assert repr(ember.Stream("cpu")) == repr(torch.Stream("cpu"))
    assert repr(ember.Event("cpu")) == repr(torch.Event("cpu")).split(", event_flag")[0]


def test_errors_and_stand_ins():
    assert issubclass(ember.AcceleratorError, RuntimeError) and issubclass(ember.FatalError, Exception)
    assert not issubclass(ember.FatalError, RuntimeError)
    assert ember.Future is ember.futures.Future
    for name in ("SymInt", "SymFloat", "SymBool"):
        assert not isinstance(3, getattr(ember, name))
    assert [t.name for t in ember.Tag] == sorted(n for n in dir(torch.Tag) if not n.startswith("_")
                                                 and n not in ("name", "value"))
    with ember.DisableTorchFunctionSubclass(), ember.DisableTorchFunction():
        assert (ember.ones(1) + 1).tolist() == [2.0]


def test_qschemes():
    names = [n for n in dir(torch) if isinstance(getattr(torch, n), torch.qscheme)]
    for name in names:
        q = getattr(ember, name)
        assert isinstance(q, ember.qscheme) and repr(q) == repr(getattr(torch, name))
        assert pickle.loads(pickle.dumps(q)) is q
