"""Primitives behind torch.nn.functional (activations, convolution, pooling, normalisation, losses, RNN
layers, attention, embedding, resampling); the public functions are in ember/nn/."""
