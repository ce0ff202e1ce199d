"""torch.nn.modules.transformer: Transformer and its encoder/decoder layers."""

__all__ = []
