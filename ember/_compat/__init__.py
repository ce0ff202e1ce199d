"""Legacy forms of the PyTorch API: torch.Tensor(5, 3), FloatTensor, Variable."""
