"""torch.nn.modules.pooling: max, average, adaptive, LP and fractional pooling."""

__all__ = []
