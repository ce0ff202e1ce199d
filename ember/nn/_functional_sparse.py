"""torch.nn.functional's embedding and embedding_bag."""

__all__ = []
