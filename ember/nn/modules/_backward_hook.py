"""Module full backward hooks: identity Functions around a module's inputs and outputs.

The outputs' identity sees the gradients w.r.t. the outputs (grad_output, which backward pre-hooks
may replace); the inputs' identity sees the gradients w.r.t. the inputs (grad_input), calls the
hooks with both, and passes on what they return, as PyTorch's BackwardHook does.
"""
from ..._tensor import Tensor
from ...autograd.function import Function


def _flatten(value):
    return list(value) if isinstance(value, tuple) else [value]


class _Identity(Function):
    @staticmethod
    def forward(ctx, fn, *tensors):
        ctx.fn = fn
        out = tuple(t.view_as(t) for t in tensors)
        return out if len(out) > 1 else out[0]

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.fn(grads))


class BackwardHook:
    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_output = None
        self.n_inputs = 0
        self.input_positions = []

    def _wrap(self, values, on_grads):
        """Route the tensors requiring grad in `values` through one identity node."""
        values = list(values)
        positions = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
        if not positions:
            return values, positions
        out = _Identity.apply(on_grads, *[values[i] for i in positions])
        out = out if isinstance(out, tuple) else (out,)
        for i, t in zip(positions, out):
            values[i] = t
        return values, positions

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        values, self.input_positions = self._wrap(args, self._on_grad_input)
        return tuple(values)

    def setup_output_hook(self, output):
        is_tuple = isinstance(output, tuple)
        values, positions = self._wrap(_flatten(output), self._on_grad_output)
        self.output_positions = positions
        if not self.input_positions:
            # NOTE: no input requires grad; PyTorch still calls the hooks, with grad_input all None.
            self._no_inputs = True
        return tuple(values) if is_tuple else values[0]

    def _on_grad_output(self, grads):
        grads = list(grads)
        full = [None] * (max(self.output_positions) + 1)
        for i, g in zip(self.output_positions, grads):
            full[i] = g
        full = tuple(full)
        for hook in self.pre_hooks:
            result = hook(self.module, full)
            if result is not None:
                full = tuple(_flatten(result))
        self.grad_output = full
        if not self.input_positions:
            grad_input = (None,) * max(self.n_inputs, 1)
            for hook in self.hooks:
                hook(self.module, grad_input, self.grad_output)
        return [full[i] for i in self.output_positions]

    def _on_grad_input(self, grads):
        full = [None] * self.n_inputs
        for i, g in zip(self.input_positions, grads):
            full[i] = g
        full = tuple(full)
        for hook in self.hooks:
            result = hook(self.module, full, self.grad_output)
            if result is not None:
                result = tuple(_flatten(result))
                if len(result) != len(full):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                       f"{len(result)}, but expected {len(full)}")
                full = result
        return [full[i] for i in self.input_positions]
