"""Shared helpers for tests/optim: the same small network in torch and ember, trained side by side."""
import copy

import numpy as np
import torch

import ember

X = np.random.default_rng(0).standard_normal((6, 4))
Y = np.random.default_rng(1).standard_normal((6, 2))


def to_ember(value):
    """A torch tensor (or a nest of dicts/lists/tuples of them) converted to ember, values copied."""
    if isinstance(value, torch.Tensor):
        return ember.from_numpy(value.detach().numpy().copy())
    if isinstance(value, dict):
        return {k: to_ember(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_ember(v) for v in value)
    return value


def make_models():
    """Linear(4,3)-tanh-Linear(3,2) in float64, ember's weights loaded from torch's state_dict."""
    torch.manual_seed(0)
    t_model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2)).double()
    e_model = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.Linear(3, 2)).double()
    e_model.load_state_dict(to_ember(t_model.state_dict()))
    return t_model, e_model


def loss_fn(lib, model):
    """MSE written with tensor ops, so the test depends on neither library's nn losses."""
    x = lib.from_numpy(X.copy())
    y = lib.from_numpy(Y.copy())
    hidden = lib.tanh(model[0](x))
    return ((model[1](hidden) - y) ** 2).mean()


def closure_for(lib, model, opt):
    def closure():
        opt.zero_grad()
        loss = loss_fn(lib, model)
        loss.backward()
        return loss
    return closure


def params_np(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def train(lib, model, opt, steps):
    """Run `steps` optimizer steps; return the parameters after each step."""
    trajectory = []
    closure = closure_for(lib, model, opt)
    for _ in range(steps):
        opt.step(closure)
        trajectory.append(params_np(model))
    return trajectory


def make_optimizer(lib, model, name, kwargs, groups=False):
    """The optimizer `name` on the model's parameters (two groups, the second with a halved lr, if asked)."""
    cls = getattr(lib.optim, name)
    if groups:
        lr = kwargs.get("lr", 1e-2)
        params = [{"params": model[0].parameters()}, {"params": model[1].parameters(), "lr": lr / 2}]
        return cls(params, **kwargs)
    return cls(model.parameters(), **kwargs)


def assert_trajectories_match(e_traj, t_traj, rtol=1e-7, atol=1e-9):
    assert len(e_traj) == len(t_traj)
    for step, (e_params, t_params) in enumerate(zip(e_traj, t_traj)):
        for e, t in zip(e_params, t_params):
            np.testing.assert_allclose(e, t, rtol=rtol, atol=atol, err_msg=f"step {step + 1}")


def state_structure(state_dict):
    """Keys, types and dtypes of an optimizer state_dict, comparable across the two libraries."""
    def describe(v):
        if isinstance(v, (torch.Tensor, ember.Tensor)):
            return ("tensor", str(v.dtype).replace("ember.", "torch."), tuple(v.shape))
        return type(v).__name__
    state = {k: {kk: describe(vv) for kk, vv in s.items()} for k, s in state_dict["state"].items()}
    return state, copy.deepcopy(state_dict["param_groups"])


def raises_like(t_fn, e_fn):
    """Both calls raise the same exception type with the same message."""
    try:
        t_fn()
    except Exception as t_exc:  # noqa: BLE001
        try:
            e_fn()
        except Exception as e_exc:  # noqa: BLE001
            assert type(e_exc).__name__ == type(t_exc).__name__, (e_exc, t_exc)
            assert str(e_exc) == str(t_exc)
            return e_exc
        raise AssertionError(f"torch raised {t_exc!r}; ember did not")
    raise AssertionError("torch did not raise")
