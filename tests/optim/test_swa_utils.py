"""torch.optim.swa_utils against PyTorch: AveragedModel (SWA, EMA), SWALR schedules."""
import numpy as np
import pytest
import torch

import ember
from _optim_helpers import closure_for, make_models, params_np, raises_like


@pytest.mark.parametrize("kind", ["swa", "ema", "ema_multi", "swa_multi"])
def test_averaged_model_matches_torch(kind):
    t_model, e_model = make_models()
    averaged = []
    for lib, model in ((torch, t_model), (ember, e_model)):
        swa = lib.optim.swa_utils
        kwargs = {"swa": {}, "ema": dict(avg_fn=swa.get_ema_avg_fn(0.9)),
                  "ema_multi": dict(multi_avg_fn=swa.get_ema_multi_avg_fn(0.8)),
                  "swa_multi": dict(multi_avg_fn=swa.get_swa_multi_avg_fn())}[kind]
        avg = swa.AveragedModel(model, **kwargs)
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        for _ in range(6):
            opt.step(closure_for(lib, model, opt))
            avg.update_parameters(model)
        assert int(avg.n_averaged) == 6
        averaged.append(params_np(avg))
        assert [n for n, _ in avg.named_parameters()] == ["module.0.weight", "module.0.bias", "module.1.weight",
                                                          "module.1.bias"]
    for e, t in zip(averaged[1], averaged[0]):
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(swa_lr=0.05), dict(swa_lr=[0.01, 0.2], anneal_epochs=4,
                                                           anneal_strategy="linear"),
                                    dict(swa_lr=0.05, anneal_epochs=0)])
def test_swalr_lr_sequence_matches_torch(kwargs):
    traces, keys = [], []
    for lib in (torch, ember):
        params = [lib.zeros(2, requires_grad=True) for _ in range(2)]
        opt = lib.optim.SGD([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.5}])
        sched = lib.optim.swa_utils.SWALR(opt, **kwargs)
        trace = []
        for _ in range(15):
            trace.append(list(sched.get_last_lr()))
            opt.step()
            sched.step()
        traces.append(trace)
        keys.append(sorted(sched.state_dict()))
    assert keys[1] == keys[0]
    assert np.allclose(traces[1], traces[0], rtol=1e-12, atol=0)


def test_swa_errors_match_torch():
    t_model, e_model = make_models()
    for bad in (dict(anneal_strategy="step"), dict(anneal_epochs=-1)):
        raises_like(lambda: torch.optim.swa_utils.SWALR(torch.optim.SGD(t_model.parameters()), 0.1, **bad),
                    lambda: ember.optim.swa_utils.SWALR(ember.optim.SGD(e_model.parameters()), 0.1, **bad))
    raises_like(lambda: torch.optim.swa_utils.get_ema_avg_fn(1.5), lambda: ember.optim.swa_utils.get_ema_avg_fn(1.5))
