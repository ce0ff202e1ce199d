"""torch.nn.modules.batchnorm: BatchNorm1d/2d/3d (and SyncBatchNorm on one process)."""

__all__ = []
