"""CPU autocast's op lists against PyTorch: each op's output dtype (and values, to the low dtype's precision)
under torch.autocast("cpu") with bfloat16 and float16, from float32 and from low-precision inputs."""
import numpy as np
import pytest
import torch

import ember

# NOTE: CPU autocast acts on CPU tensors; with ember's tensors on cuda (the stand-in) the CUDA policy applies,
# which tests/amp/test_autocast_cuda.py checks
pytestmark = pytest.mark.host_only("CPU autocast: PyTorch's CPU policy, on CPU tensors")

from ember.amp import _policy

RNG = np.random.default_rng(0)


def _arr(*shape, positive=False, spd=False):
    a = RNG.standard_normal(shape).astype(np.float32)
    if spd:
        a = a @ a.T + shape[0] * np.eye(shape[0], dtype=np.float32)
    return np.abs(a) + 0.5 if positive else a


def _probs(*shape):
    return RNG.uniform(0.1, 0.9, shape).astype(np.float32)


# name -> (arrays, call(lib, *tensors)); the arrays are float32 inputs the test makes tensors of in each library
S = {
    "conv1d": ([_arr(1, 2, 6), _arr(3, 2, 3)], lambda t, x, w: t.conv1d(x, w)),
    "conv2d": ([_arr(1, 2, 5, 5), _arr(3, 2, 3, 3)], lambda t, x, w: t.conv2d(x, w)),
    "conv3d": ([_arr(1, 2, 4, 4, 4), _arr(3, 2, 2, 2, 2)], lambda t, x, w: t.conv3d(x, w)),
    "F.conv1d": ([_arr(1, 2, 6), _arr(3, 2, 3), _arr(3)], lambda t, x, w, b: t.nn.functional.conv1d(x, w, b)),
    "F.conv2d": ([_arr(2, 2, 5, 5), _arr(3, 2, 3, 3), _arr(3)], lambda t, x, w, b: t.nn.functional.conv2d(x, w, b)),
    "F.conv3d": ([_arr(1, 2, 4, 4, 4), _arr(3, 2, 2, 2, 2)], lambda t, x, w: t.nn.functional.conv3d(x, w)),
    "conv_transpose1d": ([_arr(1, 2, 5), _arr(2, 3, 3)], lambda t, x, w: t.conv_transpose1d(x, w)),
    "conv_transpose2d": ([_arr(1, 2, 4, 4), _arr(2, 3, 3, 3)], lambda t, x, w: t.conv_transpose2d(x, w)),
    "conv_transpose3d": ([_arr(1, 2, 3, 3, 3), _arr(2, 3, 2, 2, 2)], lambda t, x, w: t.conv_transpose3d(x, w)),
    "F.conv_transpose1d": ([_arr(1, 2, 5), _arr(2, 3, 3)], lambda t, x, w: t.nn.functional.conv_transpose1d(x, w)),
    "F.conv_transpose2d": ([_arr(1, 2, 4, 4), _arr(2, 3, 3, 3), _arr(3)],
                           lambda t, x, w, b: t.nn.functional.conv_transpose2d(x, w, b)),
    "F.conv_transpose3d": ([_arr(1, 2, 3, 3, 3), _arr(2, 3, 2, 2, 2)],
                           lambda t, x, w: t.nn.functional.conv_transpose3d(x, w)),
    "bmm": ([_arr(2, 3, 4), _arr(2, 4, 5)], lambda t, a, b: t.bmm(a, b)),
    "mm": ([_arr(3, 4), _arr(4, 5)], lambda t, a, b: a.mm(b)),
    "linalg.vecdot": ([_arr(3, 4), _arr(3, 4)], lambda t, a, b: t.linalg.vecdot(a, b)),
    "baddbmm": ([_arr(2, 3, 5), _arr(2, 3, 4), _arr(2, 4, 5)], lambda t, c, a, b: t.baddbmm(c, a, b)),
    "addmm": ([_arr(3, 5), _arr(3, 4), _arr(4, 5)], lambda t, c, a, b: t.addmm(c, a, b)),
    "addbmm": ([_arr(3, 5), _arr(2, 3, 4), _arr(2, 4, 5)], lambda t, c, a, b: c.addbmm(a, b)),
    "F.linear": ([_arr(2, 3, 4), _arr(5, 4), _arr(5)], lambda t, x, w, b: t.nn.functional.linear(x, w, b)),
    "matmul": ([_arr(4), _arr(4)], lambda t, a, b: t.matmul(a, b)),
    "Tensor.__matmul__": ([_arr(2, 3, 4), _arr(4, 2)], lambda t, a, b: a @ b),
    "Tensor.__rmatmul__": ([_arr(3, 4), _arr(4)], lambda t, a, b: b.__rmatmul__(a)),
    "prelu": ([_arr(2, 3, 4), _arr(3)], lambda t, x, w: t.prelu(x, w)),
    "F.prelu": ([_arr(2, 3, 4), _arr(1)], lambda t, x, w: t.nn.functional.prelu(x, w)),
    "F.scaled_dot_product_attention": ([_arr(1, 2, 3, 4), _arr(1, 2, 5, 4), _arr(1, 2, 5, 4)],
                                       lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v)),
    # float32 list
    "F.avg_pool3d": ([_arr(1, 2, 4, 4, 4)], lambda t, x: t.nn.functional.avg_pool3d(x, 2)),
    "F.binary_cross_entropy": ([_probs(3, 4), _probs(3, 4)],
                               lambda t, x, y: t.nn.functional.binary_cross_entropy(x, y)),
    "F.grid_sample": ([_arr(1, 2, 4, 4), RNG.uniform(-1, 1, (1, 3, 3, 2)).astype(np.float32)],
                      lambda t, x, g: t.nn.functional.grid_sample(x, g, align_corners=False)),
    "polar": ([_arr(4, positive=True), _arr(4)], lambda t, a, b: t.polar(a, b)),
    "prod": ([_arr(3, 4)], lambda t, x: x.prod(1)),
    "quantile": ([_arr(9)], lambda t, x: t.quantile(x, 0.3)),
    "nanquantile": ([_arr(9)], lambda t, x: t.nanquantile(x, 0.3)),
    "cdist": ([_arr(3, 4), _arr(5, 4)], lambda t, a, b: t.cdist(a, b)),
    "trace": ([_arr(4, 4)], lambda t, x: t.trace(x)),
    "view_as_complex": ([_arr(3, 2)], lambda t, x: t.view_as_complex(x)),
    "cholesky_inverse": ([np.tril(_arr(3, 3)) + 4 * np.eye(3, dtype=np.float32)],
                         lambda t, x: t.cholesky_inverse(x)),
    "cholesky_solve": ([_arr(3, 2), np.tril(_arr(3, 3)) + 4 * np.eye(3, dtype=np.float32)],
                       lambda t, b, u: t.cholesky_solve(b, u)),
    "inverse": ([_arr(3, 3, spd=True)], lambda t, x: t.inverse(x)),
    "pinverse": ([_arr(3, 4)], lambda t, x: t.pinverse(x)),
    "F.max_pool3d": ([_arr(1, 2, 4, 4, 4)], lambda t, x: t.nn.functional.max_pool3d(x, 2)),
    "F.adaptive_avg_pool3d": ([_arr(1, 2, 4, 4, 4)], lambda t, x: t.nn.functional.adaptive_avg_pool3d(x, 2)),
    "F.adaptive_max_pool3d": ([_arr(1, 2, 4, 4, 4)], lambda t, x: t.nn.functional.adaptive_max_pool3d(x, 2)),
    "F.mse_loss": ([_arr(3, 4), _arr(3, 4)], lambda t, x, y: t.nn.functional.mse_loss(x, y)),
    "F.l1_loss": ([_arr(3, 4), _arr(3, 4)], lambda t, x, y: t.nn.functional.l1_loss(x, y)),
    "F.smooth_l1_loss": ([_arr(3, 4), _arr(3, 4)], lambda t, x, y: t.nn.functional.smooth_l1_loss(x, y)),
    "F.huber_loss": ([_arr(3, 4), _arr(3, 4)], lambda t, x, y: t.nn.functional.huber_loss(x, y)),
    "F.soft_margin_loss": ([_arr(3, 4), np.sign(_arr(3, 4))], lambda t, x, y: t.nn.functional.soft_margin_loss(x, y)),
    "F.kl_div": ([_arr(3, 4), _probs(3, 4)], lambda t, x, y: t.nn.functional.kl_div(x, y, reduction="batchmean")),
    "F.cross_entropy": ([_arr(3, 5)], lambda t, x: t.nn.functional.cross_entropy(x, t.tensor([0, 4, 2]))),
    "F.nll_loss": ([_arr(3, 5)], lambda t, x: t.nn.functional.nll_loss(x, t.tensor([0, 4, 2]))),
    "F.multi_margin_loss": ([_arr(3, 5)], lambda t, x: t.nn.functional.multi_margin_loss(x, t.tensor([0, 4, 2]))),
    "F.multilabel_margin_loss": ([_arr(2, 4)], lambda t, x: t.nn.functional.multilabel_margin_loss(
        x, t.tensor([[3, 0, -1, 1], [1, -1, 0, 0]]))),
    "F.hinge_embedding_loss": ([_arr(3, 4), np.sign(_arr(3, 4))],
                               lambda t, x, y: t.nn.functional.hinge_embedding_loss(x, y)),
    "F.poisson_nll_loss": ([_arr(3, 4), _probs(3, 4)], lambda t, x, y: t.nn.functional.poisson_nll_loss(x, y)),
    "F.margin_ranking_loss": ([_arr(4), _arr(4), np.sign(_arr(4))],
                              lambda t, a, b, y: t.nn.functional.margin_ranking_loss(a, b, y)),
    "F.cosine_embedding_loss": ([_arr(3, 4), _arr(3, 4), np.sign(_arr(3))],
                                lambda t, a, b, y: t.nn.functional.cosine_embedding_loss(a, b, y)),
    "F.triplet_margin_loss": ([_arr(3, 4), _arr(3, 4), _arr(3, 4)],
                              lambda t, a, p, n: t.nn.functional.triplet_margin_loss(a, p, n)),
    "F.binary_cross_entropy_with_logits": ([_arr(3, 4), _probs(3, 4)],
                                           lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(x, y)),
    "F.ctc_loss": ([_arr(6, 1, 4)], lambda t, x: t.nn.functional.ctc_loss(
        x.log_softmax(2), t.tensor([[1, 2]]), t.tensor([6]), t.tensor([2]))),
    "fft.fft": ([_arr(8)], lambda t, x: t.fft.fft(x)),
    "fft.rfft": ([_arr(8)], lambda t, x: t.fft.rfft(x)),
    "fft.ifft": ([_arr(8)], lambda t, x: t.fft.ifft(x)),
    "fft.irfft": ([_arr(5)], lambda t, x: t.fft.irfft(x)),
    "fft.fft2": ([_arr(4, 4)], lambda t, x: t.fft.fft2(x)),
    "fft.rfftn": ([_arr(4, 4)], lambda t, x: t.fft.rfftn(x)),
    "fft.hfft": ([_arr(5)], lambda t, x: t.fft.hfft(x)),
    "fft.ihfft": ([_arr(8)], lambda t, x: t.fft.ihfft(x)),
    "linalg.inv": ([_arr(3, 3, spd=True)], lambda t, x: t.linalg.inv(x)),
    "linalg.solve": ([_arr(3, 3, spd=True), _arr(3, 2)], lambda t, a, b: t.linalg.solve(a, b)),
    "linalg.cholesky": ([_arr(3, 3, spd=True)], lambda t, x: t.linalg.cholesky(x)),
    "linalg.svdvals": ([_arr(3, 4)], lambda t, x: t.linalg.svdvals(x)),
    "linalg.eigvalsh": ([_arr(3, 3, spd=True)], lambda t, x: t.linalg.eigvalsh(x)),
    "linalg.cond": ([_arr(3, 3, spd=True)], lambda t, x: t.linalg.cond(x)),
    "linalg.matrix_rank": ([_arr(3, 3)], lambda t, x: t.linalg.matrix_rank(x)),
    "linalg.qr": ([_arr(4, 3)], lambda t, x: t.linalg.qr(x)[1].abs()),
    "linalg.eigh": ([_arr(3, 3, spd=True)], lambda t, x: t.linalg.eigh(x)[0]),
    "linalg.inv_ex": ([_arr(3, 3, spd=True)], lambda t, x: t.linalg.inv_ex(x)[0]),
    "linalg.cholesky_ex": ([_arr(3, 3, spd=True)], lambda t, x: t.linalg.cholesky_ex(x)[0]),
    "linalg.lstsq": ([_arr(4, 3), _arr(4, 2)], lambda t, a, b: t.linalg.lstsq(a, b)[0]),
    "linalg.tensorinv": ([_arr(4, 4, spd=True).reshape(4, 2, 2)], lambda t, x: t.linalg.tensorinv(x, ind=1)),
    "linalg.tensorsolve": ([_arr(4, 4, spd=True).reshape(2, 2, 4), _arr(2, 2)],
                           lambda t, a, b: t.linalg.tensorsolve(a, b)),
    "linalg.householder_product": ([_arr(4, 3), _arr(3) * 0.5], lambda t, a, tau: t.linalg.householder_product(a, tau)),
    "linalg.eigvals": ([_arr(3, 3, spd=True)], lambda t, x: t.linalg.eigvals(x).real),
    "svd": ([_arr(4, 3)], lambda t, x: t.svd(x)[1]),
    "qr": ([_arr(4, 3)], lambda t, x: t.qr(x)[1].abs()),
    "triangular_solve": ([_arr(3, 2), np.triu(_arr(3, 3)) + 4 * np.eye(3, dtype=np.float32)],
                         lambda t, b, a: t.triangular_solve(b, a)[0]),
    "F.fractional_max_pool2d": ([_arr(1, 2, 6, 6)], lambda t, x: t.nn.functional.fractional_max_pool2d(
        x, 2, output_size=3, _random_samples=t.full((1, 2, 2), 0.5))),
    "F.fractional_max_pool3d": ([_arr(1, 2, 4, 4, 4)], lambda t, x: t.nn.functional.fractional_max_pool3d(
        x, 2, output_size=2, _random_samples=t.full((1, 2, 3), 0.5))),
    "F.max_unpool2d": ([_arr(1, 2, 4, 4)], lambda t, x: t.nn.functional.max_unpool2d(
        *t.nn.functional.max_pool2d(x.float(), 2, return_indices=True), 2)),
    "F.max_unpool3d": ([_arr(1, 2, 4, 4, 4)], lambda t, x: t.nn.functional.max_unpool3d(
        *t.nn.functional.max_pool3d(x.float(), 2, return_indices=True), 2)),
    # NOTE: the torch-level losses are given reduction=1 (mean): without it PyTorch 2.13 does not reduce them
    # while ember does (a difference outside autocast, left to the losses' owner)
    "binary_cross_entropy_with_logits": ([_arr(3, 4), _probs(3, 4)],
                                         lambda t, x, y: t.binary_cross_entropy_with_logits(x, y, reduction=1)),
    "cholesky": ([_arr(3, 3, spd=True)], lambda t, x: t.cholesky(x)),
    "conv_tbc": ([_arr(5, 2, 3), _arr(3, 3, 4), _arr(4)], lambda t, x, w, b: t.conv_tbc(x, w, b)),
    "cosine_embedding_loss": ([_arr(3, 4), _arr(3, 4), np.sign(_arr(3))],
                              lambda t, a, b, y: t.cosine_embedding_loss(a, b, y, reduction=1)),
    "ctc_loss": ([_arr(6, 1, 4)], lambda t, x: t.ctc_loss(x.log_softmax(2), t.tensor([[1, 2]]), [6], [2])),
    "fft.fftn": ([_arr(4, 4)], lambda t, x: t.fft.fftn(x)),
    "fft.ifft2": ([_arr(4, 4)], lambda t, x: t.fft.ifft2(x)),
    "fft.ifftn": ([_arr(4, 4)], lambda t, x: t.fft.ifftn(x)),
    "fft.irfft2": ([_arr(4, 3)], lambda t, x: t.fft.irfft2(x)),
    "fft.irfftn": ([_arr(4, 3)], lambda t, x: t.fft.irfftn(x)),
    "fft.rfft2": ([_arr(4, 4)], lambda t, x: t.fft.rfft2(x)),
    "geqrf": ([_arr(4, 3)], lambda t, x: t.geqrf(x)[0].abs()),
    "hinge_embedding_loss": ([_arr(3, 4), np.sign(_arr(3, 4))],
                             lambda t, x, y: t.hinge_embedding_loss(x, y, reduction=1)),
    "kl_div": ([_arr(3, 4), _probs(3, 4)], lambda t, x, y: t.kl_div(x, y, reduction=1)),
    "linalg.eig": ([_arr(3, 3, spd=True)], lambda t, x: t.linalg.eig(x)[0].real),
    "linalg.svd": ([_arr(4, 3)], lambda t, x: t.linalg.svd(x)[1]),
    "lu_solve": ([_arr(3, 3, spd=True), _arr(3, 2)], lambda t, a, b: t.lu_solve(b, *t.linalg.lu_factor(a))),
    "orgqr": ([_arr(4, 3)], lambda t, x: t.orgqr(*t.geqrf(x)).abs()),
    "ormqr": ([_arr(4, 3), _arr(4, 2)], lambda t, x, c: t.ormqr(*t.geqrf(x), c).abs()),
    "margin_ranking_loss": ([_arr(4), _arr(4), np.sign(_arr(4))],
                            lambda t, a, b, y: t.margin_ranking_loss(a, b, y, reduction=1)),
    "poisson_nll_loss": ([_arr(3, 4), _probs(3, 4)],
                         lambda t, x, y: t.poisson_nll_loss(x, y, True, False, 1e-8, 1)),
    "stft": ([_arr(32)], lambda t, x: t.stft(x, 8, return_complex=True).abs()),
    "triplet_margin_loss": ([_arr(3, 4), _arr(3, 4), _arr(3, 4)],
                            lambda t, a, p, n: t.triplet_margin_loss(a, p, n, reduction=1)),
    "cat": ([_arr(2, 3), _arr(1, 3)], lambda t, a, b: t.cat([a.to(t.bfloat16), b])),
    "stack": ([_arr(2, 3), _arr(2, 3)], lambda t, a, b: t.stack([a.half(), b])),
    "index_copy": ([_arr(4, 3), _arr(2, 3)], lambda t, a, b: a.half().index_copy(0, t.tensor([0, 2]), b)),
}
# NOTE: ops the sweep below reads outside an op list: not autocast, and so computed in their inputs' dtype
S_UNLISTED = {
    "softmax": ([_arr(3, 4)], lambda t, x: t.softmax(x, -1)),
    "layer_norm": ([_arr(3, 4)], lambda t, x: t.nn.functional.layer_norm(x, (4,))),
    "add_mixed": ([_arr(3, 4), _arr(3, 4)], lambda t, a, b: a.to(t.bfloat16) + b),
    "relu": ([_arr(3, 4)], lambda t, x: t.relu(x)),
    "sum": ([_arr(3, 4)], lambda t, x: x.sum()),
    "tensordot": ([_arr(2, 3), _arr(3, 4)], lambda t, a, b: t.tensordot(a, b, 1)),  # NOTE: its inner mm autocasts
    "einsum": ([_arr(2, 3), _arr(3, 4)], lambda t, a, b: t.einsum("ij,jk->ik", a, b)),
    "bilinear": ([_arr(2, 3), _arr(2, 3), _arr(4, 3, 3)], lambda t, a, b, w: t.nn.functional.bilinear(a, b, w)),
    "interpolate": ([_arr(1, 2, 4, 4)], lambda t, x: t.nn.functional.interpolate(x, scale_factor=2)),
    "embedding": ([_arr(5, 3)], lambda t, w: t.nn.functional.embedding(t.tensor([1, 4]), w)),
}

_CPU = _policy.POLICIES["cpu"]


def _names():
    return sorted(S)


def _run(lib, name, dtype, table, low_inputs):
    arrays, call = table[name]
    tensors = [lib.tensor(a) for a in arrays]
    if low_inputs:
        tensors = [x.to(getattr(lib, str(dtype).split(".")[1])) for x in tensors]
    with lib.autocast("cpu", dtype=getattr(lib, str(dtype).split(".")[1])):
        out = call(lib, *tensors)
    return out


def _compare(name, table, dtype, low_inputs):
    try:
        expected = _run(torch, name, dtype, table, low_inputs)
    except (RuntimeError, NotImplementedError) as e:  # NOTE: PyTorch has no low-precision kernel: ember must refuse
        with pytest.raises((RuntimeError, NotImplementedError)):
            _run(ember, name, dtype, table, low_inputs)
        return e
    got = _run(ember, name, dtype, table, low_inputs)
    assert str(got.dtype) == str(expected.dtype), name
    assert tuple(got.shape) == tuple(expected.shape)
    # NOTE: bilinear's inner products autocast in both libraries, at different points: float32 out, low precision in
    tol = 5e-2 if expected.dtype in (torch.bfloat16, torch.float16) or low_inputs or name == "bilinear" else 1e-4
    e, g = expected.detach(), torch.from_numpy(np.asarray(got.detach().to(ember.complex64 if got.is_complex()
                                                                          else ember.float64).numpy()))
    if e.is_complex():
        e = e.to(torch.complex64)
    else:
        e = e.double()
    torch.testing.assert_close(g, e, rtol=tol, atol=tol, check_dtype=False)
    return None


def test_every_cpu_policy_entry_has_a_sample():
    assert set(S) == set(_CPU), (sorted(set(S) - set(_CPU)), sorted(set(_CPU) - set(S)))


@pytest.mark.parametrize("dtype", ["torch.bfloat16", "torch.float16"])
@pytest.mark.parametrize("name", _names())
def test_listed_op_from_float32(name, dtype):
    _compare(name, S, dtype, low_inputs=False)


@pytest.mark.parametrize("name", sorted(n for n in S if _CPU[n] == _policy.FLOAT32))
def test_float32_op_from_bfloat16(name):
    _compare(name, S, "torch.bfloat16", low_inputs=True)


@pytest.mark.parametrize("dtype", ["torch.bfloat16", "torch.float16"])
@pytest.mark.parametrize("name", sorted(S_UNLISTED))
def test_unlisted_op_runs_in_its_inputs_dtype(name, dtype):
    _compare(name, S_UNLISTED, dtype, low_inputs=False)


def test_every_policy_name_is_a_public_op_of_ember():
    names = {w._autocast for *_, w in _policy._swaps()}
    assert {n for table in _policy.POLICIES.values() for n in table} <= names


def test_ops_are_wrapped_only_inside_autocast():
    plain = ember.nn.functional.mse_loss, ember.mm, ember.Tensor.__dict__["mm"]
    with ember.autocast("cpu"):
        inside = ember.nn.functional.mse_loss, ember.mm, ember.Tensor.__dict__["mm"]
    assert all(getattr(f, "_autocast", None) for f in inside)
    assert (ember.nn.functional.mse_loss, ember.mm, ember.Tensor.__dict__["mm"]) == plain
    assert not any(hasattr(f, "_autocast") for f in plain)


def test_every_primitive_named_by_the_policy_exists():
    from ember.autograd.function import Primitive

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)
    names = {c.__name__ for c in subclasses(Primitive)}
    assert set(_policy.PRIMITIVES) <= names, sorted(set(_policy.PRIMITIVES) - names)
    assert set(_policy.PRIMITIVES.values()) <= set(_CPU) | set(_policy.POLICIES["cuda"])
