"""foreach=True against PyTorch's foreach=True: several parameter shapes, the main options, values, state_dict
and version counters; foreach=None's defaults as PyTorch's."""
import numpy as np
import pytest
import torch

import ember
from _device import host

SHAPES = [(5, 4), (4,), (2, 3, 3), (1,)]
STEPS = 6
CASES = [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.3)),
    ("Adam", dict(lr=0.05)), ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, betas=(0.3, 0.9))),
    ("AdamW", dict(lr=0.05, amsgrad=True)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1)), ("Adamax", dict(lr=0.05, maximize=True)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)), ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.05, maximize=True, momentum_decay=0.01)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9))), ("RAdam", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adadelta", dict(lr=0.5)), ("Adadelta", dict(lr=0.5, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)), ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Rprop", dict(lr=0.01)), ("Rprop", dict(lr=0.05, maximize=True, etas=(0.3, 1.5), step_sizes=(1e-3, 0.02))),
    ("ASGD", dict(lr=0.1, t0=3)), ("ASGD", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adafactor", dict(lr=0.05, weight_decay=0.1)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CASES]


def _run(lib, name, kwargs, dtype, foreach=True):
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(s), dtype=getattr(lib, dtype), requires_grad=True) for s in SHAPES]
    opt = getattr(lib.optim, name)(params, foreach=foreach, **kwargs)
    versions = []
    for step in range(STEPS):
        for i, p in enumerate(params):
            value = host(p.detach()).numpy()
            p.grad = lib.from_numpy(np.sin(3 * value + i + step) + 0.1 * value).to(p.device)
        opt.step()
        versions.append([p._version for p in params])
    values = [host(p.detach()).numpy().copy() for p in params]
    return values, opt.state_dict(), versions


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_foreach_matches_torch_foreach(name, kwargs, dtype):
    t_values, t_state, t_versions = _run(torch, name, kwargs, dtype)
    e_values, e_state, e_versions = _run(ember, name, kwargs, dtype)
    # NOTE: float32 to a few ulps of the steps: PyTorch's CPU kernels fuse multiply-adds (addcdiv, lerp)
    tol = 1e-12 if dtype == "float64" else 2e-5
    for e, t in zip(e_values, t_values):
        np.testing.assert_allclose(e, t, rtol=tol, atol=tol)
    assert e_versions == t_versions
    assert e_state["param_groups"] == t_state["param_groups"]
    for index, t_entry in t_state["state"].items():
        e_entry = e_state["state"][index]
        assert sorted(e_entry) == sorted(t_entry)
        for key, t_value in t_entry.items():
            e_value = e_entry[key]
            assert str(e_value.dtype).replace("ember.", "torch.") == str(t_value.dtype), key
            np.testing.assert_allclose(host(e_value).numpy(), t_value.numpy(), rtol=tol, atol=tol, err_msg=key)


@pytest.mark.parametrize("name,kwargs", CASES[::3], ids=IDS[::3])
def test_for_loop_version_counters_match_torch(name, kwargs):
    """The CPU default (the for-loop, on raw arrays where it is the same math) bumps versions as PyTorch's."""
    _, _, t_versions = _run(torch, name, kwargs, "float64", foreach=False)
    _, _, e_versions = _run(ember, name, kwargs, "float64", foreach=False)
    assert e_versions == t_versions


def test_foreach_records_nothing_in_the_graph():
    p = ember.ones(3, requires_grad=True)
    opt = ember.optim.Adam([p], lr=0.1, foreach=True)
    p.grad = ember.ones(3)
    opt.step()
    assert p.grad_fn is None and p.is_leaf
    assert all(t.grad_fn is None for t in opt.state[p].values())


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adadelta", "Adagrad",
                                  "RMSprop", "Rprop", "ASGD", "Adafactor"])
def test_foreach_none_defaults_as_torch(name):
    """foreach stays None in param_groups (PyTorch resolves it at each step, from the parameters' device)."""
    t_opt = getattr(torch.optim, name)([torch.ones(2, requires_grad=True)])
    e_opt = getattr(ember.optim, name)([ember.ones(2, requires_grad=True)])
    assert e_opt.param_groups[0]["foreach"] is None
    assert {k: v for k, v in e_opt.state_dict()["param_groups"][0].items()} == t_opt.state_dict()["param_groups"][0]


def test_foreach_none_resolves_by_device():
    cpu = ember.ones(2, device="cpu", requires_grad=True)
    opt = ember.optim.Adam([cpu])
    group = opt.param_groups[0]
    assert opt._foreach_flag(group, [cpu]) is False
    assert opt._foreach_flag(dict(group, foreach=True), [cpu]) is True
    assert opt._foreach_flag(dict(group, fused=False), [cpu]) is False
    if ember.cuda.is_available():
        gpu = ember.ones(2, device="cuda", requires_grad=True)
        assert opt._foreach_flag(group, [gpu]) is True
        assert opt._foreach_flag(dict(group, differentiable=True), [gpu]) is False
        assert opt._foreach_flag(dict(group, lr=ember.tensor(0.1)), [gpu]) is False  # PyTorch's Adam: tensor lr
