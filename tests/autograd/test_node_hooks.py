"""Hooks on the graph's nodes against PyTorch: grad_fn.register_hook / register_prehook (what they see, return
values replacing gradients, PyTorch's checks of those values, removable handles), their order relative to
tensor hooks and retain_grad, hooks on AccumulateGrad; Node.name / next_functions / metadata;
torch.autograd.graph.register_multi_grad_hook (mode "all" and "any") and increment_version."""
import pytest

from autograd_compare import same, same_error


def _lists(grads):
    return [None if g is None else g.tolist() for g in grads]


def test_order_of_tensor_hooks_retain_grad_prehooks_and_posthooks():
    def fn(torch):
        log = []
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        w = torch.tensor([3.0, 4.0], requires_grad=True)
        y = x * w
        y.register_hook(lambda g: log.append(("tensor", g.tolist())) or g * 2)
        y.grad_fn.register_prehook(lambda go: log.append(("pre", _lists(go))) or (go[0] + 1,))
        y.grad_fn.register_hook(lambda gi, go: log.append(("post", _lists(gi), _lists(go))) or (gi[0] * 10, None))
        y.retain_grad()
        y.register_hook(lambda g: log.append(("tensor2", g.tolist())))
        y.sum().backward()
        return log, x.grad, w.grad, y.grad
    same(fn)


def test_several_hooks_run_in_registration_order_and_chain():
    def fn(torch):
        log = []
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.grad_fn.register_prehook(lambda go: log.append("pre1") or (go[0] * 2,))
        y.grad_fn.register_prehook(lambda go: log.append(("pre2", _lists(go))))
        y.grad_fn.register_prehook(lambda go: (go[0] + 1,))
        y.grad_fn.register_hook(lambda gi, go: log.append(("post1", _lists(gi))) or (gi[0] * 3,))
        y.grad_fn.register_hook(lambda gi, go: log.append(("post2", _lists(gi))))
        y.sum().backward()
        return log, x.grad
    same(fn)


def test_posthook_sees_none_for_inputs_without_gradient_and_unused_outputs():
    def fn(torch):
        seen = []
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * torch.tensor([3.0, 4.0])
        y.grad_fn.register_hook(lambda gi, go: seen.append((_lists(gi), _lists(go))))
        y.sum().backward()
        return seen
    same(fn)


def test_prehook_on_a_multi_output_node_sees_none_for_unused_outputs():
    def fn(torch):
        seen = []
        x = torch.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
        eigenvalues, eigenvectors = torch.linalg.eigh(x @ x.T)
        node = eigenvalues.grad_fn
        node.register_prehook(lambda go: seen.append([g is None for g in go]))
        node.register_hook(lambda gi, go: seen.append(([g is None for g in gi], [g is None for g in go])))
        eigenvalues.sum().backward()
        return seen, node is eigenvectors.grad_fn
    same(fn)


def test_removed_hooks_do_not_run_and_handles_are_context_managers():
    def fn(torch):
        log = []
        x = torch.tensor([1.0], requires_grad=True)
        y = x * 2
        h = y.grad_fn.register_prehook(lambda go: log.append("pre"))
        h2 = y.grad_fn.register_hook(lambda gi, go: log.append("post"))
        h.remove()
        h.remove()  # removing twice is harmless
        h2.remove()
        with y.grad_fn.register_prehook(lambda go: log.append("ctx")):
            pass
        y.sum().backward()
        return log, x.grad
    same(fn)


def test_hooks_on_accumulate_grad():
    def fn(torch):
        log = []
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        acc = (x * 1).grad_fn.next_functions[0][0]
        acc.register_prehook(lambda go: log.append(("pre", _lists(go))) or (go[0] * 10,))
        acc.register_hook(lambda gi, go: log.append(("post", _lists(gi), _lists(go))))
        (x * 3).sum().backward()
        return log, x.grad, acc.name(), type(acc).__name__
    same(fn)


def test_hooks_under_create_graph_double_backward():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x ** 3
        y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
        (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        g.sum().backward()
        return g, x.grad
    same(fn, grad_fn=False)  # NOTE: the nodes of a double-backward graph are each library's own formulas


BAD_RETURNS = {
    "prehook too many": lambda torch, y: y.grad_fn.register_prehook(lambda go: (go[0], go[0])),
    "prehook a tensor": lambda torch, y: y.grad_fn.register_prehook(lambda go: go[0]),
    "prehook a list": lambda torch, y: y.grad_fn.register_prehook(lambda go: [go[0]]),
    "posthook too few": lambda torch, y: y.grad_fn.register_hook(lambda gi, go: (gi[0],)),
    "posthook a list": lambda torch, y: y.grad_fn.register_hook(lambda gi, go: list(gi)),
    "named hook": lambda torch, y: y.grad_fn.register_prehook(_named_hook),
}


def _named_hook(grad_outputs):
    return grad_outputs + grad_outputs


@pytest.mark.parametrize("case", BAD_RETURNS)
def test_bad_hook_returns(case):
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        w = torch.tensor([3.0, 4.0], requires_grad=True)
        y = x * w
        BAD_RETURNS[case](torch, y)
        y.sum().backward()
    same_error(fn)


def test_node_name_next_functions_and_metadata():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x * 2).exp()
        node = y.grad_fn
        node.metadata["tag"] = 7
        nxt = [(type(n).__name__, i) for n, i in node.next_functions]
        leaf = node.next_functions[0][0].next_functions[0][0]
        base = torch.ones(3, requires_grad=True).clone()
        base[0].mul_(2)
        return (node.name(), nxt, node.metadata, leaf.name(), isinstance(node, torch.autograd.graph.Node),
                y.grad_fn.metadata["tag"], base.grad_fn.name(), type(base.grad_fn).__name__)
    same(fn)


# --- register_multi_grad_hook --------------------------------------------------------------------------------
def test_multi_grad_hook_all_once_per_backward_with_none_for_unreached():
    def fn(torch):
        log = []
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = torch.tensor([3.0], requires_grad=True)
        c = torch.tensor([5.0], requires_grad=True)
        h = torch.autograd.graph.register_multi_grad_hook((a, b, c), lambda grads: log.append(_lists(grads)))
        (a.sum() * 2 + b.sum() * 3).backward()
        (a.sum() * 2 + b.sum() * 3 + c.sum()).backward()
        h.remove()
        (a.sum() + b.sum()).backward()
        return log, a.grad, b.grad
    same(fn)


def test_multi_grad_hook_all_on_non_leaves_and_autograd_grad():
    def fn(torch):
        log = []
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        y, z = a * 2, a * 3
        torch.autograd.graph.register_multi_grad_hook((y, z), lambda grads: log.append(_lists(grads)))
        (y.sum() + z.sum() * 4).backward(retain_graph=True)
        torch.autograd.grad(y.sum(), a)
        return log
    same(fn)


def test_multi_grad_hook_any_runs_with_the_first_gradient():
    def fn(torch):
        log = []
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        y = a * 2
        z = y * 3
        with torch.autograd.graph.register_multi_grad_hook((a, y), lambda g: log.append(g.tolist()), mode="any"):
            z.sum().backward(retain_graph=True)  # y's gradient comes before a's
            z.sum().backward()
        (a * 5).sum().backward()  # removed
        return log
    same(fn)


def test_multi_grad_hook_bad_mode():
    same_error(lambda torch: torch.autograd.graph.register_multi_grad_hook(
        (torch.ones(1, requires_grad=True),), lambda g: None, mode="some"))


def test_multi_grad_hook_leaf_inside_autograd_grad_is_refused():
    def fn(torch):
        a = torch.tensor([1.0], requires_grad=True)
        b = torch.tensor([1.0], requires_grad=True)
        torch.autograd.graph.register_multi_grad_hook((a, b), lambda grads: None)
        torch.autograd.grad((a * b).sum(), a)
    same_error(fn)


# --- increment_version -----------------------------------------------------------------------------------------
def test_increment_version():
    def fn(torch):
        x = torch.ones(2)
        torch.autograd.graph.increment_version(x)
        after_one = x._version
        torch.autograd.graph.increment_version([x, x])
        return after_one, x._version
    same(fn)


@pytest.mark.host_only(reason="the message names the tensor type, torch.cuda.FloatTensor on cuda")
def test_increment_version_trips_the_saved_tensor_check():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        torch.autograd.graph.increment_version(y)
        y.sum().backward()
    same_error(fn)


def test_increment_version_skips_inference_tensors():
    def fn(torch):
        with torch.inference_mode():
            t = torch.ones(1)
        torch.autograd.graph.increment_version(t)
        return t.is_inference()
    same(fn)


def test_tensor_hook_handles_are_context_managers_and_remove_once():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        with y.register_hook(lambda g: g * 100):
            pass
        h = x.register_hook(lambda g: g * 3)
        h.remove()
        h.remove()
        x.register_hook(lambda g: g + 1)
        y.sum().backward()
        return x.grad, type(h).__name__
    same(fn)
