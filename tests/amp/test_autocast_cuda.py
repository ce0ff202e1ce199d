"""CUDA autocast on ember's cuda tensors (the CuPy stand-in in CI): the dtypes PyTorch's CUDA op lists give
(docs' "Autocast Op Reference", CUDA section: the torch CPU build cannot run them), and CPU tensors left alone."""
import pytest

import ember

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="ember has no cuda here")

F = ember.nn.functional


def _x(*shape):
    return ember.randn(*shape, device="cuda")


CASES = [
    ("mm", lambda: ember.mm(_x(2, 3), _x(3, 4)), "float16"),
    ("@", lambda: _x(2, 3) @ _x(3, 4), "float16"),
    ("linear", lambda: F.linear(_x(2, 3), _x(4, 3), _x(4)), "float16"),
    ("conv module", lambda: ember.nn.Conv2d(2, 3, 3, device="cuda")(_x(1, 2, 5, 5)), "float16"),
    ("addmm", lambda: ember.addmm(_x(2, 4), _x(2, 3), _x(3, 4)), "float16"),
    ("mv", lambda: ember.mv(_x(2, 3), _x(3)), "float16"),
    ("softmax from float16", lambda: ember.softmax(_x(2, 3).half(), -1), "float32"),
    ("F.softmax", lambda: F.softmax(_x(2, 3).half(), dim=-1), "float32"),
    ("layer_norm", lambda: F.layer_norm(_x(2, 3).half(), (3,)), "float32"),
    ("exp", lambda: _x(3).half().exp(), "float32"),
    ("sum", lambda: _x(3).half().sum(), "float32"),
    ("mse_loss", lambda: F.mse_loss(_x(3).half(), _x(3).half()), "float32"),
    ("relu stays", lambda: ember.relu(_x(3).half()), "float16"),
    ("add promotes", lambda: _x(3).half() + _x(3), "float32"),
    ("cat promote", lambda: ember.cat([_x(3).half(), _x(3)]), "float32"),
    ("cpu tensors untouched", lambda: ember.mm(ember.randn(2, 3, device="cpu"), ember.randn(3, 2, device="cpu")),
     "float32"),
]


@pytest.mark.parametrize("name,call,dtype", CASES, ids=[c[0] for c in CASES])
def test_cuda_policy_dtypes(name, call, dtype):
    with ember.autocast("cuda"):
        out = call()
    assert str(out.dtype) == f"torch.{dtype}"


def test_bce_is_refused_and_model_grads_are_float32():
    with ember.autocast("cuda"):
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            F.binary_cross_entropy(_x(3).sigmoid(), _x(3).sigmoid())
    model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2)).to("cuda")
    with ember.autocast("cuda"):
        out = model(_x(3, 4))
        loss = F.cross_entropy(out, ember.tensor([0, 1, 1], device="cuda"))
    assert out.dtype == ember.float16 and loss.dtype == ember.float32
    loss.backward()
    assert all(p.grad.dtype == ember.float32 for p in model.parameters())


def test_cpu_autocast_leaves_cuda_tensors():
    with ember.autocast("cpu"):
        assert ember.mm(_x(2, 3), _x(3, 2)).dtype == ember.float32
