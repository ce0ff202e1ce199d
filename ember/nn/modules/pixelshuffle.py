"""torch.nn.modules.pixelshuffle: PixelShuffle, PixelUnshuffle (and ChannelShuffle)."""

__all__ = []
