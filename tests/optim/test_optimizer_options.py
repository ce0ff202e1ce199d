"""Every torch.optim optimizer with every constructor option PyTorch accepts on the CPU, against PyTorch.

Each case runs 20 float64 steps from the same parameters in both libraries and compares the parameters after
every step and the final state_dict (values, dtypes, param-group entries) to 1e-10; an option PyTorch refuses
(capturable=True on the CPU, a Tensor lr with foreach=True, ...) must raise PyTorch's exception type and message
at the same moment (construction or step). Tensor hyperparameters are written `_T(value, dtype)` and built in
each library. `differentiable=True` needs non-leaf parameters, so it has its own cases, which also compare the
gradient of the final parameters with respect to the initial ones (backpropagation through every step).
"""
import warnings

import numpy as np
import pytest
import torch

import ember
from _device import ON_CUDA, TORCH_DEVICE
from _optim_helpers import closure_for, make_models, params_np

STEPS = 20
TOL = 1e-10
# NOTE: a float32 tensor hyperparameter (betas=(tensor(0.8), ...)) makes PyTorch compute its bias
# corrections in float32, whose pow/lerp kernels differ by an ulp between CPUs (AVX2 vs AVX512 builds
# of the same wheel): the trajectories then agree to float32's precision, not float64's.
FLOAT32_TOL = 2e-6


def _tol(kwargs):
    tensors = [v for v in _flatten(kwargs.values()) if hasattr(v, "dtype")]
    return FLOAT32_TOL if any(str(v.dtype).endswith("float32") for v in tensors) else TOL


def _flatten(values):
    for v in values:
        if isinstance(v, (tuple, list)):
            yield from _flatten(v)
        else:
            yield v


class _T:
    """A Tensor hyperparameter, made in each library: `_T(0.05)` is `lib.tensor(0.05)` (float32, as PyTorch)."""

    def __init__(self, value, dtype="float32", shape=()):
        self.value, self.dtype, self.shape = value, dtype, shape

    def make(self, lib):
        return lib.full(self.shape, self.value, dtype=getattr(lib, self.dtype))

    def __repr__(self):
        return f"T({self.value},{self.dtype}{',' + str(self.shape) if self.shape else ''})"


def _build(lib, value):
    if isinstance(value, _T):
        return value.make(lib)
    if isinstance(value, tuple):
        return tuple(_build(lib, v) for v in value)
    return value


TL = _T(0.05)  # the case: a float32 tensor lr
TL64 = _T(0.05, "float64")
TB = (_T(0.8), _T(0.99))

# (optimizer, kwargs) — every option on its own over a base that moves, then options together.
CASES = [
    ("SGD", dict(lr=TL)), ("SGD", dict(lr=TL64)), ("SGD", dict(lr=_T(0.1, shape=(1,)))),
    ("SGD", dict(lr=TL, momentum=0.9)), ("SGD", dict(lr=TL, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, maximize=True)),
    ("SGD", dict(lr=0.1, weight_decay=_T(0.1))), ("SGD", dict(lr=TL, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, foreach=True)), ("SGD", dict(lr=TL, momentum=0.9, foreach=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1, maximize=True, foreach=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, fused=True)), ("SGD", dict(lr=TL, momentum=0.9, fused=True)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True, fused=True)),
    ("SGD", dict(lr=0.1, foreach=False, fused=False)), ("SGD", dict(lr=0.1, foreach=True, fused=True)),
    ("SGD", dict(lr=0.1, capturable=True)),
]
for _adam in ("Adam", "AdamW"):
    CASES += [
        (_adam, dict(lr=TL)), (_adam, dict(lr=TL64)), (_adam, dict(lr=_T(0.05, shape=(1,)))),
        (_adam, dict(lr=0.05, betas=TB)), (_adam, dict(lr=TL, betas=TB)),
        (_adam, dict(lr=0.05, betas=(_T(0.8, "float64"), _T(0.99, "float64")))),
        (_adam, dict(lr=0.05, betas=(0.8, _T(0.99)))),
        (_adam, dict(lr=TL, amsgrad=True, weight_decay=0.1)), (_adam, dict(lr=TL, maximize=True, eps=1e-4)),
        (_adam, dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True, foreach=True)),
        (_adam, dict(lr=0.05, betas=(0.8, 0.99), amsgrad=True, foreach=False)),
        (_adam, dict(lr=TL, foreach=True)), (_adam, dict(lr=0.05, betas=TB, foreach=True)),
        (_adam, dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True, fused=True)),
        (_adam, dict(lr=TL, betas=TB, fused=True)), (_adam, dict(lr=0.05, fused=True, foreach=True)),
        (_adam, dict(lr=0.05, fused=False)),
        (_adam, dict(lr=0.05, capturable=True)), (_adam, dict(lr=TL, capturable=True, foreach=True)),
    ]
CASES += [
    ("Adam", dict(lr=TL, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True, foreach=True)),
    ("Adam", dict(lr=TL, weight_decay=0.1, decoupled_weight_decay=True, fused=True)),
    ("AdamW", dict(lr=TL, weight_decay=0.2)),
    ("Adamax", dict(lr=TL)), ("Adamax", dict(lr=TL64, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.05, betas=TB)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True, eps=1e-4, foreach=True)),
    ("Adamax", dict(lr=TL, foreach=True)), ("Adamax", dict(lr=0.05, foreach=False)),
    ("Adamax", dict(lr=0.05, capturable=True)),
    ("NAdam", dict(lr=TL)), ("NAdam", dict(lr=TL, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=TL, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("NAdam", dict(lr=0.05, betas=TB)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True, foreach=True)),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1, foreach=True)),
    ("NAdam", dict(lr=TL, foreach=True)), ("NAdam", dict(lr=0.05, foreach=False)),
    ("NAdam", dict(lr=0.05, capturable=True)),
    ("RAdam", dict(lr=TL)), ("RAdam", dict(lr=TL, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=TL, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05, betas=TB)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1, maximize=True, foreach=True)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True, foreach=True)),
    ("RAdam", dict(lr=TL, foreach=True)), ("RAdam", dict(lr=0.05, foreach=False)),
    ("RAdam", dict(lr=0.05, capturable=True)),
    ("Adadelta", dict(lr=_T(0.5))), ("Adadelta", dict(lr=_T(0.5), rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True, foreach=True)),
    ("Adadelta", dict(lr=_T(0.5), foreach=True)), ("Adadelta", dict(foreach=False)),
    ("Adadelta", dict(capturable=True)),
    ("Adagrad", dict(lr=_T(0.1))), ("Adagrad", dict(lr=_T(0.1), lr_decay=0.05, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=_T(0.1), initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5, foreach=True)),
    ("Adagrad", dict(lr=_T(0.1), foreach=True)), ("Adagrad", dict(lr=0.1, foreach=False)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5, maximize=True,
                     fused=True)),
    ("Adagrad", dict(lr=_T(0.1), fused=True)), ("Adagrad", dict(lr=0.1, fused=True, foreach=True)),
    ("RMSprop", dict(lr=_T(0.01))), ("RMSprop", dict(lr=_T(0.01), centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=_T(0.01), alpha=0.9, momentum=0.5, maximize=True)),
    ("RMSprop", dict(alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1, maximize=True, foreach=True)),
    ("RMSprop", dict(lr=_T(0.01), foreach=True)), ("RMSprop", dict(foreach=False)),
    ("RMSprop", dict(capturable=True)),
    ("Rprop", dict(lr=_T(0.01))), ("Rprop", dict(lr=_T(0.05), etas=(0.3, 1.5), step_sizes=(1e-3, 0.02))),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.02), maximize=True, foreach=True)),
    ("Rprop", dict(lr=_T(0.01), foreach=True)), ("Rprop", dict(foreach=False)),
    ("Rprop", dict(capturable=True)),
    ("ASGD", dict(lr=_T(0.1))), ("ASGD", dict(lr=_T(0.1), lambd=1e-2, alpha=0.6, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.1, maximize=True, foreach=True)),
    ("ASGD", dict(lr=0.1, lambd=1e-2, alpha=0.6, t0=5, weight_decay=0.1, foreach=True)),
    ("ASGD", dict(lr=_T(0.1), foreach=True)), ("ASGD", dict(lr=0.1, foreach=False)),
    ("ASGD", dict(lr=0.1, capturable=True)),
    ("Adafactor", dict(lr=TL)), ("Adafactor", dict(lr=TL, weight_decay=0.1, maximize=True)),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=1.5, weight_decay=0.1, foreach=True)),
    ("Adafactor", dict(lr=TL, foreach=True)), ("Adafactor", dict(lr=0.05, foreach=False)),
    ("LBFGS", dict(lr=_T(0.5), max_iter=3)), ("LBFGS", dict(lr=_T(1.0, "float64"), max_iter=3, history_size=2)),
    ("LBFGS", dict(lr=_T(1.0), max_iter=4, line_search_fn="strong_wolfe")),
    ("SparseAdam", dict(lr=TL)), ("SparseAdam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CASES]


def _run(lib, name, kwargs):
    """('ok', trajectory, state_dict) or ('raise', phase, exception) for 20 steps of the optimizer."""
    model = make_models()[0 if lib is torch else 1]
    try:
        opt = getattr(lib.optim, name)(model.parameters(), **{k: _build(lib, v) for k, v in kwargs.items()})
    except Exception as exc:  # noqa: BLE001
        return "raise", "init", exc
    closure = closure_for(lib, model, opt)
    steps = 3 if name == "LBFGS" else STEPS
    trajectory = []
    try:
        for _ in range(steps):
            opt.step(closure)
            trajectory.append(params_np(model))
    except Exception as exc:  # noqa: BLE001
        return "raise", f"step {len(trajectory) + 1}", exc
    return "ok", trajectory, opt.state_dict()


def _assert_same_value(e, t, where, tol=TOL):
    """ember's state_dict entry `e` equals torch's `t`: same kind, tensor dtype and shape, values to TOL."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{where}: torch has a tensor, ember {e!r}"
        assert str(e.dtype).replace("ember.", "torch.") == str(t.dtype), f"{where}: {e.dtype} vs {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), where
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol, err_msg=where)
    elif isinstance(t, (list, tuple, dict)):
        assert type(e) is type(t) and len(e) == len(t), f"{where}: {e!r} vs {t!r}"
        if isinstance(t, dict):
            assert sorted(e, key=str) == sorted(t, key=str), f"{where}: keys {sorted(e, key=str)} vs {sorted(t, key=str)}"
            for k in t:
                _assert_same_value(e[k], t[k], f"{where}[{k!r}]", tol)
        else:
            for i, (ee, tt) in enumerate(zip(e, t)):
                _assert_same_value(ee, tt, f"{where}[{i}]", tol)
    elif isinstance(t, float):
        assert type(e) is float, f"{where}: {e!r} vs {t!r}"
        np.testing.assert_allclose(e, t, rtol=tol, atol=tol, err_msg=where)
    else:
        assert type(e) is type(t) and e == t, f"{where}: {e!r} vs {t!r}"


def _assert_same_outcome(e_out, t_out, tol=TOL):
    if t_out[0] == "raise" or e_out[0] == "raise":
        assert e_out[0] == t_out[0], f"torch: {t_out[1:]}; ember: {e_out[1:]}"
        (e_phase, e_exc), (t_phase, t_exc) = e_out[1:], t_out[1:]
        assert (e_phase, type(e_exc).__name__, str(e_exc)) == (t_phase, type(t_exc).__name__, str(t_exc))
        return
    for step, (e_params, t_params) in enumerate(zip(e_out[1], t_out[1])):
        for e, t in zip(e_params, t_params):
            np.testing.assert_allclose(e, t, rtol=tol, atol=tol, err_msg=f"step {step + 1}")
    _assert_same_value(e_out[2], t_out[2], "state_dict", tol)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_option_matches_torch(name, kwargs):
    if kwargs.get("capturable") and ON_CUDA and TORCH_DEVICE == "cpu":
        pytest.skip("capturable=True: torch refuses it for CPU parameters, ember's are on cuda here")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = _run(torch, name, kwargs)
        e_out = _run(ember, name, kwargs)
    _assert_same_outcome(e_out, t_out, _tol(kwargs))


def test_float32_scalar_math_of_tensor_hyperparameters_rounds_as_torch():
    """The two core roundings a float32 tensor beta/lr goes through: `beta ** step` (PyTorch rounds the double
    power once, and computes x**3 as x*x*x) and `lr / bias_correction` (PyTorch's number / tensor is
    reciprocal(tensor) * number)."""
    x = np.random.default_rng(0).random(2000).astype(np.float32) + 0.5
    for exponent in (3.0, 2.5, 7.0, -2.0, -0.5, 17.0):
        expected = np.array([(torch.tensor(float(v)) ** exponent).item() for v in x[:300]], dtype=np.float32)
        np.testing.assert_array_equal((ember.from_numpy(x[:300]) ** exponent).numpy(), expected, err_msg=str(exponent))
    steps = x * 10
    expected = np.array([(0.9 ** torch.tensor(float(v))).item() for v in steps[:300]], dtype=np.float32)
    np.testing.assert_array_equal((0.9 ** ember.from_numpy(steps[:300])).numpy(), expected)
    np.testing.assert_array_equal((0.05 / ember.from_numpy(x)).numpy(), (0.05 / torch.from_numpy(x)).numpy())


# --- differentiable=True: non-leaf parameters, the step recorded by autograd ---------------------------------
DIFF_STEPS = 8  # the graph through every step grows with each one; 8 already pass rho_t > 5 in RAdam and t0 in ASGD
INITS = [np.random.default_rng(3).standard_normal(s) for s in ((3, 4), (3,), (2, 3))]
WEIGHTS = [np.random.default_rng(4).standard_normal(s) for s in ((3, 4), (3,), (2, 3))]
DIFFERENTIABLE = [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=TL, momentum=0.9)),
    ("Adam", dict(lr=0.05)), ("Adam", dict(lr=TL, betas=TB, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),  # PyTorch's backward fails: so must ours
    ("AdamW", dict(lr=0.05, weight_decay=0.2)), ("Adamax", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05)), ("NAdam", dict(lr=TL, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9))), ("Adadelta", dict(weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)), ("RMSprop", dict(centered=True, momentum=0.5)),
    ("Rprop", dict()), ("ASGD", dict(lr=0.1, t0=5)),
    ("Adam", dict(lr=0.05, fused=True)), ("SGD", dict(lr=0.1, foreach=True)),
]


def _run_differentiable(lib, name, kwargs):
    """DIFF_STEPS steps on clones of leaves, gradients set from the parameters' values; then d(sum w*p)/d(leaves)."""
    leaves = [lib.tensor(a.copy(), dtype=lib.float64, requires_grad=True) for a in INITS]
    params = [leaf.clone() for leaf in leaves]
    try:
        opt = getattr(lib.optim, name)(params, differentiable=True, **{k: _build(lib, v) for k, v in kwargs.items()})
    except Exception as exc:  # noqa: BLE001
        return "raise", "init", exc
    trajectory = []
    try:
        for _ in range(DIFF_STEPS):
            for p in params:
                value = p.detach().numpy()
                p.grad = lib.from_numpy(np.sin(3 * value) + 0.1 * value)
            opt.step()
            trajectory.append([p.detach().numpy().copy() for p in params])
        loss = sum((p * lib.from_numpy(w)).sum() for p, w in zip(params, WEIGHTS))
        grads = lib.autograd.grad(loss, leaves)
    except Exception as exc:  # noqa: BLE001
        return "raise", f"step {len(trajectory) + 1}", exc
    return "ok", trajectory, opt.state_dict(), grads


@pytest.mark.parametrize("name,kwargs", DIFFERENTIABLE)
@pytest.mark.host_only(reason="messages name torch.cuda.DoubleTensor")
def test_differentiable_step_and_its_gradient_match_torch(name, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = _run_differentiable(torch, name, kwargs)
        e_out = _run_differentiable(ember, name, kwargs)
    # NOTE: with differentiable=True PyTorch keeps `step` as a float32 tensor, so its bias corrections are
    # float32 math whatever the hyperparameters (see FLOAT32_TOL)
    _assert_same_outcome(e_out[:3], t_out[:3], FLOAT32_TOL)
    if t_out[0] == "ok":
        for e, t in zip(e_out[3], t_out[3]):
            np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
@pytest.mark.parametrize("order", [(0, 1, 2), (1, 0), (0, 1)], ids=["float-complex-float", "complex-first", "float-complex"])
@pytest.mark.host_only(reason="the message names the device")
def test_fused_refuses_complex_parameters_as_torch(name, order):
    """fused=True on complex parameters: PyTorch's check of the first parameter, or its kernel's refusal."""
    outcomes = []
    for lib in (torch, ember):
        made = [lib.ones(2, dtype=dtype, requires_grad=True) for dtype in (lib.float64, lib.complex128, lib.float64)]
        params = [made[i] for i in order]
        opt = getattr(lib.optim, name)(params, lr=0.1, fused=True)
        for p in params:
            p.grad = lib.ones(2, dtype=p.dtype)
        try:
            opt.step()
            outcomes.append(("ok", [p.detach().real.sum().item() for p in params]))
        except Exception as exc:  # noqa: BLE001
            outcomes.append((type(exc).__name__, str(exc), [p.detach().real.sum().item() for p in params]))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("op", ["addcmul_", "addcdiv_"])
@pytest.mark.parametrize("modified", ["tensor1", "tensor2"])
@pytest.mark.host_only(reason="the message names torch.cuda.DoubleTensor")
def test_addcmul_addcdiv_save_what_torch_saves(op, modified):
    """Rprop's differentiable step updates an operand that needs no gradient in place after using it.
    PyTorch saves only what the needed gradients use (addcdiv keeps tensor2 always), so whether a later
    in-place update of an operand breaks the backward is PyTorch's, not an artefact of saving everything."""
    outcomes = []
    for lib in (torch, ember):
        leaf = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        p, a, b = leaf.clone(), lib.tensor([0.5, -1.0], dtype=lib.float64), lib.tensor([2.0, 3.0], dtype=lib.float64)
        getattr(p, op)(a, b, value=-1)
        (a if modified == "tensor1" else b).mul_(2)
        try:
            (p * p).sum().backward()
            outcomes.append(leaf.grad.tolist())
        except RuntimeError as exc:
            outcomes.append(str(exc))
    assert outcomes[1] == outcomes[0]
