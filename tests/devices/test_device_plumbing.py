"""Moving tensors, modules, optimizers and checkpoints between the CPU and cuda (the CuPy stand-in, or a GPU).

The stand-in's arrays refuse implicit conversion to NumPy and count host transfers, so a leak of a device
array into NumPy or a silent round trip through the host fails here."""
import io
import pickle

import numpy as np
import pytest

import ember
import ember as torch

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="needs cuda (the stand-in: EMBER_TEST_DEVICE=cuda)")


def _standin():
    cupy = pytest.importorskip("cupy")
    if not hasattr(cupy, "_standin"):
        pytest.skip("counts transfers on the stand-in only")
    return cupy._standin


def test_to_cuda_and_back():
    x = torch.arange(6.0).reshape(2, 3)
    for moved in (x.to("cuda"), x.cuda(), x.to(torch.device("cuda", 0)), x.to("cuda", torch.float64)):
        assert moved.is_cuda and moved.device == torch.device("cuda:0") and moved.get_device() == 0
        assert not isinstance(moved._data, np.ndarray)
        back = moved.cpu()
        assert back.device == torch.device("cpu") and isinstance(back._data, np.ndarray)
        np.testing.assert_array_equal(back.numpy(), x.numpy())
    assert x.to("cuda").to("cuda") is not None and x.cpu() is x
    g = x.cuda()
    assert g.cuda() is g and g.to("cuda:0") is g


def test_one_transfer_each_way():
    standin = _standin()
    x = torch.randn(4, 5)
    standin.reset()
    g = x.cuda(non_blocking=True)
    assert standin.counts()["to_device"] == 1 and standin.counts()["to_host"] == 0
    y = (g * 2 + 1).sum(dim=0)
    assert standin.counts()["to_host"] == 0
    y.cpu()
    assert standin.counts()["to_host"] == 1


def test_host_exits_of_a_cuda_tensor():
    g = torch.tensor([[1.5, 2.0], [3.0, 4.0]], device="cuda")
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu()"):
        g.numpy()
    with pytest.raises(TypeError):
        np.asarray(g)
    assert g.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert g[0, 0].item() == 1.5 and float(g[1, 1]) == 4.0 and int(g[1, 0]) == 3 and bool(g[0, 0])
    assert repr(g) == "tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]], device='cuda:0')"
    assert repr(torch.tensor([1, 2], device="cuda")) == "tensor([1, 2], device='cuda:0')"
    assert repr(torch.zeros(2, device="cuda", requires_grad=True)) == \
        "tensor([0., 0.], device='cuda:0', requires_grad=True)"
    assert f"{g.sum():.1f}" == "10.5"
    back = pickle.loads(pickle.dumps(g))
    assert back.device == g.device and back.tolist() == g.tolist()


def test_mixing_devices_raises_torchs_error():
    a, b = torch.ones(2, device="cuda"), torch.ones(2)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but found at least two "
                                           r"devices, cuda:0 and cpu!"):
        a + b
    with pytest.raises(RuntimeError, match="cpu and cuda:0"):
        torch.mm(torch.ones(2, 2), torch.ones(2, 2, device="cuda"))
    # a 0-d CPU tensor joins a cuda op, as in PyTorch
    assert (a * torch.tensor(3.0)).device == torch.device("cuda:0")


def test_second_device_allocates_there():
    x = torch.randn(3, 4, device="cuda:1", requires_grad=True)
    y = (x.exp() * 2).sum()
    assert y.device == torch.device("cuda:1") and y._data.device.id == 1
    y.backward()
    assert x.grad.device == torch.device("cuda:1") and x.grad._data.device.id == 1
    z = x.detach().to("cuda:0")
    assert z.device == torch.device("cuda:0") and z._data.device.id == 0
    np.testing.assert_allclose(z.cpu().numpy(), x.detach().cpu().numpy())
    with pytest.raises(RuntimeError, match="cuda:1 and cuda:0"):
        x + z


def test_module_and_optimizer_follow_the_device():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2))
    reference = {k: v.clone() for k, v in model.state_dict().items()}
    assert model.cuda() is model
    assert all(t.is_cuda for t in model.state_dict().values())
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    x, target = torch.randn(5, 4, device="cuda"), torch.randn(5, 2, device="cuda")
    loss = torch.nn.functional.mse_loss(model(x), target)
    loss.backward()
    opt.step()
    for p in model.parameters():
        assert p.grad.is_cuda
        assert opt.state[p]["exp_avg"].is_cuda and opt.state[p]["exp_avg_sq"].is_cuda
    saved = opt.state_dict()
    model.cpu()
    assert all(not t.is_cuda for t in model.state_dict().values())
    assert any(not torch.equal(reference[k], v) for k, v in model.state_dict().items())
    opt2 = torch.optim.Adam(model.parameters(), lr=0.1)
    opt2.load_state_dict(saved)  # cuda state onto CPU parameters: moved, as PyTorch does
    assert all(not opt2.state[p]["exp_avg"].is_cuda for p in model.parameters())


def test_training_on_cuda_matches_the_cpu():
    def run(device):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = torch.randn(16, 6).to(device)
        y = torch.randint(0, 3, (16,)).to(device)
        for _ in range(5):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        return [p.detach().cpu().numpy() for p in model.parameters()], loss.item()
    cpu, gpu = run("cpu"), run("cuda")
    for a, b in zip(cpu[0], gpu[0]):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert abs(cpu[1] - gpu[1]) < 1e-5


def test_checkpoints_map_location():
    g = {"w": torch.arange(4.0, device="cuda"), "s": torch.tensor(3, device="cuda"), "c": torch.ones(2)}
    buf = io.BytesIO()
    torch.save(g, buf)
    for location, want in ((None, ("cuda:0", "cuda:0", "cpu")), ("cpu", ("cpu",) * 3),
                           ({"cuda:0": "cpu"}, ("cpu", "cpu", "cpu")), ("cuda:1", ("cuda:1",) * 3),
                           (lambda storage, loc: storage, ("cpu",) * 3)):
        buf.seek(0)
        loaded = torch.load(buf, map_location=location)
        assert tuple(str(loaded[k].device) for k in ("w", "s", "c")) == want, location
        assert loaded["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and loaded["s"].item() == 3


def test_default_device_and_device_context():
    with torch.device("cuda"):
        assert torch.zeros(2).is_cuda and torch.nn.Linear(2, 2).weight.is_cuda
        assert torch.get_default_device() == torch.device("cuda:0")
        assert not torch.from_numpy(np.ones(2)).is_cuda  # from_numpy stays on the CPU, as in PyTorch
    assert not torch.zeros(2).is_cuda and torch.get_default_device() == torch.device("cpu")
    torch.set_default_device("cuda:1")
    try:
        assert torch.ones(1).device == torch.device("cuda:1")
    finally:
        torch.set_default_device(None)


def test_pin_memory():
    x = torch.ones(3)
    assert not x.is_pinned()
    p = x.pin_memory()
    assert p.is_pinned() and p.device == torch.device("cpu") and p.tolist() == [1.0, 1.0, 1.0]
    assert p.pin_memory() is p
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        x.cuda().pin_memory()


def test_device_side_checks_surface_at_the_next_synchronisation():
    logits, bad = torch.randn(2, 3, device="cuda"), torch.tensor([0, 7], device="cuda")
    loss = torch.nn.functional.cross_entropy(logits, bad)  # queued, not raised: no host read here
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        torch.cuda.synchronize()
    loss = torch.nn.functional.cross_entropy(logits, bad)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        loss.item()
    assert torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2], device="cuda")).item() > 0


def test_cuda_random_is_reproducible():
    torch.cuda.manual_seed(3)
    torch.manual_seed(3)
    a = torch.randn(4, device="cuda")
    torch.manual_seed(3)
    b = torch.randn(4, device="cuda")
    assert a.tolist() == b.tolist()


def test_layers_that_build_their_own_arrays_stay_on_the_second_device():
    F = torch.nn.functional
    dev = torch.device("cuda:1")
    x = torch.randn(2, 3, 8, 8, device=dev, requires_grad=True)
    outs = [F.adaptive_avg_pool2d(x, 3), F.adaptive_max_pool2d(x, 3),
            F.fractional_max_pool2d(x, 2, output_size=4),
            F.interpolate(x, size=5, mode="bilinear", antialias=True, align_corners=False),
            F.grid_sample(x, F.affine_grid(torch.eye(2, 3, device=dev).expand(2, 2, 3), (2, 3, 4, 4),
                                           align_corners=False), align_corners=False)]
    for out in outs:
        assert out.device == dev and out._data.device.id == 1
        out.sum().backward()
    weight = torch.randn(10, 4, device=dev, requires_grad=True)
    ids = torch.tensor([1, 2, 4, 5, 4, 3], device=dev)
    bag = F.embedding_bag(ids, weight, torch.tensor([0, 3], device=dev), mode="mean")
    emb = F.embedding(ids, weight.detach().clone(), max_norm=1.0)
    assert bag.device == dev and emb.device == dev and bag._data.device.id == 1
    seq = torch.nn.utils.rnn.pack_padded_sequence(torch.randn(4, 2, 3, device=dev), [4, 2])
    out, _ = torch.nn.GRU(3, 5).to(dev)(seq)
    padded, lengths = torch.nn.utils.rnn.pad_packed_sequence(out)
    assert padded.device == dev and lengths.tolist() == [4, 2]
    w = torch.empty(5, 3, device=dev)
    torch.nn.init.orthogonal_(w)
    assert w._data.device.id == 1
