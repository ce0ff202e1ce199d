"""The torch.* forms of nn functions with ATen's signatures (issue 15): what the generic op test cannot draw:
embedding_bag's four outputs, the dropout forms, native_dropout, native_batch_norm's running statistics,
packed-data RNN overloads, and argument errors."""
import numpy as np
import pytest
import torch

import ember


def pair(a):
    return torch.tensor(a), ember.tensor(a)


def close(e, t, atol=1e-5):
    np.testing.assert_allclose(e.detach().cpu().numpy(), t.detach().numpy(), rtol=1e-5, atol=atol)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("last", [False, True])
def test_embedding_bag_outputs(mode, last):
    w = np.random.default_rng(mode).normal(size=(5, 3)).astype(np.float32)
    offsets = [0, 2, 5] if last else [0, 2]
    outs = []
    for lib in (torch, ember):
        outs.append(lib.embedding_bag(lib.tensor(w), lib.tensor([0, 2, 1, 4, 3]), lib.tensor(offsets), False, mode,
                                      False, None, last))
    for e, t in zip(outs[1], outs[0]):
        close(e, t)


def test_embedding_bag_gradient():
    grads = []
    for lib in (torch, ember):
        w = lib.arange(15.).reshape(5, 3).requires_grad_()
        out = lib.embedding_bag(w, lib.tensor([0, 2, 2, 4]), lib.tensor([0, 1]), False, 1)[0]
        (out * lib.arange(6.).reshape(2, 3)).sum().backward()
        grads.append(w.grad)
    close(grads[1], grads[0])


def test_dropout_forms():
    for lib in (torch, ember):
        x = lib.ones(4, 3, 5)
        assert lib.feature_dropout(x, 0.5, False) is not None
        y = lib.feature_dropout(x, 0.5, True)
        kept = (y != 0).float()
        assert bool((kept.amin(-1) == kept.amax(-1)).all())  # whole channels kept or dropped
        assert set(y.unique().tolist()) <= {0.0, 2.0}
        z = lib.ones(4, 3, 5)
        assert lib.feature_dropout_(z, 0.5, True) is z
        a = lib.ones(2, 3)
        assert lib.alpha_dropout_(a, 0.5, False) is a and bool((a == 1).all())
        b = lib.ones(2, 3, 4)
        assert lib.feature_alpha_dropout_(b, 0.2, True) is b
    close(ember.feature_dropout(ember.ones(2, 2), 0.0, True), torch.feature_dropout(torch.ones(2, 2), 0.0, True))


def test_native_dropout():
    for lib in (torch, ember):
        x = lib.ones(200, 10)
        out, mask = lib.native_dropout(x, 0.3, True)
        assert mask.dtype == lib.bool and mask.shape == x.shape
        assert bool(((out == 0) == ~mask).all()) and abs(float(mask.float().mean()) - 0.7) < 0.05
        out, mask = lib.native_dropout(x, 0.3, False)
        assert bool(mask.all()) and bool((out == x).all())


def test_native_batch_norm_statistics():
    results = []
    x = np.random.default_rng(0).normal(size=(4, 3, 2)).astype(np.float32)
    for lib in (torch, ember):
        rm, rv = lib.zeros(3), lib.ones(3)
        train = lib.native_batch_norm(lib.tensor(x), None, None, rm, rv, True, 0.1, 1e-5)
        evaluated = lib.native_batch_norm(lib.tensor(x), lib.ones(3), lib.zeros(3), rm, rv, False, 0.1, 1e-5)
        results.append(list(train) + list(evaluated) + [rm, rv])
    for e, t in zip(results[1], results[0]):
        close(e, t)


@pytest.mark.parametrize("name", ["rnn_tanh", "gru", "lstm"])
def test_packed_data_overload(name):
    gates = {"lstm": 4, "gru": 3}.get(name, 1)
    rng = np.random.default_rng(1)
    params = [rng.normal(size=s).astype(np.float32) for s in ((gates * 2, 3), (gates * 2, 2), (gates * 2,),
                                                              (gates * 2,))]
    seq = rng.normal(size=(3, 2, 3)).astype(np.float32)
    outs = []
    for lib in (torch, ember):
        packed = lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(seq), [3, 2])
        h0 = lib.zeros(1, 2, 2)
        hx = [h0, lib.zeros(1, 2, 2)] if name == "lstm" else h0
        ps = [lib.tensor(p) for p in params]
        outs.append(getattr(lib, name)(packed.data, packed.batch_sizes, hx, ps, True, 1, 0.0, False, False))
    for e, t in zip(outs[1], outs[0]):
        close(e, t)


def test_lstm_with_projection():
    rng = np.random.default_rng(2)
    shapes = ((8, 3), (8, 1), (8,), (8,), (1, 2))
    params = [rng.normal(size=s).astype(np.float32) for s in shapes]
    x_np = rng.normal(size=(2, 3, 3)).astype(np.float32)
    outs = [lib.lstm(lib.tensor(x_np), [lib.zeros(1, 2, 1), lib.zeros(1, 2, 2)], [lib.tensor(p) for p in params],
                     True, 1, 0.0, False, False, True) for lib in (torch, ember)]
    for e, t in zip(outs[1], outs[0]):
        close(e, t)


def test_errors():
    for call in (lambda lib: lib.native_layer_norm(lib.ones(2, 3), [2], None, None, 1e-5),
                 lambda lib: lib.native_group_norm(lib.ones(2, 4, 3).transpose(1, 2), None, None, 2, 3, 4, 3, 1e-5)):
        with pytest.raises(Exception) as theirs:
            call(torch)
        with pytest.raises(Exception) as ours:
            call(ember)
        assert type(ours.value).__name__ == type(theirs.value).__name__ or isinstance(ours.value, theirs.type)


def test_unknown_reduction_leaves_the_loss_unreduced():
    for name, args in (("kl_div", (3,)), ("hinge_embedding_loss", (1.0, 5))):
        t = getattr(torch, name)(torch.ones(2), torch.ones(2) * 2, *args)
        e = getattr(ember, name)(ember.ones(2), ember.ones(2) * 2, *args)
        close(e, t)
