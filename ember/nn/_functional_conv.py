"""torch.nn.functional's convolutions, unfold/fold, pixel/channel shuffle."""

__all__ = []
