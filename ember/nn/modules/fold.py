"""torch.nn.modules.fold: Unfold and Fold."""

__all__ = []
