"""BatchNorm1d/2d/3d, SyncBatchNorm, F.batch_norm and torch.batch_norm against PyTorch."""
import pytest
import torch

import ember
from tests.nn._nn_helpers import assert_close, copy_weights, raises_like, to_ember
from tests.nn.test_norm_helpers import backward_both, close_any, pair, randomize_affine

SHAPES = {"BatchNorm1d": [(5, 3), (4, 3, 7)], "BatchNorm2d": [(3, 3, 4, 5)], "BatchNorm3d": [(2, 3, 2, 3, 3)]}
CASES = [(cls, s) for cls, shapes in SHAPES.items() for s in shapes]


def _modules(cls, **kw):
    tm, em = getattr(torch.nn, cls)(3, **kw), getattr(ember.nn, cls)(3, **kw)
    randomize_affine(tm)
    copy_weights(tm, em)
    return tm, em


def _check_buffers(tm, em):
    for name, tb in tm.named_buffers():
        eb = dict(em.named_buffers())[name]
        assert_close(eb, tb, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls,shape", CASES)
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"affine": False}, {"bias": False, "momentum": 0.3},
                                {"track_running_stats": False}])
def test_train_steps_then_eval(cls, shape, kw):
    tm, em = _modules(cls, **kw)
    for step in range(3):
        tx, ex = pair(shape, seed=step, scale=step + 1.0, shift=step)
        ty, ey = tm(tx), em(ex)
        assert_close(ey, ty, rtol=1e-5, atol=1e-5)
        backward_both(ty, ey, seed=10 + step)
        assert_close(ex.grad, tx.grad, rtol=1e-4, atol=1e-5)
        for name, p in tm.named_parameters():
            assert_close(dict(em.named_parameters())[name].grad, p.grad, rtol=1e-4, atol=1e-5)
        _check_buffers(tm, em)
    tm.eval(), em.eval()
    tx, ex = pair(shape, seed=7)
    ty, ey = tm(tx), em(ex)
    assert_close(ey, ty, rtol=1e-5, atol=1e-5)
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__
    backward_both(ty, ey)
    assert_close(ex.grad, tx.grad, rtol=1e-4, atol=1e-5)
    for name, p in tm.named_parameters():
        assert_close(dict(em.named_parameters())[name].grad, p.grad, rtol=1e-4, atol=1e-5)
    _check_buffers(tm, em)


def test_state_dict_both_ways_and_repr():
    tm, em = torch.nn.BatchNorm2d(4, momentum=None), ember.nn.BatchNorm2d(4, momentum=None)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                                              "num_batches_tracked"]
    assert str(em.num_batches_tracked.dtype) == "torch.int64" and em.num_batches_tracked.dim() == 0
    tm(torch.randn(3, 4, 2, 2))
    copy_weights(tm, em)
    assert int(em.num_batches_tracked) == 1
    em(ember.randn(3, 4, 2, 2))
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in em.state_dict().items()})
    assert int(tm.num_batches_tracked) == 2
    assert_close(em.running_var, tm.running_var)
    for kw in ({"affine": False, "track_running_stats": False}, {"bias": False}):
        assert repr(ember.nn.BatchNorm1d(3, **kw)) == repr(torch.nn.BatchNorm1d(3, **kw))
        assert list(ember.nn.BatchNorm1d(3, **kw).state_dict()) == list(torch.nn.BatchNorm1d(3, **kw).state_dict())


def test_old_checkpoint_without_num_batches_tracked_loads():
    em = ember.nn.BatchNorm1d(2)
    sd = {k: v for k, v in em.state_dict().items() if k != "num_batches_tracked"}
    em.load_state_dict(sd)
    assert int(em.num_batches_tracked) == 0


def test_sync_batchnorm_is_batchnorm_on_one_process():
    tm, em = torch.nn.BatchNorm2d(3), ember.nn.SyncBatchNorm(3)
    randomize_affine(tm)
    copy_weights(tm, em)
    tx, ex = pair((2, 3, 3, 3))
    assert_close(em(ex), tm(tx), rtol=1e-5, atol=1e-5)
    _check_buffers(tm, em)
    net = ember.nn.SyncBatchNorm.convert_sync_batchnorm(ember.nn.Sequential(ember.nn.BatchNorm1d(3)))
    assert type(net[0]).__name__ == "SyncBatchNorm"


def test_functional_and_torch_alias_update_running_stats():
    tx, ex = pair((6, 3, 4))
    trm, tr_v = torch.zeros(3), torch.ones(3)
    erm, er_v = ember.zeros(3), ember.ones(3)
    tw, ew = pair((3,), seed=3)
    ty = torch.batch_norm(tx, tw, None, trm, tr_v, True, 0.2, 1e-3, False)
    ey = ember.batch_norm(ex, ew, None, erm, er_v, True, 0.2, 1e-3, False)
    assert_close(ey, ty, atol=1e-5)
    assert_close(erm, trm), assert_close(er_v, tr_v)
    ty = torch.nn.functional.batch_norm(tx, trm, tr_v, training=False)
    ey = ember.nn.functional.batch_norm(ex, erm, er_v, training=False)
    assert_close(ey, ty, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision(dtype):
    tm, em = _modules("BatchNorm1d")
    tm.to(dtype), em.to(getattr(ember, str(dtype).split(".")[1]))
    tx, ex = pair((8, 3, 5), dtype=dtype)
    ty, ey = tm(tx), em(ex)
    close_any(ey, ty, 2e-2)
    backward_both(ty, ey)
    close_any(ex.grad, tx.grad, 5e-2)
    close_any(em.weight.grad, tm.weight.grad, 5e-2)
    close_any(em.running_var, tm.running_var, 1e-2)


def test_half_input_float32_module():
    # NOTE: mixed precision: float16 activations through a float32 BatchNorm are allowed by torch
    tm, em = _modules("BatchNorm2d")
    tx, ex = pair((2, 3, 2, 2), dtype=torch.float16)
    ty, ey = tm(tx), em(ex)
    close_any(ey, ty, 2e-2)
    close_any(em.running_mean, tm.running_mean, 1e-3)


def test_gradcheck_float64():
    args = [ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True),
            ember.randn(2, dtype=ember.float64, requires_grad=True),
            ember.randn(2, dtype=ember.float64, requires_grad=True)]

    def train(x, w, b):
        return ember.nn.functional.batch_norm(x, None, None, w, b, training=True)

    def evaluate(x, w, b):
        return ember.nn.functional.batch_norm(x, ember.tensor([0.1, -0.2], dtype=ember.float64),
                                              ember.tensor([0.5, 2.0], dtype=ember.float64), w, b)
    assert ember.autograd.gradcheck(train, args)
    assert ember.autograd.gradgradcheck(train, args)
    assert ember.autograd.gradcheck(evaluate, args)


@pytest.mark.parametrize("call", [
    lambda nn, F, t: nn.BatchNorm1d(3)(t.randn(2, 3, 4, 5)),
    lambda nn, F, t: nn.BatchNorm1d(3)(t.randn(1, 3)),
    lambda nn, F, t: nn.BatchNorm2d(3)(t.randn(2, 3, 4)),
    lambda nn, F, t: nn.BatchNorm3d(3)(t.randn(2, 3, 4)),
    lambda nn, F, t: nn.BatchNorm1d(2)(t.randn(4, 3)),
    lambda nn, F, t: F.batch_norm(t.randn(1, 3, 1), None, None, training=True),
    lambda nn, F, t: F.batch_norm(t.randn(4, 3), None, None, training=False),
    lambda nn, F, t: F.batch_norm(t.randn(4, 3), t.zeros(3), None, training=False),
    lambda nn, F, t: F.batch_norm(t.randn(4, 3), t.zeros(4), t.ones(4)),
    lambda nn, F, t: F.batch_norm(t.randn(4, 3), t.zeros(3), t.ones(3), t.ones(2)),
    lambda nn, F, t: F.batch_norm(t.randn(4), None, None, training=True),
])
def test_errors_match_torch(call):
    raises_like(lambda: call(torch.nn, torch.nn.functional, torch), lambda: call(ember.nn, ember.nn.functional, ember))


def test_batch_of_one_in_eval_is_fine():
    tm, em = _modules("BatchNorm1d")
    tm.eval(), em.eval()
    tx = torch.randn(1, 3)
    assert_close(em(to_ember(tx)), tm(tx), atol=1e-6)
