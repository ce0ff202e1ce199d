"""torch.nn.functional's pooling and resampling (interpolate, grid_sample, affine_grid)."""

__all__ = []
