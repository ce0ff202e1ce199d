"""torch.nn.functional's resampling: interpolate, upsample*, grid_sample, affine_grid."""
__all__ = []
