"""torch.optim.Muon against PyTorch: trajectories of 2-D weights, each option, state_dict and errors."""
import numpy as np
import pytest
import torch

import ember

from _optim_helpers import raises_like, to_ember

STEPS = 8


def _weights(lib, shapes, dtype):
    gen = np.random.default_rng(0)
    return [lib.tensor(gen.standard_normal(s), dtype=getattr(lib, dtype), requires_grad=True) for s in shapes]


def _loss(lib, weights, step):
    gen = np.random.default_rng(100 + step)
    loss = 0
    for w in weights:
        target = lib.tensor(gen.standard_normal(tuple(w.shape)), dtype=w.dtype)
        loss = loss + ((w.tanh() - target) ** 2).sum()
    return loss


def _trajectory(lib, kwargs, shapes, dtype):
    weights = _weights(lib, shapes, dtype)
    opt = lib.optim.Muon(weights, **kwargs)
    out = []
    for step in range(STEPS):
        opt.zero_grad()
        _loss(lib, weights, step).backward()
        opt.step()
        out.append([w.detach().float().numpy().copy() for w in weights])
    return out, opt


CASES = [{}, {"nesterov": False}, {"lr": 0.02, "weight_decay": 0.0, "momentum": 0.9},
         {"adjust_lr_fn": "match_rms_adamw"}, {"adjust_lr_fn": "original", "ns_steps": 3},
         {"ns_coefficients": (2.0, -1.5, 0.5), "eps": 1e-5}]


@pytest.mark.parametrize("kwargs", CASES, ids=[str(k) for k in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_trajectory_matches_torch(kwargs, dtype):
    shapes = [(5, 3), (3, 7), (4, 4)]  # tall, wide and square: the iteration turns tall matrices
    t_traj, t_opt = _trajectory(torch, kwargs, shapes, dtype)
    e_traj, e_opt = _trajectory(ember, kwargs, shapes, dtype)
    for step, (e, t) in enumerate(zip(e_traj, t_traj)):
        for a, b in zip(e, t):
            # NOTE: the orthogonalisation runs in bfloat16 in both: a last-bit difference of one bfloat16
            # rounding (2^-8 relative) in an element of the update moves a weight by ~lr * 4e-3
            np.testing.assert_allclose(a, b, rtol=0, atol=2e-5, err_msg=f"step {step + 1}")
    assert repr(e_opt) == repr(t_opt)
    e_state, t_state = e_opt.state_dict(), t_opt.state_dict()
    assert e_state["param_groups"] == t_state["param_groups"]
    assert sorted(e_state["state"][0]) == sorted(t_state["state"][0]) == ["momentum_buffer"]


def test_state_dict_round_trip_continues_the_trajectory():
    shapes = [(4, 6)]
    t_traj, t_opt = _trajectory(torch, {}, shapes, "float64")
    weights = _weights(ember, shapes, "float64")
    opt = ember.optim.Muon(weights)
    opt.load_state_dict(to_ember(t_opt.state_dict()))
    np.testing.assert_allclose(opt.state[weights[0]]["momentum_buffer"].numpy(),
                               t_opt.state_dict()["state"][0]["momentum_buffer"].numpy())


@pytest.mark.parametrize("kwargs", [{"lr": -1}, {"momentum": -0.1}, {"weight_decay": -1}, {"adjust_lr_fn": "x"}])
def test_bad_arguments_raise_as_torch(kwargs):
    raises_like(lambda: torch.optim.Muon([torch.zeros(2, 2, requires_grad=True)], **kwargs),
                lambda: ember.optim.Muon([ember.zeros(2, 2, requires_grad=True)], **kwargs))


def test_refuses_what_torch_refuses():
    raises_like(lambda: torch.optim.Muon([torch.zeros(3, requires_grad=True)]),
                lambda: ember.optim.Muon([ember.zeros(3, requires_grad=True)]))

    def step_with(lib, ns_steps=5, dtype="float32"):
        w = lib.ones(2, 2, dtype=getattr(lib, dtype), requires_grad=True)
        opt = lib.optim.Muon([w], ns_steps=ns_steps)
        w.grad = lib.ones(2, 2, dtype=w.dtype)
        opt.step()
    raises_like(lambda: step_with(torch, ns_steps=100), lambda: step_with(ember, ns_steps=100))
    raises_like(lambda: step_with(torch, dtype="complex64"), lambda: step_with(ember, dtype="complex64"))
