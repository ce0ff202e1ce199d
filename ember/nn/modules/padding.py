"""torch.nn.modules.padding: the padding layers (zero, constant, reflection, replication, circular)."""

__all__ = []
