"""CUDA tensors and ember.multiprocessing: shared already (as PyTorch counts them), but sent by value, since
ember has no CUDA IPC (run with EMBER_TEST_DEVICE=cuda)."""
import io
import pickle
from multiprocessing.reduction import ForkingPickler

import pytest

import ember
import ember.multiprocessing  # noqa: F401 (registers the reductions)
from _device import ON_CUDA


def _through_pickler(obj):
    buf = io.BytesIO()
    ForkingPickler(buf, pickle.HIGHEST_PROTOCOL).dump(obj)
    return pickle.loads(buf.getvalue())


@pytest.mark.skipif(not ON_CUDA, reason="CUDA tensors: EMBER_TEST_DEVICE=cuda")
def test_cuda_tensor_is_shared_and_sent_by_value():
    t = ember.ones(3, device="cuda")
    assert t.is_shared() and t.share_memory_() is t
    with pytest.warns(UserWarning, match="ember cannot share CUDA memory between processes"):
        back = _through_pickler(t)
    assert back.device == t.device and back.tolist() == [1.0, 1.0, 1.0]
