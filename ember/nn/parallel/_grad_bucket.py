"""torch.distributed.GradBucket: what a DDP communication hook receives for one bucket of gradients."""


class GradBucket:
    """One bucket of DDP gradients: a flat buffer() holding them, and their parameters, handed to a comm hook."""

    def __init__(self, index, buffer, gradients, parameters, is_last):
        self._index = index
        self._buffer = buffer
        self._gradients = gradients
        self._parameters = parameters
        self._is_last = is_last

    def index(self):
        """The bucket's index (0: the first one reduced in an iteration)."""
        return self._index

    def buffer(self):
        """The flattened gradients of the bucket's parameters, one 1-D tensor."""
        return self._buffer

    def gradients(self):
        """Each parameter's gradient, as views into buffer() in the parameter's shape."""
        return list(self._gradients)

    def parameters(self):
        """The model parameters whose gradients are in the bucket."""
        return list(self._parameters)

    def is_last(self):
        """Whether this is the last bucket reduced in the iteration."""
        return self._is_last

    def set_buffer(self, buffer):
        """Replace the bucket's buffer (a hook that reduced into another tensor)."""
        self._buffer = buffer

    def __repr__(self):
        return f"GradBucket(index={self._index}, parameters={len(self._parameters)})"
