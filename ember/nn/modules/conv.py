"""torch.nn.modules.conv: Conv1d/2d/3d and ConvTranspose1d/2d/3d."""

__all__ = []
