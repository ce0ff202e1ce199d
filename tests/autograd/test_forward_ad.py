"""Forward-mode AD (ember.autograd.forward_ad) against PyTorch's: every differentiable op of the generic
op test, dual levels, make_dual/unpack_dual and their errors, custom Function jvp, in-place ops and views."""
import os
import sys

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import ember
import ember.autograd.forward_ad as efw
from ember._ops import SPECS

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ops"))
import test_against_torch as generic  # noqa: E402  (the generic op test's input drawing)

# Ops where ember's tangent is wrong or missing: (reason). Each is a strict xfail.
KNOWN_GAPS = {}
# Where PyTorch's forward formula is not the transpose of its own backward for the drawn inputs, ember's
# tangent (derived from a backward that matches PyTorch's) is checked as that transpose instead:
# <J·t, g> equals <t, Jᵀg> with torch's Jᵀg. (checked in torch: its own jvp and vjp disagree there)
ADJOINT = {
    "linalg.cholesky-0": "torch's jvp reads a non-symmetric tangent whole, its backward assumes a symmetric one",
    "linalg.cholesky_ex-0": "as linalg.cholesky",
    "cholesky_inverse-0": "torch's jvp and vjp of cholesky_inverse disagree",
    "logcumsumexp-0_1": "torch's jvp underflows to 0 on inputs *300 (central differences agree with ember)",
}
# Where torch gives a floating-point output no tangent at all (it does not differentiate it in forward mode).
TORCH_NO_TANGENT = {"scatter_reduce_prod"}


# --- the sweep over every differentiable op ---------------------------------------------------------------
def _sweep_cases():
    seen = set()
    for spec in SPECS:
        if not spec.grad or "float64" not in spec.dtypes:
            continue
        for i, kw in enumerate(spec.kwargs):
            key = (spec.name, i, spec.call)
            if key in seen:
                continue
            seen.add(key)
            case = f"{spec.name}-{i}"
            marks = ()
            if case in KNOWN_GAPS:
                marks = pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[case])
            yield pytest.param(spec, kw, id=case, marks=marks)


def _inputs(spec, kw):
    """(torch inputs, ember inputs, keywords): the generic test's float64 inputs, equal on both sides."""
    rng = np.random.default_rng(0)
    if spec.sample is not None:
        t_in, e_in, extra = generic._sampled_inputs(spec, generic.Gen(rng, "float64", spec.domain))
        return t_in, e_in, {**kw, **extra}
    pairs = [generic._pair(generic._values(rng, shape, "float64", spec.domain), "float64")
             for shape in generic._small_shapes(spec)[: spec.arity]]
    return [p[0] for p in pairs], [p[1] for p in pairs], kw


def _float_leaves(values, kind):
    return [v for v in generic._tensors(values, kind) if v.is_floating_point()]


def _rebuild(structure, leaves, kind):
    """`structure` with its floating-point tensors replaced, in order, by `leaves`."""
    out = []
    for v in structure:
        if isinstance(v, kind) and v.is_floating_point():
            out.append(next(leaves))
        elif isinstance(v, (list, tuple)) and not isinstance(v, (torch.Size, ember.Size)):
            out.append(type(v)(_rebuild(v, leaves, kind)))
        else:
            out.append(v)
    return out


def _forward_tangents(mod, fw, spec, inputs, kw, tangents):
    kind = torch.Tensor if mod is torch else ember.Tensor
    with fw.dual_level():
        duals = [fw.make_dual(x, t) for x, t in zip(_float_leaves(inputs, kind), tangents)]
        out = generic._call(mod, spec, _rebuild(inputs, iter(duals), kind), kw)
        outs = generic._outputs(out)
        return [(o.detach().numpy().copy() if isinstance(o, kind) else o,
                 None if not isinstance(o, kind) or fw.unpack_dual(o).tangent is None
                 else _array(fw.unpack_dual(o).tangent)) for o in outs]


def _array(t):
    if isinstance(t, torch.Tensor) and t._is_zerotensor():  # NOTE: torch's lazily zero tangents
        return np.zeros(tuple(t.shape), dtype=np.float64)
    return t.detach().numpy().copy()


@pytest.mark.parametrize("spec,kw", list(_sweep_cases()))
def test_tangent_matches_torch(spec, kw, request):
    """The tangent of every output equals torch's forward-mode tangent on the same inputs and tangents."""
    t_in, e_in, kw = _inputs(spec, kw)
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(tuple(x.shape)) for x in _float_leaves(t_in, torch.Tensor)]
    if not arrays:
        pytest.skip("no floating-point input")
    e_tangents = [ember.from_numpy(a) for a in arrays]
    try:
        t_res = _forward_tangents(torch, tfw, spec, t_in, kw, [torch.from_numpy(a) for a in arrays])
    except (RuntimeError, NotImplementedError, IndexError, ValueError) as exc:
        plain, refused = generic._attempt(lambda: generic._call(torch, spec, t_in, kw))
        if refused is not None:  # an error case of the generic test: ember refuses it in forward mode too
            with pytest.raises(type(refused)):
                _forward_tangents(ember, efw, spec, e_in, kw, e_tangents)
            return
        # torch has no forward formula: ember's tangent is checked as the transpose of torch's backward
        assert "forward AD" in str(exc), exc
        e_res = _forward_tangents(ember, efw, spec, e_in, kw, e_tangents)
        _check_adjoint(spec, t_in, kw, arrays, [e_tan for _, e_tan in e_res])
        return
    e_res = _forward_tangents(ember, efw, spec, e_in, kw, e_tangents)
    assert len(e_res) == len(t_res)
    if request.node.callspec.id in ADJOINT:
        _check_adjoint(spec, t_in, kw, arrays, [e_tan for _, e_tan in e_res])
        return
    for (t_val, t_tan), (e_val, e_tan) in zip(t_res, e_res):
        if t_tan is None and spec.name in TORCH_NO_TANGENT:
            continue
        if t_tan is None:
            assert e_tan is None or not np.any(e_tan), "ember gives a tangent where torch has none"
            continue
        assert e_tan is not None, "ember lost the tangent"
        assert e_tan.shape == t_tan.shape
        np.testing.assert_allclose(e_tan, t_tan, rtol=1e-6, atol=1e-8)


def _check_adjoint(spec, t_in, kw, arrays, e_tans):
    leaves = [x.detach().requires_grad_(True) for x in _float_leaves(t_in, torch.Tensor)]
    out = generic._call(torch, spec, _rebuild(t_in, iter(leaves), torch.Tensor), kw)
    outs = [o for o in generic._outputs(out) if isinstance(o, torch.Tensor) and o.is_floating_point()]
    rng = np.random.default_rng(2)
    cots = [torch.from_numpy(rng.standard_normal(tuple(o.shape))) for o in outs]
    vjps = torch.autograd.grad(outs, leaves, cots, allow_unused=True)
    rhs = sum(float((torch.from_numpy(a) * v).sum()) for a, v in zip(arrays, vjps) if v is not None)
    lhs = sum(float((e * c.numpy()).sum()) for e, c in zip(e_tans, cots) if e is not None)
    assert lhs == pytest.approx(rhs, rel=1e-6, abs=1e-8)
