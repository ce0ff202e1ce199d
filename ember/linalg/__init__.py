"""torch.linalg: linear algebra (norms, inverses, decompositions, solvers)."""
