"""torch.nn.functional's normalisation layers (batch/layer/group/instance/RMS norm, LRN)."""

__all__ = []
