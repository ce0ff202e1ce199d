"""vmap's machinery: BatchedTensor (tensor.py) and the batching rules per op family (rules.py)."""
