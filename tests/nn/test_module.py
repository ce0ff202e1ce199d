"""nn.Module against PyTorch: registration, traversal, state_dict, modes, hooks, printing."""
import copy
import pickle

import numpy as np
import pytest
import torch

import ember
from _nn_helpers import assert_close, copy_weights, raises_like, to_ember


def _both(build):
    """The same model built in torch and in ember (build receives the library as `nn`'s parent)."""
    return build(torch), build(ember)


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(5, 8), nn.Sequential(nn.Linear(8, 4), nn.Identity()), nn.Linear(4, 1, bias=False))


class _Net:
    """A user's Module subclass, defined once for either library."""

    @staticmethod
    def build(lib):
        nn = lib.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(3, 4)
                self.fc2 = nn.Linear(4, 2)
                self.shared = self.fc1  # the same module twice
                self.register_buffer("running", lib.zeros(2))
                self.register_buffer("scratch", lib.ones(1), persistent=False)
                self.scale = nn.Parameter(lib.ones(1))

            def forward(self, x):
                return self.fc2(lib.relu(self.fc1(x))) * self.scale + self.running

        return Net()


def test_repr_matches_torch():
    t, e = _both(_mlp)
    assert repr(e) == repr(t)
    t, e = _both(_Net.build)
    assert repr(e) == repr(t)


def test_named_parameters_buffers_modules_match_torch():
    t, e = _both(_Net.build)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in e.named_parameters(prefix="m", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="m", recurse=False)]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.modules())) == len(list(t.modules()))
    t2, e2 = _both(_mlp)
    assert [n for n, _ in e2.named_modules()] == [n for n, _ in t2.named_modules()]
    assert e2.get_submodule("1.0") is e2[1][0]
    assert e2.get_parameter("1.0.bias") is e2[1][0].bias


def test_state_dict_keys_metadata_and_round_trip():
    t, e = _both(_Net.build)
    t_sd, e_sd = t.state_dict(), e.state_dict()
    assert list(e_sd) == list(t_sd)
    assert e_sd._metadata == t_sd._metadata
    assert all(not v.requires_grad for v in e_sd.values())
    copy_weights(t, e)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert_close(e(ember.from_numpy(x)), t(torch.from_numpy(x)))
    assert repr(e.load_state_dict(e.state_dict())) == repr(t.load_state_dict(t.state_dict()))


def test_load_state_dict_errors_match_torch():
    t, e = _both(_mlp)
    bad_t = {"0.weight": torch.zeros(8, 4), "extra": torch.zeros(1)}
    bad_e = {"0.weight": ember.zeros(8, 4), "extra": ember.zeros(1)}
    raises_like(lambda: t.load_state_dict(bad_t), lambda: e.load_state_dict(bad_e))
    t_res = t.load_state_dict({"0.weight": torch.zeros(8, 5)}, strict=False)
    e_res = e.load_state_dict({"0.weight": ember.zeros(8, 5)}, strict=False)
    assert repr(e_res) == repr(t_res)
    assert e_res.missing_keys == t_res.missing_keys
    assert e.state_dict()["0.weight"].abs().sum().item() == 0


@pytest.mark.host_only(reason="messages name torch.cuda.FloatTensor")
def test_attribute_errors_match_torch():
    t, e = _both(lambda lib: lib.nn.Linear(2, 3))
    raises_like(lambda: setattr(t, "weight", torch.zeros(3, 2)), lambda: setattr(e, "weight", ember.zeros(3, 2)))
    raises_like(lambda: t.register_buffer("weight", torch.zeros(1)), lambda: e.register_buffer("weight", ember.zeros(1)))
    raises_like(lambda: t.register_buffer("a.b", torch.zeros(1)), lambda: e.register_buffer("a.b", ember.zeros(1)))
    raises_like(lambda: t.register_buffer("", torch.zeros(1)), lambda: e.register_buffer("", ember.zeros(1)))
    raises_like(lambda: t.register_buffer("zz", 3), lambda: e.register_buffer("zz", 3))
    raises_like(lambda: t.register_parameter("zz", torch.zeros(1)),
                lambda: e.register_parameter("zz", ember.zeros(1)))
    raises_like(lambda: t.foo, lambda: e.foo)
    raises_like(lambda: t.get_submodule("a.b"), lambda: e.get_submodule("a.b"))
    raises_like(lambda: t.add_module("x", 3), lambda: e.add_module("x", 3))

    def early(lib):
        class M(lib.nn.Module):
            def __init__(self):
                self.w = lib.nn.Parameter(lib.zeros(1))
        return M()
    raises_like(lambda: early(torch), lambda: early(ember))


@pytest.mark.host_only(reason="reprs name the device")
def test_parameter_behaves_as_torch():
    t = torch.nn.Parameter(torch.zeros(2))
    e = ember.nn.Parameter(ember.zeros(2))
    assert repr(e) == repr(t) and str(e) == str(t)
    assert e.requires_grad and e.is_leaf
    assert type(e * 2) is ember.Tensor and type(e.detach()) is ember.Tensor and type(e.data) is ember.Tensor
    assert isinstance(copy.deepcopy(e), ember.nn.Parameter)
    assert isinstance(e, ember.Tensor)
    ti = torch.nn.Parameter(torch.zeros(2, dtype=torch.int64), requires_grad=False)
    ei = ember.nn.Parameter(ember.zeros(2, dtype=ember.int64), requires_grad=False)
    assert repr(ei) == repr(ti)
    assert repr(ember.nn.Parameter()) == repr(torch.nn.Parameter())
    raises_like(lambda: torch.nn.Parameter(torch.zeros(2, dtype=torch.int64)),
                lambda: ember.nn.Parameter(ember.zeros(2, dtype=ember.int64)))
    back = pickle.loads(pickle.dumps(e))
    assert isinstance(back, ember.nn.Parameter) and back.requires_grad


def test_train_eval_requires_grad_and_zero_grad():
    e = _mlp(ember)
    assert e.training and e[1][0].training
    assert e.eval() is e
    assert not e[1][0].training
    e.train()
    assert e[1][1].training
    e(ember.randn(2, 5)).sum().backward()
    assert e[0].weight.grad is not None
    e.zero_grad()
    assert all(p.grad is None for p in e.parameters())
    e(ember.randn(2, 5)).sum().backward()
    e.zero_grad(set_to_none=False)
    assert all(p.grad is not None and p.grad.abs().sum().item() == 0 for p in e.parameters())
    e.requires_grad_(False)
    assert not any(p.requires_grad for p in e.parameters())
    with pytest.raises(ValueError):
        e.train("yes")


def test_to_double_keeps_parameter_objects():
    e = _Net.build(ember)
    w = e.fc1.weight
    assert e.double() is e
    assert e.fc1.weight is w and w.dtype == ember.float64
    assert e.running.dtype == ember.float64
    e.to(ember.float32)
    assert w.dtype == ember.float32
    with pytest.raises(TypeError):
        e.to(ember.int64)


def test_apply_visits_children_first():
    t, e = _both(_mlp)
    seen_t, seen_e = [], []
    t.apply(lambda m: seen_t.append(type(m).__name__))
    e.apply(lambda m: seen_e.append(type(m).__name__))
    assert seen_e == seen_t


def test_forward_hooks_match_torch():
    t, e = _both(lambda lib: lib.nn.Linear(3, 2))
    copy_weights(t, e)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    for m in (t, e):
        m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        m.register_forward_hook(lambda mod, args, out: out + 1)
    assert_close(e(ember.from_numpy(x)), t(torch.from_numpy(x)))
    calls = []
    handle = e.register_forward_hook(lambda mod, args, out: calls.append(1))
    e(ember.from_numpy(x))
    handle.remove()
    e(ember.from_numpy(x))
    assert calls == [1]
    with e.register_forward_pre_hook(lambda mod, args, kwargs: None, with_kwargs=True):
        e(ember.from_numpy(x))


def test_full_backward_hook_matches_torch():
    t, e = _both(lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Linear(4, 2)))
    copy_weights(t, e)
    x = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    got = {}
    def recorder(name):
        def hook(mod, grad_input, grad_output):
            got[name] = (grad_input, grad_output)
        return hook
    t[1].register_full_backward_hook(recorder("t"))
    e[1].register_full_backward_hook(recorder("e"))
    tx = torch.from_numpy(x).requires_grad_()
    ex = ember.from_numpy(x.copy()).requires_grad_()
    t(tx).pow(2).sum().backward()
    e(ex).pow(2).sum().backward()
    (t_gi, t_go), (e_gi, e_go) = got["t"], got["e"]
    assert len(e_gi) == len(t_gi) and len(e_go) == len(t_go)
    assert_close(e_gi[0], t_gi[0])
    assert_close(e_go[0], t_go[0])
    assert_close(ex.grad, tx.grad)


def test_backward_hook_can_replace_grad_input():
    e = ember.nn.Linear(3, 2)
    e.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0,))
    x = ember.randn(4, 3, requires_grad=True)
    e(x).sum().backward()
    assert x.grad.abs().sum().item() == 0
    assert e.weight.grad.abs().sum().item() > 0


class PicklableNet(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = ember.nn.Linear(3, 4)
        self.shared = self.fc1
        self.register_buffer("running", ember.zeros(4))

    def forward(self, x):
        return self.shared(x) + self.running


def test_module_pickles_and_deepcopies():
    e = PicklableNet()
    x = ember.randn(2, 3)
    for clone in (pickle.loads(pickle.dumps(e)), copy.deepcopy(e)):
        assert clone.fc1.weight is not e.fc1.weight
        assert clone.shared is clone.fc1
        np.testing.assert_allclose(clone(x).detach().numpy(), e(x).detach().numpy())


def test_missing_forward_raises_like_torch():
    raises_like(lambda: torch.nn.Module()(1), lambda: ember.nn.Module()(1))


def test_to_ember_helper_is_faithful():
    t = torch.randn(2, 3, requires_grad=True)
    e = to_ember(t)
    assert e.requires_grad and tuple(e.shape) == (2, 3)


def test_pitfall_27_module_basics_match_torch():
    """PYTORCH-PITFALLS 27: shared parameters counted once, eval/train/to return the same module,
    non-persistent buffers stay out of state_dict."""
    for lib in (torch, ember):
        layer = lib.nn.Linear(2, 2)
        seq = lib.nn.Sequential(layer, layer)
        assert len(list(seq.parameters())) == 2
        assert len(list(seq.named_modules())) == 2
        assert seq.eval() is seq and seq.train() is seq and seq.to(lib.float32) is seq
        seq.register_buffer("keep", lib.zeros(1))
        seq.register_buffer("scratch", lib.zeros(1), persistent=False)
        assert "keep" in seq.state_dict() and "scratch" not in seq.state_dict()
