"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict against PyTorch."""
from collections import OrderedDict

import pytest
import torch

import ember
from _nn_helpers import raises_like


def _same_repr(build):
    assert repr(build(ember)) == repr(build(torch))


def test_sequential_indexing_slicing_and_editing():
    def build(lib):
        nn = lib.nn
        s = nn.Sequential(nn.Linear(2, 2), nn.Flatten())
        s.append(nn.Identity())
        s.insert(0, nn.Identity())
        return s
    _same_repr(build)
    _same_repr(lambda lib: build(lib)[1:3])
    _same_repr(lambda lib: build(lib)[-1])
    t, e = build(torch), build(ember)
    assert len(e) == len(t)
    del t[0]
    del e[0]
    assert repr(e) == repr(t)
    raises_like(lambda: t[10], lambda: e[10])
    raises_like(lambda: torch.nn.Sequential(3), lambda: ember.nn.Sequential(3))
    _same_repr(lambda lib: lib.nn.Sequential())
    _same_repr(lambda lib: lib.nn.Sequential(OrderedDict([("fc", lib.nn.Linear(1, 1))])))
    _same_repr(lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 2)) + lib.nn.Sequential(lib.nn.Identity()))
    e2 = ember.nn.Sequential(ember.nn.Identity(), ember.nn.Identity(), ember.nn.Linear(1, 1))
    del e2[0:2]
    assert list(e2._modules) == ["0"]
    assert e2.pop(0).__class__.__name__ == "Linear" and len(e2) == 0


def test_sequential_runs_in_order():
    s = ember.nn.Sequential(ember.nn.Flatten(), ember.nn.Linear(6, 2))
    assert tuple(s(ember.randn(4, 2, 3)).shape) == (4, 2)
    assert [type(m).__name__ for m in s] == ["Flatten", "Linear"]


def test_modulelist_and_moduledict():
    def ml(lib):
        nn = lib.nn
        m = nn.ModuleList([nn.Identity(), nn.Identity(), nn.Identity(), nn.Linear(1, 1), nn.Linear(1, 1)])
        m.append(nn.Flatten())
        m.insert(0, nn.Linear(2, 1))
        return m
    _same_repr(ml)
    _same_repr(lambda lib: ml(lib)[1:3])
    _same_repr(lambda lib: lib.nn.ModuleList())
    t, e = ml(torch), ml(ember)
    assert len(e) == len(t)
    raises_like(lambda: t[10], lambda: e[10])
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]

    def md(lib):
        nn = lib.nn
        d = nn.ModuleDict({"b": nn.Identity(), "a": nn.Linear(1, 2)})
        d["c"] = nn.Flatten()
        d.update([("d", nn.Identity())])
        return d
    _same_repr(md)
    t, e = md(torch), md(ember)
    assert list(e.keys()) == list(t.keys()) and "a" in e and len(e) == len(t)
    assert type(e.pop("a")).__name__ == "Linear" and list(e) == ["b", "c", "d"]


@pytest.mark.host_only(reason="repr names the device (GPU 0)")
def test_parameterlist_and_parameterdict():
    def pl(lib):
        return lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(2, 2)), lib.zeros(3, dtype=lib.float64)])

    def pd(lib):
        return lib.nn.ParameterDict({"w": lib.nn.Parameter(lib.zeros(2, 3)), "b": lib.zeros(2, dtype=lib.float64)})
    for build in (pl, pd):
        _same_repr(build)
        t, e = build(torch), build(ember)
        assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
        assert all(isinstance(p, ember.nn.Parameter) for p in e.parameters())
    _same_repr(lambda lib: lib.nn.ParameterList())
    _same_repr(lambda lib: lib.nn.ParameterDict({"w": lib.nn.Parameter(lib.zeros(2))}))
    e = pd(ember)
    e["c"] = ember.zeros(1)
    assert isinstance(e["c"], ember.nn.Parameter) and list(e.keys()) == ["b", "w", "c"]
    with pytest.raises(TypeError):
        ember.nn.ParameterList(ember.zeros(2))
