"""torch.optim optimizers against PyTorch: trajectories, state_dict, resume, repr, errors."""
import copy
import warnings

import numpy as np
import pytest
import torch

import ember
from _optim_helpers import (assert_trajectories_match, closure_for, make_models, make_optimizer, params_np,
                            raises_like, state_structure, to_ember, train)

# Every optimizer with each of its options (PyTorch 2.13 semantics); lrs raised where the default barely moves.
CASES = [
    ("SGD", {}),
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("SGD", dict(lr=0.1, foreach=False, differentiable=False, fused=None)),
    ("Adam", {}),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.05, foreach=False, capturable=False, differentiable=False, fused=None)),
    ("AdamW", {}),
    ("AdamW", dict(lr=0.05, weight_decay=0.2, amsgrad=True)),
    ("AdamW", dict(lr=0.05, maximize=True)),
    ("Adamax", {}),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adamax", dict(lr=0.05, maximize=True, eps=1e-4)),
    ("NAdam", {}),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.05, maximize=True)),
    ("RAdam", {}),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9))),  # rho_t passes 5 within the run: both branches taken
    ("RAdam", dict(lr=0.05, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.05, maximize=True)),
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("RMSprop", {}),
    ("RMSprop", dict(alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(centered=True)),
    ("RMSprop", dict(momentum=0.5)),
    ("RMSprop", dict(centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(maximize=True)),
    ("Rprop", {}),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.02))),
    ("Rprop", dict(maximize=True)),
    ("ASGD", {}),
    ("ASGD", dict(lr=0.1, lambd=1e-2, alpha=0.5, t0=5)),  # averaging starts within the run
    ("ASGD", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adafactor", {}),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=1.5, weight_decay=0.1)),
    ("Adafactor", dict(maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CASES]
STEPS = 20


def _both(name, kwargs, groups=False):
    t_model, e_model = make_models()
    return (t_model, make_optimizer(torch, t_model, name, kwargs, groups),
            e_model, make_optimizer(ember, e_model, name, kwargs, groups))


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_trajectory_state_dict_resume_and_repr_match_torch(name, kwargs):
    """20 steps match torch's at every step; so does a fresh optimizer resumed from ember's step-10 state_dict."""
    t_model, t_opt, e_model, e_opt = _both(name, kwargs)
    assert repr(e_opt) == repr(t_opt)
    t_traj = train(torch, t_model, t_opt, STEPS)
    e_traj = train(ember, e_model, e_opt, STEPS // 2)
    saved_opt = copy.deepcopy(e_opt.state_dict())
    saved_model = copy.deepcopy(e_model.state_dict())
    e_traj += train(ember, e_model, e_opt, STEPS - STEPS // 2)
    assert_trajectories_match(e_traj, t_traj)
    assert state_structure(e_opt.state_dict()) == state_structure(t_opt.state_dict())
    assert repr(e_opt) == repr(t_opt)
    _, fresh_model = make_models()
    fresh_model.load_state_dict(saved_model)
    fresh_opt = make_optimizer(ember, fresh_model, name, kwargs)
    fresh_opt.load_state_dict(saved_opt)
    assert_trajectories_match(train(ember, fresh_model, fresh_opt, STEPS - STEPS // 2), t_traj[STEPS // 2:])


@pytest.mark.parametrize("name,kwargs", CASES[::3], ids=IDS[::3])
def test_param_groups_with_their_own_lr(name, kwargs):
    kwargs = dict(kwargs, lr=kwargs.get("lr", 0.02))
    t_model, t_opt, e_model, e_opt = _both(name, kwargs, groups=True)
    assert_trajectories_match(train(ember, e_model, e_opt, 8), train(torch, t_model, t_opt, 8))
    assert state_structure(e_opt.state_dict()) == state_structure(t_opt.state_dict())
    assert repr(e_opt) == repr(t_opt)


@pytest.mark.parametrize("name,kwargs", CASES[1::4], ids=IDS[1::4])
def test_torch_state_dict_loads_into_ember(name, kwargs):
    """A checkpoint written by PyTorch's optimizer, converted to ember tensors, resumes identically."""
    t_model, t_opt, e_model, e_opt = _both(name, kwargs)
    train(torch, t_model, t_opt, STEPS // 2)
    e_model.load_state_dict(to_ember(t_model.state_dict()))
    e_opt.load_state_dict(to_ember(copy.deepcopy(t_opt.state_dict())))
    assert_trajectories_match(train(ember, e_model, e_opt, 5), train(torch, t_model, t_opt, 5))


@pytest.mark.parametrize("kwargs", [dict(lr=0.5), dict(lr=1, history_size=2, max_iter=5),
                                    dict(line_search_fn="strong_wolfe"),
                                    dict(line_search_fn="strong_wolfe", history_size=3, max_iter=7, max_eval=9),
                                    dict(tolerance_grad=1e-3, tolerance_change=1e-4, lr=0.8)])
def test_lbfgs_with_closure_matches_torch(kwargs):
    t_model, t_opt, e_model, e_opt = _both("LBFGS", kwargs)
    assert repr(e_opt) == repr(t_opt)
    t_losses, e_losses = [], []
    t_traj, e_traj = [], []
    for _ in range(4):
        t_losses.append(float(t_opt.step(closure_for(torch, t_model, t_opt))))
        e_losses.append(float(e_opt.step(closure_for(ember, e_model, e_opt))))
        t_traj.append(params_np(t_model))
        e_traj.append(params_np(e_model))
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-8)
    assert_trajectories_match(e_traj, t_traj, rtol=1e-6, atol=1e-8)
    t_state, e_state = t_opt.state_dict()["state"][0], e_opt.state_dict()["state"][0]
    assert sorted(e_state) == sorted(t_state)
    assert (e_state["func_evals"], e_state["n_iter"]) == (t_state["func_evals"], t_state["n_iter"])


def test_lbfgs_rejects_param_groups_and_unknown_line_search():
    t_model, e_model = make_models()
    raises_like(lambda: torch.optim.LBFGS([{"params": t_model[0].parameters()}, {"params": t_model[1].parameters()}]),
                lambda: ember.optim.LBFGS([{"params": e_model[0].parameters()}, {"params": e_model[1].parameters()}]))
    t_opt = torch.optim.LBFGS(t_model.parameters(), line_search_fn="armijo")
    e_opt = ember.optim.LBFGS(e_model.parameters(), line_search_fn="armijo")
    raises_like(lambda: t_opt.step(closure_for(torch, t_model, t_opt)),
                lambda: e_opt.step(closure_for(ember, e_model, e_opt)))


def test_step_returns_closure_loss_and_none_without_closure():
    _, _, e_model, e_opt = _both("Adam", {})
    loss = e_opt.step(closure_for(ember, e_model, e_opt))
    assert isinstance(loss, ember.Tensor) and loss.requires_grad
    assert e_opt.step() is None


def test_params_without_grad_are_skipped_and_keep_no_state():
    for lib in (torch, ember):
        a = lib.ones(2, dtype=lib.float64, requires_grad=True)
        b = lib.ones(2, dtype=lib.float64, requires_grad=True)
        opt = lib.optim.Adam([a, b], lr=0.1)
        (a * 2).sum().backward()
        opt.step()
        assert b.tolist() == [1.0, 1.0]
        assert list(opt.state_dict()["state"]) == [0]


def test_sparse_adam_refuses_dense_gradients_as_torch():
    t_model, e_model = make_models()
    t_opt, e_opt = torch.optim.SparseAdam(t_model.parameters()), ember.optim.SparseAdam(e_model.parameters())
    assert repr(e_opt) == repr(t_opt)
    loss_t, loss_e = closure_for(torch, t_model, t_opt), closure_for(ember, e_model, e_opt)
    loss_t(), loss_e()
    raises_like(lambda: t_opt.step(), lambda: e_opt.step())
    raises_like(lambda: torch.optim.SparseAdam(t_model.parameters(), lr=0),
                lambda: ember.optim.SparseAdam(e_model.parameters(), lr=0))


BAD_ARGS = [
    ("SGD", dict(lr=-1)), ("SGD", dict(momentum=-0.1)), ("SGD", dict(weight_decay=-1)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=-1)), ("Adam", dict(eps=-1)), ("Adam", dict(betas=(1.0, 0.9))), ("Adam", dict(betas=(0.9, -1.0))),
    ("Adam", dict(weight_decay=-0.5)), ("Adam", dict(betas=(0.9, 1))), ("AdamW", dict(lr=-0.1)),
    ("Adamax", dict(betas=(0.9, 1.5))), ("NAdam", dict(momentum_decay=-1)), ("RAdam", dict(eps=-1)),
    ("Adadelta", dict(rho=1.5)), ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(initial_accumulator_value=-1)),
    ("RMSprop", dict(alpha=-1)), ("RMSprop", dict(momentum=-1)), ("Rprop", dict(etas=(1.5, 2.0))),
    ("ASGD", dict(weight_decay=-1)), ("LBFGS", dict(lr=-1)), ("SparseAdam", dict(eps=0)),
    ("Adafactor", dict(lr=-1)), ("Adafactor", dict(beta2_decay=0.5)), ("Adafactor", dict(eps=(-1, 1e-3))),
    ("Adafactor", dict(eps=(None, -1))), ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-1)),
]


@pytest.mark.parametrize("name,kwargs", BAD_ARGS, ids=[f"{n}-{k}" for n, k in BAD_ARGS])
def test_bad_arguments_raise_as_torch(name, kwargs):
    t_model, e_model = make_models()
    raises_like(lambda: getattr(torch.optim, name)(t_model.parameters(), **kwargs),
                lambda: getattr(ember.optim, name)(e_model.parameters(), **kwargs))


@pytest.mark.host_only(reason="messages name torch.cuda.DoubleTensor")
def test_param_group_errors_match_torch():
    t_model, e_model = make_models()
    tp, ep = list(t_model.parameters()), list(e_model.parameters())
    raises_like(lambda: torch.optim.SGD([{"params": tp[:2]}, {"params": tp[1:]}]),
                lambda: ember.optim.SGD([{"params": ep[:2]}, {"params": ep[1:]}]))
    raises_like(lambda: torch.optim.SGD([tp[0] * 2]), lambda: ember.optim.SGD([ep[0] * 2]))
    raises_like(lambda: torch.optim.SGD([{"params": set(tp)}]), lambda: ember.optim.SGD([{"params": set(ep)}]))
    raises_like(lambda: torch.optim.SGD([]), lambda: ember.optim.SGD([]))
    raises_like(lambda: torch.optim.SGD(tp[0]), lambda: ember.optim.SGD(ep[0]))
    raises_like(lambda: torch.optim.SGD([tp[0], 3]), lambda: ember.optim.SGD([ep[0], 3]))
    raises_like(lambda: torch.optim.SGD(tp).add_param_group([tp[0]]),
                lambda: ember.optim.SGD(ep).add_param_group([ep[0]]))
    raises_like(lambda: torch.optim.SGD([("a", tp[0]), tp[1]]), lambda: ember.optim.SGD([("a", ep[0]), ep[1]]))
    raises_like(lambda: torch.optim.SGD(tp[:1]).add_param_group({"params": [("w", tp[1])]}),
                lambda: ember.optim.SGD(ep[:1]).add_param_group({"params": [("w", ep[1])]}))


def test_duplicate_parameters_warn_as_torch():
    for lib in (torch, ember):
        p = lib.ones(2, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.optim.SGD([p, p])
        assert any("duplicate parameters" in str(w.message) for w in caught), lib


def test_named_parameters_and_add_param_group():
    t_model, e_model = make_models()
    t_opt = torch.optim.Adam(t_model[0].named_parameters(), lr=0.01)
    e_opt = ember.optim.Adam(e_model[0].named_parameters(), lr=0.01)
    t_opt.add_param_group({"params": t_model[1].named_parameters(), "lr": 0.1, "betas": (0.5, 0.6)})
    e_opt.add_param_group({"params": e_model[1].named_parameters(), "lr": 0.1, "betas": (0.5, 0.6)})
    assert repr(e_opt) == repr(t_opt)
    assert [g["param_names"] for g in e_opt.param_groups] == [g["param_names"] for g in t_opt.param_groups]
    assert_trajectories_match(train(ember, e_model, e_opt, 5), train(torch, t_model, t_opt, 5))
    assert state_structure(e_opt.state_dict()) == state_structure(t_opt.state_dict())


def test_load_state_dict_errors_match_torch():
    t_model, e_model = make_models()
    t_one, e_one = torch.optim.SGD(t_model.parameters()), ember.optim.SGD(e_model.parameters())
    t_two = torch.optim.SGD([{"params": t_model[0].parameters()}, {"params": t_model[1].parameters()}])
    e_two = ember.optim.SGD([{"params": e_model[0].parameters()}, {"params": e_model[1].parameters()}])
    raises_like(lambda: t_one.load_state_dict(t_two.state_dict()), lambda: e_one.load_state_dict(e_two.state_dict()))
    t_small = torch.optim.SGD(t_model[0].parameters())
    e_small = ember.optim.SGD(e_model[0].parameters())
    raises_like(lambda: t_small.load_state_dict(t_one.state_dict()),
                lambda: e_small.load_state_dict(e_one.state_dict()))


def test_load_state_dict_restores_hyperparameters_and_keeps_params():
    _, e_model = make_models()
    opt = ember.optim.SGD(e_model.parameters(), lr=0.5, momentum=0.9)
    other = ember.optim.SGD(e_model.parameters(), lr=0.1)
    other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["lr"] == 0.5 and other.param_groups[0]["momentum"] == 0.9
    assert other.param_groups[0]["params"][0] is list(e_model.parameters())[0]


def test_zero_grad_set_to_none_and_zeroing():
    for lib in (torch, ember):
        p = lib.ones(3, requires_grad=True)
        opt = lib.optim.SGD([p])
        (p * 2).sum().backward()
        opt.zero_grad(set_to_none=False)
        assert p.grad is not None and p.grad.tolist() == [0.0, 0.0, 0.0]
        opt.zero_grad()
        assert p.grad is None


def test_step_hooks_run_in_order_and_can_be_removed():
    calls = []
    _, _, e_model, e_opt = _both("SGD", dict(lr=0.1))
    pre = e_opt.register_step_pre_hook(lambda opt, args, kwargs: calls.append(("pre", opt is e_opt)))
    post = e_opt.register_step_post_hook(lambda opt, args, kwargs: calls.append(("post", opt is e_opt)))
    e_opt.step(closure_for(ember, e_model, e_opt))
    assert calls == [("pre", True), ("post", True)]
    pre.remove()
    post.remove()
    e_opt.step(closure_for(ember, e_model, e_opt))
    assert len(calls) == 2


def test_state_dict_hooks():
    _, _, e_model, e_opt = _both("Adam", dict(lr=0.1))
    e_opt.register_state_dict_post_hook(lambda opt, sd: dict(sd, extra=1))
    assert e_opt.state_dict()["extra"] == 1
    seen = []
    e_opt.register_load_state_dict_post_hook(lambda opt: seen.append(opt))
    e_opt.load_state_dict({k: v for k, v in e_opt.state_dict().items() if k != "extra"})
    assert seen == [e_opt]


def test_adam_step_is_a_float32_tensor_and_defaults_match():
    for name in ("SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adadelta", "Adagrad", "RMSprop", "Rprop",
                 "ASGD", "LBFGS", "SparseAdam", "Adafactor"):
        t_model, e_model = make_models()
        t_opt = getattr(torch.optim, name)(t_model.parameters())
        e_opt = getattr(ember.optim, name)(e_model.parameters())
        assert e_opt.defaults == t_opt.defaults, name
    _, _, e_model, e_opt = _both("Adam", {})
    train(ember, e_model, e_opt, 3)
    step = e_opt.state[next(e_model.parameters())]["step"]
    assert isinstance(step, ember.Tensor) and step.dtype == ember.float32 and step.item() == 3.0


def test_deepcopy_and_pickle_round_trip():
    import pickle
    _, _, e_model, e_opt = _both("Adam", dict(lr=0.1))
    train(ember, e_model, e_opt, 2)
    clone = copy.deepcopy(e_opt)
    assert repr(clone) == repr(e_opt)
    assert len(clone.state) == len(e_opt.state)
    restored = pickle.loads(pickle.dumps(e_opt))
    assert restored.defaults == e_opt.defaults


COMPLEX_CASES = [("SGD", dict(momentum=0.9)), ("Adam", dict(amsgrad=True)), ("AdamW", {}), ("Adamax", {}),
                 ("NAdam", {}), ("RAdam", dict(betas=(0.9, 0.9))), ("Adadelta", {}),
                 ("RMSprop", dict(centered=True, momentum=0.5)), ("Adagrad", dict(initial_accumulator_value=0.1)),
                 ("Rprop", {}), ("ASGD", dict(t0=1))]


@pytest.mark.parametrize("name,kwargs", COMPLEX_CASES, ids=[c[0] for c in COMPLEX_CASES])
def test_complex_parameters_update_as_pairs_of_reals(name, kwargs):
    """PyTorch optimizes a complex parameter as independent real and imaginary parts (view_as_real)."""
    results = []
    for lib in (torch, ember):
        q = lib.tensor([1 + 2j, -0.5 + 0.1j, 0.3 - 0.7j], dtype=lib.complex128, requires_grad=True)
        opt = getattr(lib.optim, name)([q], lr=0.1, **kwargs)
        for _ in range(6):
            opt.zero_grad()
            ((q.abs() ** 2).sum() + (q - 0.3).abs().sum()).backward()
            opt.step()
        results.append(q.detach().numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-9, atol=1e-12)


def test_state_dict_with_a_python_number_step_loads_as_tensor():
    """Checkpoints from old PyTorch kept `step` as a number; loading makes it a float32 tensor again."""
    t_model, t_opt, e_model, e_opt = _both("Adam", dict(lr=0.05))
    t_traj = train(torch, t_model, t_opt, 6)
    train(ember, e_model, e_opt, 3)
    state = copy.deepcopy(e_opt.state_dict())
    for s in state["state"].values():
        s["step"] = float(s["step"].item())
    e_opt.load_state_dict(state)
    step = e_opt.state[next(e_model.parameters())]["step"]
    assert isinstance(step, ember.Tensor) and step.dtype == ember.float32
    assert_trajectories_match(train(ember, e_model, e_opt, 3), t_traj[3:])


def _plain_sgd_class(lib):
    from importlib import import_module
    required = import_module(lib.__name__ + ".optim.optimizer").required

    class PlainSGD(lib.optim.Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])
    return PlainSGD


def test_user_defined_optimizer_subclass_and_required_hyperparameter():
    t_model, e_model = make_models()
    t_cls, e_cls = _plain_sgd_class(torch), _plain_sgd_class(ember)
    raises_like(lambda: t_cls(t_model.parameters()), lambda: e_cls(e_model.parameters()))
    t_opt, e_opt = t_cls(t_model.parameters(), lr=0.1), e_cls(e_model.parameters(), lr=0.1)
    assert repr(e_opt).replace("PlainSGD", "X") == repr(t_opt).replace("PlainSGD", "X")
    assert_trajectories_match(train(ember, e_model, e_opt, 5), train(torch, t_model, t_opt, 5))


def test_global_step_hooks():
    from ember.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
    calls = []
    pre = register_optimizer_step_pre_hook(lambda opt, args, kwargs: calls.append("pre"))
    post = register_optimizer_step_post_hook(lambda opt, args, kwargs: calls.append("post"))
    try:
        _, _, e_model, e_opt = _both("Adagrad", {})
        e_opt.step(closure_for(ember, e_model, e_opt))
    finally:
        pre.remove()
        post.remove()
    assert calls == ["pre", "post"]
    e_opt.step(closure_for(ember, e_model, e_opt))
    assert calls == ["pre", "post"]
