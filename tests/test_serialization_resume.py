"""Resuming training across libraries: a checkpoint (model with BatchNorm buffers + Adam + StepLR, epoch,
loss) saved by one of ember / torch and loaded by the other continues exactly as the saver would have."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 4)).astype(np.float32)
Y = RNG.standard_normal((6, 2)).astype(np.float32)


def _setup(lib, state=None):
    nn = lib.nn
    # NOTE: no bias before BatchNorm: its gradient is rounding noise that Adam would amplify.
    model = nn.Sequential(nn.Linear(4, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    if state is not None:
        model.load_state_dict(state)
    opt = lib.optim.Adam(model.parameters(), lr=0.05)
    sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def _train(lib, model, opt, sched, steps):
    x, y = lib.from_numpy(X), lib.from_numpy(Y)
    loss = None
    for _ in range(steps):
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
    return float(loss)


def _arrays(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _initial_state():
    torch.manual_seed(0)
    return _setup(torch)[0].state_dict()


@pytest.mark.parametrize("saver,loader", [(ember, torch), (torch, ember)])
def test_a_checkpoint_resumes_identically_in_the_other_library(tmp_path, saver, loader):
    init = {k: v.numpy().copy() for k, v in _initial_state().items()}
    model, opt, sched = _setup(saver, {k: saver.from_numpy(v.copy()) for k, v in init.items()})
    loss = _train(saver, model, opt, sched, 3)
    path = tmp_path / "ckpt.pt"
    saver.save({"epoch": 3, "loss": loss, "model": model.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict()}, path)
    ckpt = loader.load(path, weights_only=True)
    assert ckpt["epoch"] == 3 and ckpt["loss"] == loss
    assert ckpt["model"]["1.num_batches_tracked"].dtype == loader.int64
    fresh = {k: loader.zeros_like(v) for k, v in ckpt["model"].items()}  # resumed weights must come from ckpt
    model2, opt2, sched2 = _setup(loader, fresh)
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.025
    want_loss = _train(saver, model, opt, sched, 5)
    got_loss = _train(loader, model2, opt2, sched2, 5)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    np.testing.assert_allclose(got_loss, want_loss, rtol=1e-5)
    want, got = _arrays(model), _arrays(model2)
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=k)
    # and saving the resumed state again round-trips in the loader's own library
    loader.save({"optimizer": opt2.state_dict()}, tmp_path / "again.pt")
    again = saver.load(tmp_path / "again.pt")["optimizer"]
    assert sorted(again["state"]) == sorted(ckpt["optimizer"]["state"])
    assert int(again["state"][0]["step"]) == 8
