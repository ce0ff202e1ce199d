"""torch.utils.hooks: RemovableHandle (pickling too), unserializable_hook, warn_if_has_hooks, BackwardHook."""
import pickle
import warnings
from collections import OrderedDict

import pytest
import torch

import ember


def _warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("where", ["leaf", "nonleaf", "none", "marked", "removed", "two"])
def test_warn_if_has_hooks(where):
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        t = x if where == "leaf" else x * 2
        def hook(g):
            return g
        hook.__qualname__ = "hook"
        if where == "marked":
            lib.utils.hooks.unserializable_hook(hook)
        if where != "none":
            h = t.register_hook(hook)
            if where == "removed":
                h.remove()
        if where == "two":
            t.register_hook(lib.utils.hooks.unserializable_hook(lambda g: g))
            t.register_hook(hook)
        return [m.split(" at 0x")[0] + m.split(">", 1)[1] for m in _warnings(
            lambda: lib.utils.hooks.warn_if_has_hooks(t))]
    assert run(ember) == run(torch)


def test_unserializable_hook_returns_the_function():
    def f(g):
        return g
    assert ember.utils.hooks.unserializable_hook(f) is f and f.__torch_unserializable__ is True


def test_removable_handle_pickles():
    for lib in (torch, ember):
        d = OrderedDict()
        h = lib.utils.hooks.RemovableHandle(d)
        d[h.id] = "hook"
        d2, h2 = pickle.loads(pickle.dumps((d, h)))
        assert h2.id == h.id and list(d2) == [h.id]
        h2.remove()
        assert not d2 and list(d) == [h.id]
        nxt = lib.utils.hooks.RemovableHandle(OrderedDict())
        assert nxt.id > h.id
        # NOTE: the dict was not pickled with the handle: it comes back pointing at a dead dict
        lone = pickle.loads(pickle.dumps(h))
        lone.remove()
        with lone:
            pass


def test_backward_hook_class():
    """torch.utils.hooks.BackwardHook used directly, as nn.Module does: grad_input / grad_output seen by the
    hook, and a hook's replacement of grad_input."""
    def run(lib):
        seen = []
        module = lib.nn.Identity()

        def hook(mod, grad_input, grad_output):
            seen.append((mod is module, [None if g is None else g.tolist() for g in grad_input],
                         [None if g is None else g.tolist() for g in grad_output]))
            return tuple(None if g is None else g * 10 for g in grad_input)

        def pre(mod, grad_output):
            return tuple(g + 1 for g in grad_output)

        bh = lib.utils.hooks.BackwardHook(module, [hook], [pre])
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        args = bh.setup_input_hook((x, 3))
        out = args[0] * 3
        out = bh.setup_output_hook(out)
        out.sum().backward()
        return seen, x.grad.tolist()
    assert run(ember) == run(torch)
