"""torch.nn.modules.normalization: LayerNorm, GroupNorm, LocalResponseNorm, RMSNorm."""

__all__ = []
