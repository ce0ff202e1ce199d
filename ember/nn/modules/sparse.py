"""torch.nn.modules.sparse: Embedding and EmbeddingBag."""

__all__ = []
