"""tests/optim on cuda with a CPU oracle: PyTorch resolves foreach=None as it would for CUDA parameters."""
import pytest

from _device import ON_CUDA, TORCH_DEVICE


@pytest.fixture(autouse=True)
def _torch_resolves_foreach_as_on_cuda(request, monkeypatch):
    """ember's parameters are on cuda here, where PyTorch's default is the foreach path; its CPU oracle would
    take the for-loop (which rounds differently for ASGD, NAdam, RAdam, Adagrad). So the oracle's
    `_default_to_fused_or_foreach` counts the CPU as a foreach device, as CUDA is.
    NOTE: not with tensor betas: there PyTorch's defaulted foreach raises at the first step (Adam's refusal,
    internal TypeErrors for Adamax/NAdam/RAdam), and ember takes the for-loop instead."""
    if ON_CUDA and TORCH_DEVICE == "cpu" and "betas=(T(" not in request.node.name:
        import torch.optim.optimizer as torch_optimizer
        devices = torch_optimizer._get_foreach_kernels_supported_devices()
        monkeypatch.setattr(torch_optimizer, "_get_foreach_kernels_supported_devices", lambda: devices + ["cpu"])
    yield
