"""torch.functional (ember's functions under PyTorch's module) and torch.overrides' helpers."""
import pytest
import torch

import ember


def test_functional_names_are_embers_functions():
    assert set(ember.functional.__all__) == set(torch.functional.__all__)
    for name in torch.functional.__all__:
        assert getattr(ember.functional, name) is getattr(ember, name)
    from ember.functional import einsum, split
    x = ember.arange(6.).reshape(2, 3)
    assert einsum("ij->j", x).tolist() == torch.einsum("ij->j", torch.arange(6.).reshape(2, 3)).tolist()
    assert [t.tolist() for t in split(x, 1)] == [[[0., 1., 2.]], [[3., 4., 5.]]]
    with pytest.raises(AttributeError):
        ember.functional.not_a_function


def test_resolve_name_and_listings():
    o = ember.overrides
    assert o.resolve_name(ember.add) == torch.overrides.resolve_name(torch.add) == "torch.add"
    assert o.resolve_name(ember.Tensor.add) == torch.overrides.resolve_name(torch.Tensor.add)
    assert o.resolve_name(ember.nn.functional.relu) == "torch.nn.functional.relu"
    assert o.resolve_name(lambda: 0) is None
    overridable = o.get_overridable_functions()
    assert ember.add in overridable[ember] and ember.nn.functional.relu in overridable[ember.nn.functional]
    assert ember.zeros in o.get_ignored_functions() and ember.zeros not in overridable[ember]
    dummies = o.get_testing_overrides()
    assert dummies[ember.add](1, 2) == -1
    assert o.is_tensor_method_or_property(ember.Tensor.add) and not o.is_tensor_method_or_property(ember.add)


class Logged:
    """A tensor-like that records the functions called on it."""
    calls = []

    def __init__(self, value):
        self.value = value

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.calls.append(func.__name__)
        return "handled"


def test_wrap_torch_function_dispatches_to_tensor_likes():
    for mod in (ember, torch):
        @mod.overrides.wrap_torch_function(lambda a: (a,))
        def double(a):
            return a * 2
        assert double(mod.ones(1)).tolist() == [2.0]
        Logged.calls.clear()
        assert double(Logged(1)) == "handled" and Logged.calls == ["double"]
        assert mod.overrides.has_torch_function((Logged(1),)) and mod.overrides.is_tensor_like(Logged(1))
        assert not mod.overrides.has_torch_function((mod.ones(1),))


def test_torch_function_mode_cannot_be_entered():
    class Mode(ember.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))
    with pytest.raises(NotImplementedError, match="do not dispatch"):
        with Mode():
            pass
    with ember.overrides.enable_reentrant_dispatch():
        pass
