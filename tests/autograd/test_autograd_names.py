"""torch.autograd's remaining names against PyTorch: the engine switches, the torch.overrides helpers it
re-exports, and the legacy NestedIOFunction, SavedTensor and variable."""
import threading
import warnings

import pytest
import torch

import ember
from autograd_compare import same_error

LIBS = (torch, ember)


# --- switches ---------------------------------------------------------------------------------------------------
SWITCHES = {"multithreading": ("set_multithreading_enabled", lambda lib: lib.autograd.is_multithreading_enabled()),
            "grad_layout": ("enforce_grad_layout_policy", lambda lib: torch._C._is_grad_layout_enforcement_enabled()
                            if lib is torch else ember._state.local.grad_layout_enforced)}


def _trace(lib, which):
    """What the switch reports across its uses: called, as a context manager, as a decorator, nested."""
    name, read = SWITCHES[which]
    switch = getattr(lib.autograd, name)
    seen = [read(lib)]
    with switch(False):
        seen.append(read(lib))
        with switch(True):
            seen.append(read(lib))
        seen.append(read(lib))
    seen.append(read(lib))

    @switch(False)
    def inside():
        return read(lib)
    seen.append(read(lib))  # NOTE: PyTorch's multithreading switch stays set once it decorated
    seen.append(inside())
    seen.append(read(lib))
    switch(True)
    seen.append(read(lib))

    def gen():
        yield read(lib)
    seen.append(list(switch(False)(gen)()))
    switch(True)
    seen.append(read(lib))
    copy = switch(False).clone()
    seen.append((type(copy).__name__, copy.mode, read(lib)))
    switch(True)
    return seen


@pytest.mark.parametrize("which", list(SWITCHES))
def test_switch_matches_torch(which):
    assert _trace(ember, which) == _trace(torch, which)


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
def test_multithreading_switch_is_per_thread(lib):
    seen = []
    with lib.autograd.set_multithreading_enabled(False):
        thread = threading.Thread(target=lambda: seen.append(lib.autograd.is_multithreading_enabled()))
        thread.start()
        thread.join()
        seen.append(lib.autograd.is_multithreading_enabled())
    assert seen == [True, False]


def test_backward_is_unchanged_by_the_switches():
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.set_multithreading_enabled(False), lib.autograd.enforce_grad_layout_policy(False):
            (x * x).sum().backward()
        assert x.grad.tolist() == [2.0, 4.0]


def test_view_replay_reports_pytorchs_default():
    assert ember.autograd.is_view_replay_enabled() is torch.autograd.is_view_replay_enabled() is False


# --- torch.overrides helpers ----------------------------------------------------------------------------------
class _Declines:
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return NotImplemented


class _Handles:
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return ("handled", [t.__name__ for t in types], len(args))


def _overrides_trace(lib):
    x = lib.ones(2)
    sub = type("Sub", (lib.Tensor,), {})
    out = [lib.autograd.is_tensor_like(v) for v in (x, lib.nn.Parameter(x), 3, None, _Declines(), _Declines, [x])]
    out.append(lib.autograd.is_tensor_like(x.as_subclass(sub)) if hasattr(x, "as_subclass") else True)
    out += [lib.autograd.has_torch_function(a) for a in ((x,), (x, 1), [x], (), (_Declines(),), [1, _Handles()])]
    out.append(lib.autograd.handle_torch_function(lib.add, (x,), x, x).tolist())
    out.append(lib.autograd.handle_torch_function(lib.add, [x, _Handles()], x, _Handles()))
    out.append(lib.autograd.handle_torch_function is lib.nn.functional.handle_torch_function)
    out.append(lib.autograd.has_torch_function is lib.nn.functional.has_torch_function)
    return out


def test_overrides_helpers_match_torch():
    assert _overrides_trace(ember) == _overrides_trace(torch)


@pytest.mark.parametrize("relevant", ["nothing", "declines", "declines_and_tensor"])
def test_handle_torch_function_refusals(relevant):
    def fn(lib):
        x = lib.ones(2)
        args = {"nothing": (1,), "declines": (_Declines(),), "declines_and_tensor": (_Declines(), x)}[relevant]
        lib.autograd.handle_torch_function(lib.add, args, *args)
    # NOTE: the message names the function and the types (their reprs differ between the libraries)
    t_msg = _error(fn, torch)
    e_msg = _error(fn, ember)
    assert t_msg[0] is e_msg[0] is TypeError
    assert t_msg[1].split("'")[0] == e_msg[1].split("'")[0]
    assert t_msg[1].count("<class") == e_msg[1].count("<class")


def _error(fn, lib):
    with pytest.raises(Exception) as info:
        fn(lib)
    return info.type, str(info.value)


# --- legacy names --------------------------------------------------------------------------------------------
def test_variable_raises_as_torch():
    same_error(lambda lib: lib.autograd.variable(1.0))
    same_error(lambda lib: lib.autograd.variable(lib.ones(2), requires_grad=True))


def test_saved_tensor_cannot_be_made_from_python():
    same_error(lambda lib: lib.autograd.SavedTensor())
    assert isinstance(ember.autograd.SavedTensor, type)


def _nested_trace(lib):
    class F(lib.autograd.NestedIOFunction):
        def forward_extended(self, a, pair):
            return a * 2, [pair[0] + pair[1], None]

        def backward_extended(self, g_double, g_pair):
            return g_double * 2, [g_pair[0], None]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        f = F()
    x, y = lib.ones(2, requires_grad=True), lib.full((2,), 3.0)
    out = []
    f.save_for_backward(x, [y, (x, None)])
    out.append([t.tolist() for t in f.to_save])
    if lib is ember:  # NOTE: PyTorch's instance has no graph node behind it to keep them (it finds none)
        saved = f.saved_tensors
        assert (type(saved), type(saved[1]), type(saved[1][1]), saved[1][1][1]) == (tuple, list, tuple, None)
        assert saved[0] is x and saved[1][0] is y and saved[1][1][0] is x
    f.mark_dirty(x, [y], k=x)
    out.append([t.tolist() for t in f.dirty_tensors])
    f.mark_non_differentiable([y])
    out.append([t.tolist() for t in f.non_differentiable])
    f._nested_input = (x, [x, y])
    flat = f.forward(x, x, y)
    out.append([(t.tolist(), t.requires_grad) for t in flat])
    grads = f.backward(lib.ones(2), lib.full((2,), 5.0))
    out.append([None if g is None else g.tolist() for g in grads])
    out.append(issubclass(F, lib.autograd.Function))
    return out


def test_nested_io_function_matches_torch():
    assert _nested_trace(ember) == _nested_trace(torch)


@pytest.mark.parametrize("call", ["forward_extended", "backward_extended"])
def test_nested_io_function_needs_its_extended_methods(call):
    def fn(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            getattr(lib.autograd.NestedIOFunction(), call)(lib.ones(1))
    same_error(fn)


def test_nested_io_function_refuses_other_objects():
    def fn(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            lib.autograd.NestedIOFunction().save_for_backward(lib.ones(1), 3)
    same_error(fn)
