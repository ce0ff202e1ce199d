"""Tensor.register_hook (leaf and non-leaf, modifying the gradient, removal), retain_grad, Node hooks."""
import ember
from autograd_compare import same, same_error


def test_hook_on_leaf_sees_and_replaces_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()))
        x.register_hook(lambda g: g * 10)
        (x * x).sum().backward()
        return seen, x.grad
    same(fn)


def test_hook_on_non_leaf_modifies_upstream_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        seen = []

        def hook(g):
            seen.append(g.clone())
            return g + 1
        y.register_hook(hook)
        (y * y).sum().backward()
        return seen, x.grad
    same(fn)


def test_hook_returning_none_keeps_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.register_hook(lambda g: None)
        y.sum().backward()
        return x.grad
    same(fn)


def test_hooks_run_in_registration_order_and_chain():
    def fn(torch):
        x = torch.tensor([1.0], requires_grad=True)
        y = x * 2
        order = []

        def make(k):
            def hook(g):
                order.append((k, g.item()))
                return g * k
            return hook
        for k in (2, 3, 5):
            y.register_hook(make(k))
        y.sum().backward()
        return order, x.grad
    same(fn)


def test_hook_handle_remove():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        h = x.register_hook(lambda g: g * 100)
        h.remove()
        y = x * 2
        h2 = y.register_hook(lambda g: g * 100)
        h2.remove()
        y.sum().backward()
        return x.grad
    same(fn)


def test_hook_on_tensor_without_grad_raises():
    def fn(torch):
        torch.ones(2).register_hook(lambda g: g)
    same_error(fn)


def test_hook_called_once_with_summed_grad_for_shared_tensor():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        calls = []
        y.register_hook(lambda g: calls.append(g.clone()))
        (y * y + y.exp()).sum().backward()
        return calls, x.grad
    same(fn)


def test_hooks_run_under_autograd_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.register_hook(lambda g: g * 2)
        x.register_hook(lambda g: g + 1)
        (g,) = torch.autograd.grad(y.sum(), x)
        return g, x.grad
    same(fn)


def test_hook_on_view_of_non_leaf():
    def fn(torch):
        x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * 1
        v = y[0]
        v.register_hook(lambda g: g * 5)
        (v.sum() + y.sum()).backward()
        return x.grad
    same(fn)


def test_hook_with_create_graph_sees_differentiable_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        flags = []
        y = x ** 3
        y.register_hook(lambda g: flags.append(g.requires_grad))
        (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        return flags, g
    same(fn, grad_fn=False)


# --- retain_grad --------------------------------------------------------------------------------------------
def test_retain_grad_on_non_leaf_and_accumulation():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        z = (y * y).sum()
        z.backward(retain_graph=True)
        first = y.grad.clone()
        z.backward()
        return first, y.grad, y.retains_grad, x.grad
    same(fn)


def test_retain_grad_sees_grad_after_hooks():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 3)  # registered after retain_grad: still applied first
        y.sum().backward()
        return y.grad, x.grad
    same(fn)


def test_retain_grad_on_leaf_is_no_op():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        x.retain_grad()
        (x * 2).sum().backward()
        return x.retains_grad, x.grad
    same(fn)


def test_retain_grad_without_requires_grad_raises():
    def fn(torch):
        torch.ones(2).retain_grad()
    same_error(fn)


def test_retain_grad_with_autograd_grad_does_not_populate():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        torch.autograd.grad(y.sum(), x)
        return y.grad
    same(fn)


def test_retain_grad_on_tensor_later_modified_in_place():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        return y.grad, x.grad
    same(fn)


# --- Node hooks ---------------------------------------------------------------------------------------------
def test_grad_fn_register_hook_and_prehook():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        seen = []

        def post(grad_inputs, grad_outputs):
            seen.append(("post", [None if g is None else g.tolist() for g in grad_inputs],
                         [g.tolist() for g in grad_outputs]))

        def pre(grad_outputs):
            seen.append(("pre", [g.tolist() for g in grad_outputs]))
            return (grad_outputs[0] * 2,)
        y.grad_fn.register_hook(post)
        y.grad_fn.register_prehook(pre)
        y.sum().backward()
        return seen, x.grad
    same(fn)


def test_post_accumulate_grad_hook():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        x.register_post_accumulate_grad_hook(lambda t: seen.append((t is x, t.grad.tolist())))
        (x * x).sum().backward()
        (x * x).sum().backward()
        return seen
    same(fn)


def test_hook_registered_before_in_place_sees_old_value_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        y.mul_(3)
        (y * y).sum().backward()
        return seen, x.grad
    same(fn)
