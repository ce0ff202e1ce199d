"""No hidden host synchronisation: training steps on cuda never read device data back to the host.

Runs on the CuPy stand-in (EMBER_TEST_DEVICE=cuda), whose forbid_host_transfers() fails any
device->host transfer; models and data are built before entering it (host->device is allowed).
"""
import pytest

import ember
import ember as torch
import ember.nn as nn
import ember.nn.functional as F

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(),
                                reason="needs cuda (the stand-in: EMBER_TEST_DEVICE=cuda)")

DEV = "cuda"


def _no_reads():
    """The stand-in fails any device->host read; on a real GPU CuPy fails any synchronisation."""
    import cupy
    if hasattr(cupy, "_standin"):
        return cupy._standin.forbid_host_transfers()
    import cupyx
    return cupyx.allow_synchronize(False)


def _step(model, opt, loss_fn):
    """One full training step with no device->host transfer."""
    with _no_reads():
        opt.zero_grad()
        loss = loss_fn(model)
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5)).to(DEV)


@pytest.mark.parametrize("kwargs", [{}, {"ignore_index": 1}, {"label_smoothing": 0.1}, {"weight": "w"},
                                    {"weight": "w", "ignore_index": 2, "reduction": "sum"}])
def test_mlp_cross_entropy(kwargs):
    model = _mlp()
    x, y = torch.randn(4, 6, device=DEV), torch.tensor([0, 1, 4, 2], device=DEV)
    if kwargs.get("weight") == "w":
        kwargs = dict(kwargs, weight=torch.rand(5, device=DEV))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _step(model, opt, lambda m: F.cross_entropy(m(x), y, **kwargs))
    _step(model, opt, lambda m: nn.CrossEntropyLoss(**kwargs)(m(x), y))


def test_mlp_nll_loss():
    model = _mlp()
    x, y = torch.randn(4, 6, device=DEV), torch.tensor([0, 1, 4, 2], device=DEV)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    _step(model, opt, lambda m: F.nll_loss(F.log_softmax(m(x), dim=1), y))
    _step(model, opt, lambda m: F.nll_loss(F.log_softmax(m(x), dim=1), y, ignore_index=0))


def test_cnn():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Dropout(0.2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).to(DEV)
    x, y = torch.randn(2, 2, 6, 6, device=DEV), torch.tensor([0, 2], device=DEV)
    opt = torch.optim.AdamW(model.parameters(), lr=0.01)
    _step(model, opt, lambda m: F.cross_entropy(m(x), y))


class _Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4, padding_idx=0)
        self.lstm = nn.LSTM(4, 5, batch_first=True)
        self.gru = nn.GRU(5, 3, num_layers=2)
        self.head = nn.Linear(3, 2)

    def forward(self, ids):
        h, _ = self.lstm(self.emb(ids))
        h, _ = self.gru(h.transpose(0, 1))
        return self.head(h[-1])


def test_embedding_lstm_gru():
    torch.manual_seed(0)
    model = _Seq().to(DEV)
    ids, y = torch.tensor([[1, 2, 0], [3, 9, 4]], device=DEV), torch.tensor([1, 0], device=DEV)
    opt = torch.optim.RMSprop(model.parameters(), lr=0.01)
    _step(model, opt, lambda m: F.cross_entropy(m(ids), y))


def test_lstm_with_given_state():
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4).to(DEV)
    x = torch.randn(5, 2, 3, device=DEV)
    h0, c0 = torch.zeros(1, 2, 4, device=DEV), torch.randn(1, 2, 4, device=DEV)
    opt = torch.optim.Adagrad(lstm.parameters(), lr=0.1)
    _step(lstm, opt, lambda m: m(x, (h0, c0))[0].pow(2).mean())


def test_transformer_encoder_layer():
    torch.manual_seed(0)
    model = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1, batch_first=True).to(DEV)
    x = torch.randn(2, 3, 8, device=DEV)
    mask = nn.Transformer.generate_square_subsequent_mask(3, device=DEV)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    _step(model, opt, lambda m: m(x).pow(2).mean())
    _step(model, opt, lambda m: m(x, src_mask=mask).pow(2).mean())


LOSSES = {
    "bce": lambda out, t: F.binary_cross_entropy(torch.sigmoid(out), t),
    "bce_logits": lambda out, t: F.binary_cross_entropy_with_logits(out, t, pos_weight=torch.ones_like(t)),
    "mse": F.mse_loss, "l1": F.l1_loss, "smooth_l1": F.smooth_l1_loss, "huber": F.huber_loss,
    "kl_div": lambda out, t: F.kl_div(F.log_softmax(out, dim=1), t.softmax(dim=1), reduction="batchmean"),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses(name):
    model = _mlp()
    x, t = torch.randn(4, 6, device=DEV), torch.rand(4, 5, device=DEV)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    _step(model, opt, lambda m: LOSSES[name](m(x), t))


@pytest.mark.parametrize("make", [
    lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: torch.optim.Adam(p, lr=0.01), lambda p: torch.optim.AdamW(p, lr=0.01, amsgrad=True),
    lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5), lambda p: torch.optim.Adagrad(p, lr=0.1)])
def test_optimizers_and_clip(make):
    model = _mlp()
    x, y = torch.randn(4, 6, device=DEV), torch.tensor([0, 1, 4, 2], device=DEV)
    opt = make(model.parameters())

    def loss_fn(m):
        loss = F.cross_entropy(m(x), y)
        return loss

    for _ in range(2):
        with _no_reads():
            opt.zero_grad()
            loss_fn(model).backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            nn.utils.clip_grad_value_(model.parameters(), 0.1)
            opt.step()


def test_indexing_ops_in_range():
    x = torch.randn(3, 4, device=DEV, requires_grad=True)
    idx = torch.tensor([[0, 2, 1, 0], [1, 1, 2, 0]], device=DEV)
    rows = torch.tensor([2, 0], device=DEV)
    w = torch.randn(5, 4, device=DEV, requires_grad=True)
    ids = torch.tensor([[4, 0], [1, 3]], device=DEV)
    with _no_reads():
        out = x.gather(0, idx).sum() + x.index_select(0, rows).sum() + F.embedding(ids, w).sum()
        out = out + x.scatter(0, idx[:, :3], 1.0).sum() + x.scatter_add(0, idx, x[:2]).sum()
        out = out + x.index_add(0, rows, x[:2]).sum() + torch.zeros(3, 4, device=DEV).scatter_(1, idx.T[:3], x).sum()
        out.backward()


def test_integer_division_and_remainder():
    a = torch.tensor([7, -7, 9], device=DEV)
    b = torch.tensor([2, 3, -4], device=DEV)
    with _no_reads():
        a // b, a % b, torch.div(a, b, rounding_mode="floor"), torch.div(a, b, rounding_mode="trunc")
        torch.remainder(a, b), torch.fmod(a, b), a // 2, a % 3


def _bad_cases(dev):
    x = torch.randn(3, 4, device=dev)
    return {
        "cross_entropy": lambda: F.cross_entropy(x, torch.tensor([0, 9, 1], device=dev)),
        "nll_loss": lambda: F.nll_loss(x, torch.tensor([0, 1, 7], device=dev)),
        "gather": lambda: x.gather(1, torch.tensor([[0], [4], [1]], device=dev)),
        "index_select": lambda: x.index_select(0, torch.tensor([0, 3], device=dev)),
        "embedding": lambda: F.embedding(torch.tensor([5], device=dev), x),
        "scatter": lambda: x.scatter(1, torch.tensor([[5]], device=dev), 1.0),
        "int_div": lambda: torch.tensor([1, 2], device=dev) // torch.tensor([1, 0], device=dev),
        "bce": lambda: F.binary_cross_entropy(x, torch.rand(3, 4, device=dev)),
    }


@pytest.mark.parametrize("name", sorted(_bad_cases("cpu")))
def test_bad_values_raise_later_on_cuda_and_at_once_on_cpu(name):
    with pytest.raises(Exception) as cpu_error:
        _bad_cases("cpu")[name]()
    cuda_case = _bad_cases(DEV)[name]
    with _no_reads():
        out = cuda_case()
    with pytest.raises(cpu_error.type) as cuda_error:
        out.sum().item()
    assert str(cuda_error.value) == str(cpu_error.value)
    torch.ones(1, device=DEV).item()  # the failed check was consumed: later reads are fine


# --- the remaining hidden reads: losses' target checks, take, quantile's q, median's NaNs, interpolate -------
def test_margin_losses_take_quantile_median_interpolate():
    x = torch.randn(3, 4, device=DEV, requires_grad=True)
    w = torch.rand(4, device=DEV)
    t = torch.tensor([1, 0, 3], device=DEV)
    multi = torch.tensor([[1, 3, -1, 0], [0, -1, 2, 1], [3, 2, 1, 0]], device=DEV)
    q = torch.tensor([0.25, 0.5], device=DEV)
    img = torch.randn(1, 2, 3, 3, device=DEV, requires_grad=True)
    with _no_reads():
        out = F.multi_margin_loss(x, t) + F.multi_margin_loss(x, t, p=2, weight=w, margin=0.5)
        out = out + F.multilabel_margin_loss(x, multi) + x.take(torch.tensor([0, -1, 5], device=DEV)).sum()
        out = out + x.quantile(q, dim=1).sum() + x.nanquantile(q).sum() + x.median() + x.nanmedian()
        y = x.detach().clone()
        y[0, 1] = float("nan")
        out = out + y.median() + y.nanmedian() + torch.tensor([], device=DEV).median()
        for mode in ("nearest", "nearest-exact", "bilinear"):
            out = out + F.interpolate(img, scale_factor=2, mode=mode).sum()
        out = out + F.interpolate(img, size=(5, 4), mode="nearest").sum()
        out.backward()
    assert out.isnan().item()  # the NaN median


@pytest.mark.parametrize("skip_nan", [False, True])
def test_median_of_nans_matches_cpu(skip_nan):
    rows = [[1.0, float("nan"), 3.0, 2.0], [float("nan")] * 3, [4.0, 1.0, 2.0], [5.0]]
    for row in rows:
        cpu = torch.tensor(row)
        fn = (lambda a: a.nanmedian()) if skip_nan else (lambda a: a.median())
        got = fn(cpu.to(DEV)).cpu()
        assert torch.equal(got, fn(cpu)) or (got.isnan().item() and fn(cpu).isnan().item())


def _more_bad_cases(dev):
    x = torch.randn(3, 4, device=dev)
    return {
        "multi_margin": lambda: F.multi_margin_loss(x, torch.tensor([0, 4, 1], device=dev)),
        "multi_margin_negative": lambda: F.multi_margin_loss(x, torch.tensor([0, -1, 1], device=dev)),
        "multilabel_margin": lambda: F.multilabel_margin_loss(x, torch.tensor([[0, -1, 0, 0], [1, 9, -1, 0],
                                                                               [2, -1, 0, 0]], device=dev)),
        "take": lambda: x.take(torch.tensor([0, 12], device=dev)),
        "take_negative": lambda: x.take(torch.tensor([-13, 1], device=dev)),
        "quantile": lambda: x.quantile(torch.tensor([0.5, 1.5], device=dev)),
    }


@pytest.mark.parametrize("name", sorted(_more_bad_cases("cpu")))
def test_more_bad_values_raise_later_on_cuda_and_at_once_on_cpu(name):
    with pytest.raises(Exception) as cpu_error:
        _more_bad_cases("cpu")[name]()
    with _no_reads():
        out = _more_bad_cases(DEV)[name]()
    with pytest.raises(cpu_error.type) as cuda_error:
        out.sum().item()
    assert str(cuda_error.value) == str(cpu_error.value)
    torch.ones(1, device=DEV).item()


def test_one_hot_with_num_classes_does_not_read():
    t = torch.tensor([0, 2, 1], device=DEV)
    with _no_reads():
        out = F.one_hot(t, 3)
    assert out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    F.one_hot(torch.tensor([0, 5], device=DEV), 3)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        torch.cuda.synchronize()
