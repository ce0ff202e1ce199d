"""torch.amp.GradScaler("cpu") against PyTorch's, step by step: scale, unscale_, steps skipped on inf/nan,
growth and backoff of the scale, state_dict, the errors of misuse."""
import math

import numpy as np
import pytest
import torch

import ember


def _setup(lib, **kw):
    w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    return w, opt, lib.amp.GradScaler("cpu", **kw)


def _trace(lib, poison, **kw):
    """(scale, weights, grads, step result) after each iteration; `poison[i]` puts inf/nan in step i's loss."""
    w, opt, scaler = _setup(lib, **kw)
    seen = []
    for i, bad in enumerate(poison):
        opt.zero_grad()
        loss = (w * w).sum() * (bad if bad is not None else 1.0)
        scaled = scaler.scale(loss)
        seen.append(float(scaled.detach()))
        scaled.backward()
        if i % 2:
            scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        seen.append((scaler.get_scale(), w.detach().tolist(), w.grad.tolist(), scaler._get_growth_tracker()
                     if hasattr(scaler, "_get_growth_tracker") else None))
    return seen, scaler.state_dict()


def _same(a, b):
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("poison", [[None] * 5, [None, math.inf, None, None, -math.inf, None],
                                    [math.nan, None, None, None, None, None]], ids=["clean", "inf", "nan"])
def test_step_by_step_against_torch(poison):
    kw = dict(init_scale=8.0, growth_factor=4.0, backoff_factor=0.25, growth_interval=2)
    e, t = _trace(ember, poison, **kw), _trace(torch, poison, **kw)
    assert _same(e, t), (e, t)


def test_scale_of_low_precision_and_nested_outputs():
    for lib in (ember, torch):
        s = lib.amp.GradScaler("cpu")
        out = s.scale([lib.ones(2, dtype=lib.bfloat16), (lib.ones(1),)])
        assert out[0].dtype == lib.bfloat16 and float(out[0][0]) == 65536.0 and float(out[1][0][0]) == 65536.0
        assert s.get_scale() == 65536.0 and s.is_enabled()


def test_misuse_errors_match_torch():
    def errors(lib):
        found = []
        w, opt, s = _setup(lib)
        s.scale((w * w).sum()).backward()
        s.unscale_(opt)
        for call in (lambda: s.unscale_(opt), lambda: (s.step(opt), s.unscale_(opt)), lambda: s.step(opt)):
            try:
                call()
            except RuntimeError as err:
                found.append(str(err))
        s.update()
        half = lib.zeros(2, dtype=lib.float16, requires_grad=True)
        half.grad = lib.ones(2, dtype=lib.float16)
        o2 = lib.optim.SGD([half], lr=0.1)
        try:
            s.unscale_(o2)
        except ValueError as err:
            found.append(str(err))
        for bad in ((1.0, 2.0, 0.5), (2.0, 1.0, 1.0)):
            try:
                lib.amp.GradScaler("cpu", init_scale=bad[0], growth_factor=bad[1], backoff_factor=bad[2])
            except AssertionError as err:
                found.append(str(err))
        return found
    assert errors(ember) == errors(torch)


def test_disabled_and_state_dict_round_trip():
    for lib in (ember, torch):
        w, opt, s = _setup(lib, enabled=False)
        loss = (w * w).sum()
        assert s.scale(loss) is loss and s.get_scale() == 1.0 and s.state_dict() == {}
        w2, opt2, s2 = _setup(lib, init_scale=4.0)
        s2.scale((w2 * w2).sum()).backward()
        s2.step(opt2)
        s2.update(new_scale=16.0)
        state = s2.state_dict()
        assert state["scale"] == 16.0 and state["growth_factor"] == 2.0 and state["growth_interval"] == 2000
        s3 = lib.amp.GradScaler("cpu")
        s3.load_state_dict(state)
        assert s3.get_scale() == 16.0


def test_amp_gradscaler_cuda_without_cuda_matches_torch():
    import warnings

    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s = lib.amp.GradScaler()
            t = lib.GradScaler("cuda")
        return s.is_enabled(), t.is_enabled(), [str(w.message) for w in caught]
    if ember.cuda.is_available():
        pytest.skip("ember has cuda here (the stand-in)")
    assert run(ember) == run(torch)


def test_training_loop_with_autocast_and_scaler_matches_torch():
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Linear(4, 3)
        with lib.no_grad():
            model.weight.copy_(lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)))
            model.bias.zero_()
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=2.0 ** 10)
        x = lib.tensor(np.arange(8, dtype=np.float32).reshape(2, 4) / 8)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            with lib.autocast("cpu", dtype=lib.bfloat16):
                loss = lib.nn.functional.mse_loss(model(x), lib.zeros(2, 3))
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            losses.append(loss.item())
        return losses, model.weight.detach().numpy()
    (el, ew), (tl, tw) = run(ember), run(torch)
    np.testing.assert_allclose(el, tl, rtol=1e-2)
    np.testing.assert_allclose(ew, tw, rtol=1e-2, atol=1e-3)


def test_lazy_scale_and_update_errors_match_torch():
    def run(lib):
        found = []
        w = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        for call in (lambda s: s.step(opt), lambda s: s.update(), lambda s: s.unscale_(opt)):
            try:
                call(lib.amp.GradScaler("cpu"))
            except AssertionError as err:
                found.append(str(err))
        s = lib.amp.GradScaler("cpu")
        found.append((s.get_scale(), s._get_scale_async(), s.state_dict()))
        s.scale(w.sum())
        for call in (lambda: s.update(), lambda: s.update(lib.tensor([1.0, 2.0])), lambda: s.step(opt)):
            try:
                call()
            except AssertionError as err:
                found.append(str(err))
        s.update(lib.tensor(8.0))
        found.append(s.get_scale())
        s.load_state_dict({"scale": 4.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3,
                           "_growth_tracker": 1})
        found.append((s.get_scale(), s._get_growth_tracker()))
        fresh = lib.amp.GradScaler("cpu")
        fresh.load_state_dict(s.state_dict())
        found.append((fresh.get_scale(), fresh._get_scale_async(), fresh.state_dict()))
        return found
    assert run(ember) == run(torch)
