"""Linear algebra: matrix products (matmul.py), fused and composed products, einsum, and torch.linalg's
inverses, solves, decompositions and matrix functions."""
