"""torch.nn.parallel.data_parallel: DataParallel as a single-device pass-through."""
from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Wraps `module` and runs it unchanged (torch.nn.DataParallel on a single device).

    Difference from PyTorch: no replication or scatter across GPUs; the wrapped module runs once on the
    whole batch, which is what PyTorch does when it finds no GPU. The state_dict keys carry the
    `module.` prefix, as in PyTorch."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []  # NOTE: as PyTorch sets it where it finds no GPU to spread the batch over
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """module(*inputs, **module_kwargs) (torch.nn.parallel.data_parallel on a single device)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
