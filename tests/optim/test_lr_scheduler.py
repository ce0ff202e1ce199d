"""torch.optim.lr_scheduler against PyTorch: lr sequences, momentum cycling, state_dict, warnings, errors."""
import math
import pickle
import warnings

import pytest
import torch

import ember
from _optim_helpers import raises_like

EPOCHS = 30


def _optimizer(lib, name="SGD", groups=2, **kwargs):
    """An optimizer over tiny parameters; two groups with different lrs by default."""
    params = [lib.zeros(2, dtype=lib.float64, requires_grad=True) for _ in range(groups)]
    lrs = [0.1, 0.05, 0.02][:groups]
    defaults = {"SGD": dict(momentum=0.9), "Adam": {}}[name]
    return getattr(lib.optim, name)([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)],
                                    **dict(defaults, **kwargs))


def _lambda_lr(lib, opt):
    return lib.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.95 ** epoch)


def _lambda_lr_per_group(lib, opt):
    return lib.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e])


def _multiplicative(lib, opt):
    return lib.optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.9)


def _sequential(lib, opt):
    s = lib.optim.lr_scheduler
    return s.SequentialLR(opt, [s.LinearLR(opt, start_factor=0.1, total_iters=4),
                                s.CosineAnnealingLR(opt, T_max=8), s.ExponentialLR(opt, gamma=0.9)],
                          milestones=[5, 15])


def _chained(lib, opt):
    s = lib.optim.lr_scheduler
    return s.ChainedScheduler([s.ConstantLR(opt, factor=0.5, total_iters=3), s.ExponentialLR(opt, gamma=0.95),
                               s.StepLR(opt, step_size=7, gamma=0.5)])


def _sched(cls_name, **kwargs):
    def build(lib, opt):
        return getattr(lib.optim.lr_scheduler, cls_name)(opt, **kwargs)
    build.__name__ = cls_name + "".join(f"-{k}={v}" for k, v in kwargs.items())
    return build


BUILDERS = [
    _lambda_lr, _lambda_lr_per_group, _multiplicative,
    _sched("StepLR", step_size=4), _sched("StepLR", step_size=3, gamma=0.5),
    _sched("MultiStepLR", milestones=[3, 7, 7, 20], gamma=0.3),
    _sched("ConstantLR"), _sched("ConstantLR", factor=0.25, total_iters=8),
    _sched("LinearLR"), _sched("LinearLR", start_factor=0.2, end_factor=0.6, total_iters=12),
    _sched("ExponentialLR", gamma=0.9),
    _sched("PolynomialLR"), _sched("PolynomialLR", total_iters=20, power=2.0),
    _sched("CosineAnnealingLR", T_max=10), _sched("CosineAnnealingLR", T_max=7, eta_min=0.001),
    _sched("CosineAnnealingWarmRestarts", T_0=5), _sched("CosineAnnealingWarmRestarts", T_0=3, T_mult=2,
                                                         eta_min=1e-3),
    _sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=4),
    _sched("CyclicLR", base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=3, step_size_down=5,
           mode="triangular2", base_momentum=0.7, max_momentum=0.95),
    _sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.9),
    _sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=5, cycle_momentum=False),
    _sched("OneCycleLR", max_lr=0.5, total_steps=EPOCHS + 1),
    _sched("OneCycleLR", max_lr=[0.5, 1.0], epochs=4, steps_per_epoch=8, anneal_strategy="linear",
           pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
    _sched("OneCycleLR", max_lr=0.3, total_steps=EPOCHS + 2, three_phase=True, cycle_momentum=False),
    _sequential, _chained,
]


def _run(lib, build, name="SGD", epochs=EPOCHS, opt_kwargs=None):
    """lrs (and momenta/betas) of every group after construction and after each scheduler step."""
    opt = _optimizer(lib, name, **(opt_kwargs or {}))
    sched = build(lib, opt)
    trace = []
    for _ in range(epochs):
        trace.append(_snapshot(opt, sched))
        opt.step()
        sched.step()
    trace.append(_snapshot(opt, sched))
    return trace, opt, sched


def _snapshot(opt, sched):
    return ([g["lr"] for g in opt.param_groups], list(sched.get_last_lr()),
            [g.get("momentum", g.get("betas")) for g in opt.param_groups])


def _assert_traces_equal(e_trace, t_trace):
    assert len(e_trace) == len(t_trace)
    for epoch, (e, t) in enumerate(zip(e_trace, t_trace)):
        for e_vals, t_vals in zip(e, t):
            flat_e = [x for v in e_vals for x in (v if isinstance(v, tuple) else (v,))]
            flat_t = [x for v in t_vals for x in (v if isinstance(v, tuple) else (v,))]
            assert flat_e == pytest.approx(flat_t, rel=1e-12, abs=1e-15), f"epoch {epoch}: {e} != {t}"


def _state_keys(state):
    return {k: (sorted(_state_keys(v)) if isinstance(v, dict) else type(v).__name__) for k, v in state.items()}


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_lr_sequence_matches_torch(build):
    t_trace, t_opt, t_sched = _run(torch, build)
    e_trace, e_opt, e_sched = _run(ember, build)
    _assert_traces_equal(e_trace, t_trace)
    assert [sorted(g) for g in e_opt.param_groups] == [sorted(g) for g in t_opt.param_groups]
    assert _state_keys(e_sched.state_dict()) == _state_keys(t_sched.state_dict())
    assert getattr(e_sched, "last_epoch", None) == getattr(t_sched, "last_epoch", None)


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_state_dict_round_trip_resumes_the_schedule(build):
    """Save optimizer and scheduler halfway, rebuild both, load, continue: the lrs equal torch's full run."""
    t_trace, _, _ = _run(torch, build)
    opt = _optimizer(ember)
    sched = build(ember, opt)
    half = EPOCHS // 2
    for _ in range(half):
        opt.step()
        sched.step()
    opt_state = opt.state_dict()
    sched_state = pickle.loads(pickle.dumps(sched.state_dict()))
    fresh_opt = _optimizer(ember)
    fresh = build(ember, fresh_opt)
    fresh.load_state_dict(sched_state)
    fresh_opt.load_state_dict(opt_state)
    trace = [_snapshot(fresh_opt, fresh)]
    for _ in range(EPOCHS - half):
        fresh_opt.step()
        fresh.step()
        trace.append(_snapshot(fresh_opt, fresh))
    _assert_traces_equal(trace, t_trace[half:])


@pytest.mark.parametrize("build", [_sched("CyclicLR", base_lr=0.001, max_lr=0.01, step_size_up=3),
                                   _sched("OneCycleLR", max_lr=0.05, total_steps=EPOCHS + 1,
                                          base_momentum=0.8, max_momentum=0.9)],
                         ids=["CyclicLR", "OneCycleLR"])
def test_momentum_cycling_moves_adam_beta1(build):
    t_trace, t_opt, _ = _run(torch, build, name="Adam", epochs=12)
    e_trace, e_opt, _ = _run(ember, build, name="Adam", epochs=12)
    _assert_traces_equal(e_trace, t_trace)
    assert e_opt.param_groups[0]["betas"][1] == 0.999
    assert [sorted(g) for g in e_opt.param_groups] == [sorted(g) for g in t_opt.param_groups]


def test_initial_lr_added_and_base_lrs():
    for lib in (torch, ember):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2)
        assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
        assert sched.base_lrs == [0.1, 0.05] and sched.last_epoch == 0


def test_step_lr_values_from_pitfalls_list():
    opt = _optimizer(ember, groups=1)
    opt.param_groups[0]["lr"] = 1.0
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    seen = []
    for _ in range(5):
        seen.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert seen == pytest.approx([1, 1, 0.1, 0.1, 0.01])


@pytest.mark.parametrize("build", [_sched("CosineAnnealingWarmRestarts", T_0=4, T_mult=2),
                                   _sched("CosineAnnealingWarmRestarts", T_0=3)], ids=["T_mult2", "T_mult1"])
def test_warm_restarts_with_fractional_epochs(build):
    traces = []
    for lib in (torch, ember):
        opt = _optimizer(lib)
        sched = build(lib, opt)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(12):
                for i in range(5):
                    opt.step()
                    sched.step(epoch + i / 5)
                    lrs.append((list(sched.get_last_lr()), sched.T_cur, sched.T_i, sched.last_epoch))
        traces.append(lrs)
    for (e_lr, *e_rest), (t_lr, *t_rest) in zip(traces[1], traces[0]):
        assert e_lr == pytest.approx(t_lr, rel=1e-12)
        assert e_rest == pytest.approx(t_rest, rel=1e-12)


@pytest.mark.parametrize("cls,kwargs", [("StepLR", dict(step_size=3)), ("MultiStepLR", dict(milestones=[2, 5])),
                                        ("ExponentialLR", dict(gamma=0.8)), ("CosineAnnealingLR", dict(T_max=6)),
                                        ("LinearLR", dict(total_iters=4)), ("ConstantLR", dict(total_iters=4)),
                                        ("PolynomialLR", dict(total_iters=6, power=2.0))])
def test_step_with_epoch_uses_closed_form_and_warns(cls, kwargs):
    results = []
    for lib in (torch, ember):
        opt = _optimizer(lib)
        sched = getattr(lib.optim.lr_scheduler, cls)(opt, **kwargs)
        lrs = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for epoch in [3, 1, 7, 4, 9]:
                opt.step()
                sched.step(epoch)
                lrs.append(list(sched.get_last_lr()))
        assert any("epoch parameter in `scheduler.step()`" in str(w.message) for w in caught)
        results.append(lrs)
    assert [x for lrs in results[1] for x in lrs] == pytest.approx([x for lrs in results[0] for x in lrs], rel=1e-12)


METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.89, 0.9, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.5, 0.5, 0.5, 0.5,
           0.5, 0.5, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]


@pytest.mark.parametrize("kwargs", [dict(patience=2), dict(mode="max", patience=1, factor=0.5),
                                    dict(patience=1, threshold=0.05, threshold_mode="abs", cooldown=2),
                                    dict(mode="max", threshold_mode="abs", patience=0, min_lr=[0.01, 0.03]),
                                    dict(patience=0, factor=0.5, min_lr=0.02, eps=1e-3),
                                    dict(patience=1, cooldown=1, threshold=0.1)])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    traces, scheds = [], []
    for lib in (torch, ember):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        trace = []
        for i, metric in enumerate(METRICS):
            opt.step()
            sched.step(lib.tensor(metric) if i % 2 else metric)
            trace.append(([g["lr"] for g in opt.param_groups], list(sched.get_last_lr()), sched.best,
                          sched.num_bad_epochs, sched.cooldown_counter))
        traces.append(trace)
        scheds.append(sched)
    for e, t in zip(traces[1], traces[0]):
        assert e[0] == pytest.approx(t[0], rel=1e-12) and e[1] == pytest.approx(t[1], rel=1e-12)
        assert e[2:] == pytest.approx(t[2:], rel=1e-6)
    assert _state_keys(scheds[1].state_dict()) == _state_keys(scheds[0].state_dict())


def test_reduce_lr_on_plateau_state_dict_round_trip():
    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=1)
    for m in METRICS[:10]:
        sched.step(m)
    state = pickle.loads(pickle.dumps(sched.state_dict()))
    fresh = ember.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(ember))
    fresh.load_state_dict(state)
    assert fresh.mode == "max" and fresh.best == sched.best and fresh.mode_worse == -math.inf


def test_warns_when_scheduler_steps_before_optimizer():
    for lib in (torch, ember):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.step()
        assert any("Detected call of `lr_scheduler.step()` before `optimizer.step()`" in str(w.message)
                   for w in caught), lib
        opt2 = _optimizer(lib)
        sched2 = lib.optim.lr_scheduler.StepLR(opt2, step_size=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            opt2.step()
            sched2.step()
        assert not caught, lib


def test_get_lr_outside_step_warns():
    for lib in (torch, ember):
        sched = lib.optim.lr_scheduler.StepLR(_optimizer(lib), step_size=2)
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            sched.get_lr()


def _step_times(sched, n):
    for _ in range(n):
        sched.step()


def _err(lib, fn):
    return lambda: fn(lib, lib.optim.lr_scheduler, _optimizer(lib))


ERRORS = [
    lambda lib, s, o: s.StepLR("not an optimizer", 3),
    lambda lib, s, o: s.ConstantLR(o, factor=1.5),
    lambda lib, s, o: s.LinearLR(o, start_factor=0),
    lambda lib, s, o: s.LinearLR(o, end_factor=2),
    lambda lib, s, o: s.LambdaLR(o, [lambda e: 1]),
    lambda lib, s, o: s.MultiplicativeLR(o, [1, 2]),
    lambda lib, s, o: s.StepLR(o, 3, last_epoch=4),
    lambda lib, s, o: s.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda lib, s, o: s.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5),
    lambda lib, s, o: s.CosineAnnealingWarmRestarts(o, T_0=2).step(-1),
    lambda lib, s, o: s.CyclicLR(o, 0.1, 1.0, mode="sawtooth"),
    lambda lib, s, o: s.CyclicLR(o, [0.1], 1.0),
    lambda lib, s, o: s.CyclicLR(lib.optim.Adagrad([lib.zeros(1, requires_grad=True)]), 0.1, 1.0),
    lambda lib, s, o: s.OneCycleLR(o, 0.1),
    lambda lib, s, o: s.OneCycleLR(o, 0.1, total_steps=0),
    lambda lib, s, o: s.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-1),
    lambda lib, s, o: s.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5),
    lambda lib, s, o: s.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="cubic"),
    lambda lib, s, o: _step_times(s.OneCycleLR(o, 0.1, total_steps=2), 3),
    lambda lib, s, o: s.ReduceLROnPlateau(o, factor=1.0),
    lambda lib, s, o: s.ReduceLROnPlateau(o, mode="middle"),
    lambda lib, s, o: s.ReduceLROnPlateau(o, threshold_mode="pct"),
    lambda lib, s, o: s.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda lib, s, o: s.SequentialLR(o, [], milestones=[]),
    lambda lib, s, o: s.SequentialLR(o, [s.StepLR(o, 2), s.StepLR(o, 3)], milestones=[]),
    lambda lib, s, o: s.SequentialLR(o, [s.StepLR(o, 2), s.ReduceLROnPlateau(o)], milestones=[3]),
    lambda lib, s, o: s.ChainedScheduler([]),
    lambda lib, s, o: s.ChainedScheduler([s.StepLR(o, 2), s.ReduceLROnPlateau(o)]),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_bad_arguments_raise_as_torch(index):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like(_err(torch, ERRORS[index]), _err(ember, ERRORS[index]))


def test_lambda_lr_state_dict_keeps_callable_objects_state():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = _optimizer(ember, groups=1)
    sched = ember.optim.lr_scheduler.LambdaLR(opt, Decay(0.5))
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}]
    other = ember.optim.lr_scheduler.LambdaLR(_optimizer(ember, groups=1), Decay(0.9))
    other.load_state_dict(state)
    assert other.lr_lambdas[0].rate == 0.5


@pytest.mark.parametrize("build", [_sched("CosineAnnealingLR", T_max=10), _sched("StepLR", step_size=3),
                                   _sched("ExponentialLR", gamma=0.9), _sched("LinearLR", total_iters=8),
                                   _sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=4),
                                   _sched("OneCycleLR", max_lr=0.5, total_steps=40)],
                         ids=lambda b: b.__name__)
def test_constructing_with_last_epoch_resumes_as_torch(build):
    """A scheduler built with last_epoch=N (the old way to resume) continues from the groups' initial_lr."""
    traces = []
    for lib in (torch, ember):
        opt = _optimizer(lib)
        first = build(lib, opt)
        for _ in range(6):
            opt.step()
            first.step()
        resumed = _rebuild(lib, build.__name__.split("-")[0], opt, last_epoch=first.last_epoch)
        trace = []
        for _ in range(10):
            opt.step()
            resumed.step()
            trace.append(list(resumed.get_last_lr()))
        traces.append(trace)
    assert [x for t in traces[1] for x in t] == pytest.approx([x for t in traces[0] for x in t], rel=1e-12)


def _rebuild(lib, name, opt, last_epoch):
    args = {"CosineAnnealingLR": dict(T_max=10), "StepLR": dict(step_size=3), "ExponentialLR": dict(gamma=0.9),
            "LinearLR": dict(total_iters=8), "CyclicLR": dict(base_lr=0.01, max_lr=0.1, step_size_up=4),
            "OneCycleLR": dict(max_lr=0.5, total_steps=40)}[name]
    return getattr(lib.optim.lr_scheduler, name)(opt, last_epoch=last_epoch, **args)
