"""torch.func's reverse-mode transforms (grad, grad_and_value, vjp, jacrev, hessian) and functional_call,
stack_module_state, against torch.func on the same inputs.

Each case is written once as `fn(torch)` and run on PyTorch and on ember (autograd_compare.same): values,
shapes, dtypes, requires_grad and is_leaf of every result must match, so a result is differentiable w.r.t.
outer computations exactly when PyTorch's is.
"""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "autograd"))  # NOTE: the shared helpers
from autograd_compare import same, same_error  # noqa: E402

RNG = np.random.default_rng(1414)
X3, Y3, V3 = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)
M34 = RNG.standard_normal((3, 4))
A33 = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
LOGITS = RNG.standard_normal((4, 5))
TARGET = np.array([0, 3, 1, 4])
BATCH = RNG.standard_normal((6, 3))
LABELS = np.array([0, 1, 1, 0, 1, 0])
MLP = {"0.weight": RNG.standard_normal((5, 3)), "0.bias": RNG.standard_normal(5),
       "2.weight": RNG.standard_normal((2, 5)), "2.bias": RNG.standard_normal(2)}


def t(torch, a, requires_grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)


def mlp(torch):
    """The digits-style MLP with the weights of MLP (scaled by 0.5, to tell them from the swapped-in ones)."""
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(t(torch, MLP[name] * 0.5))
    return model


def mlp_params(torch, requires_grad=False):
    return {k: t(torch, v, requires_grad) for k, v in MLP.items()}


# --- scalar functions: grad and grad_and_value -----------------------------------------------------------------
SCALAR = {
    "poly": (lambda torch: lambda x: (x ** 3 * 2 - x * x.sum()).sum(), lambda torch: (t(torch, X3),)),
    "poly2": (lambda torch: lambda x, y: (x ** 2 * y + y.exp() * x).sum(), lambda torch: (t(torch, X3), t(torch, Y3))),
    "mse": (lambda torch: lambda x: torch.nn.functional.mse_loss(x.tanh(), t(torch, Y3)),
            lambda torch: (t(torch, X3),)),
    "cross_entropy": (lambda torch: lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(TARGET)),
                      lambda torch: (t(torch, LOGITS),)),
    "det": (lambda torch: lambda a: torch.linalg.det(a), lambda torch: (t(torch, A33),)),
    "inv_trace": (lambda torch: lambda a: torch.linalg.inv(a).sum() + (a @ a).trace(), lambda torch: (t(torch, A33),)),
    "mlp_loss": (lambda torch: _mlp_loss(torch, mlp(torch)), lambda torch: (mlp_params(torch),)),
}


def _mlp_loss(torch, model):
    return lambda p: torch.nn.functional.cross_entropy(torch.func.functional_call(model, p, (t(torch, BATCH),)),
                                                       torch.tensor(LABELS))


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_grad_and_hessian_of_the_suite(name):
    make, args = SCALAR[name]

    def fn(torch):
        f, a = make(torch), args(torch)
        argnums = tuple(range(len(a)))
        out = [torch.func.grad(f)(*a), torch.func.grad(f, argnums=argnums)(*a),
               torch.func.grad_and_value(f, argnums=-1)(*a)]
        if name != "mlp_loss":
            out.append(torch.func.hessian(f)(*a))
        return out
    same(fn, grad_fn=False)


@pytest.mark.parametrize("name", ["poly", "poly2", "det"])
def test_hessian_argnums(name):
    make, args = SCALAR[name]

    def fn(torch):
        f, a = make(torch), args(torch)
        return torch.func.hessian(f, argnums=tuple(range(len(a))))(*a)
    same(fn, grad_fn=False)


def test_grad_has_aux_pytrees_and_kwargs():
    def fn(torch):
        def f(params, x, scale=1.0):
            loss = ((params["w"] * x).sum() + params["b"][0].sum() ** 2) * scale
            return loss, {"loss": loss, "w": params["w"] * 2}
        p = {"w": t(torch, X3), "b": [t(torch, Y3)]}
        return (torch.func.grad(f, has_aux=True)(p, t(torch, V3), scale=2.0),
                torch.func.grad_and_value(f, argnums=(0, 1), has_aux=True)(p, t(torch, V3)))
    same(fn, grad_fn=False)


def test_grad_of_input_unused_is_zero_and_int_args_pass_through():
    def fn(torch):
        return (torch.func.grad(lambda x, y, n: (y * n).sum(), argnums=(0, 1))(t(torch, X3), t(torch, Y3), 3),
                torch.func.grad(lambda x: t(torch, 2.0))(t(torch, X3)))
    same(fn, grad_fn=False)


# --- nesting and outer autograd ----------------------------------------------------------------------------------
def cube(x):
    return (x ** 3).sum()


NESTED = {
    "grad_grad": lambda torch: torch.func.grad(lambda x: torch.func.grad(lambda y: (y ** 3))(x))(t(torch, 1.5)),
    "grad_grad_grad": lambda torch: torch.func.grad(torch.func.grad(torch.func.grad(torch.sin)))(t(torch, 0.7)),
    "jacrev_grad": lambda torch: torch.func.jacrev(torch.func.grad(cube))(t(torch, X3)),
    "jacrev_jacrev": lambda torch: torch.func.jacrev(torch.func.jacrev(lambda x: x.sin() * x.sum()))(t(torch, X3)),
    "grad_calls_grad": lambda torch: torch.func.grad(
        lambda x: (torch.func.grad(cube)(x) * x).sum())(t(torch, X3)),
    "closure_over_outer_variable": lambda torch: torch.func.grad(
        lambda x: torch.func.grad(lambda y: (x * y ** 2).sum())(x).sum())(t(torch, X3)),
    "vjp_of_grad": lambda torch: torch.func.vjp(torch.func.grad(cube), t(torch, X3))[1](t(torch, V3)),
    "grad_of_vjp": lambda torch: torch.func.grad(
        lambda x: torch.func.vjp(torch.sin, x)[1](x)[0].sum())(t(torch, X3)),
    "grad_of_jacrev": lambda torch: torch.func.grad(
        lambda x: torch.func.jacrev(lambda y: y ** 2 * x.sum())(x).sum())(t(torch, X3)),
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_nested_transforms(name):
    same(NESTED[name], grad_fn=False)


def _no_grad_square(torch, x):
    with torch.no_grad():
        return x ** 2


def _quietly(torch, f):
    with torch.no_grad():
        return f()


EDGES = {
    "complex_argument": lambda torch: torch.func.grad(lambda z: (z.abs() ** 2).sum())(torch.tensor([1 + 2j, 3 - 1j])),
    "complex_vjp": lambda torch: torch.func.vjp(lambda z: z * z, torch.tensor([1 + 2j, 3 - 1j]))[1](
        torch.tensor([1 + 0j, 1j])),
    "float32_hessian": lambda torch: torch.func.hessian(lambda x: (x ** 3).sum())(torch.tensor([1.0, 2.0])),
    "zero_dim_jacrev": lambda torch: torch.func.jacrev(lambda x: x ** 2)(t(torch, 3.0)),
    "empty_argument": lambda torch: torch.func.grad(lambda x, y: (x * 2).sum() + y.sum(), argnums=(0, 1))(
        t(torch, [1.0, 2.0]), t(torch, [])),
    "jacrev_wrt_empty_argument": lambda torch: torch.func.jacrev(lambda x, y: x * 2 + y.sum(), argnums=1)(
        t(torch, [1.0, 2.0]), t(torch, [])),
    "keyword_arguments_pass_through": lambda torch: torch.func.grad(lambda x, *, s: (x * s).sum())(
        t(torch, [1.0, 2.0]), s=t(torch, [3.0, 4.0])),
    "grad_of_a_tensor_method": lambda torch: torch.func.grad(torch.Tensor.sum)(t(torch, [1.0, 2.0])),
    "non_tensor_argument_not_differentiated": lambda torch: torch.func.grad(lambda n, x: (x ** n).sum(), argnums=1)(
        3, t(torch, [1.0, 2.0])),
    "jacrev_of_linear_function_is_constant": lambda torch: torch.func.jacrev(lambda x: x * 2)(
        t(torch, [1.0, 2.0], True)),
    "jacrev_blocks_with_a_captured_tensor": lambda torch: (lambda w: torch.func.jacrev(
        lambda x, y: (x * y * w, x[:2] * 3, (y * y).sum()), argnums=(0, 1))(t(torch, [1.0, 2.0, 3.0]),
                                                                            t(torch, [3.0, 4.0, 5.0])))(
        t(torch, [1.0, 1.0, 2.0], True)),
    "jacrev_empty_output": lambda torch: torch.func.jacrev(lambda x: (x[:0], x * 2))(t(torch, [1.0, 2.0])),
    "jacrev_under_no_grad": lambda torch: _quietly(
        torch, lambda: torch.func.jacrev(lambda x: x ** 2)(t(torch, [1.0, 2.0], True))),
    "hessian_of_argument_requiring_grad": lambda torch: torch.func.hessian(lambda x: (x ** 3).sum())(
        t(torch, [1.0, 2.0], True)),
    "grad_grad_under_no_grad": lambda torch: _quietly(
        torch, lambda: torch.func.grad(torch.func.grad(lambda x: x ** 3))(t(torch, 2.0))),
    "vjp_fn_called_under_no_grad": lambda torch: (lambda r: _quietly(torch, lambda: r[1](t(torch, [1.0, 1.0]))))(
        torch.func.vjp(lambda x: x ** 2, t(torch, [1.0, 2.0], True))),
    # x * d/dy(x*y) = x*x: the inner grad must not mistake the outer x for its own variable
    "perturbation_confusion": lambda torch: torch.func.grad(
        lambda x: x * torch.func.grad(lambda y: x * y)(t(torch, 3.0)))(t(torch, 2.0)),
    "non_leaf_argument": lambda torch: (lambda a: (lambda g: (g, torch.autograd.grad(g.sum(), a)))(
        torch.func.grad(lambda x: (x ** 3).sum())(a * 2)))(t(torch, [1.0, 2.0], True)),
    "linear_function_gradient_is_constant": lambda torch: torch.func.grad(
        lambda x: (x * 2).sum())(t(torch, [1.0, 2.0], True)),
    "no_grad_inside_is_respected": lambda torch: torch.func.grad(
        lambda x: (x - _no_grad_square(torch, x)).sum())(t(torch, [1.0, 2.0])),
    "jacrev_has_aux_argnums": lambda torch: torch.func.jacrev(
        lambda x, y: (x * y, y.sum()), argnums=(0, 1), has_aux=True)(t(torch, [1.0, 2.0]), t(torch, [3.0, 4.0])),
    "value_is_the_argument": lambda torch: torch.func.grad_and_value(lambda x: x)(t(torch, 2.0)),
    "value_is_the_argument_requiring_grad": lambda torch: torch.func.grad_and_value(lambda x: x)(t(torch, 2.0, True)),
    "nested_grad_and_value": lambda torch: torch.func.grad_and_value(
        lambda x: torch.func.grad_and_value(lambda y: y ** 3)(x)[0])(t(torch, 2.0)),
    "jacrev_scalar_output": lambda torch: torch.func.jacrev(lambda x: x.sum())(t(torch, [1.0, 2.0])),
    "jacrev_dict_in_dict_out": lambda torch: torch.func.jacrev(lambda d: {"a": d["x"] * d["y"]})(
        {"x": t(torch, [1.0, 2.0]), "y": t(torch, [3.0, 4.0])}),
    "float32": lambda torch: torch.func.jacrev(lambda x: x.sigmoid())(torch.tensor([0.5, 1.0])),
    "captured_tensor_requiring_grad": lambda torch: (lambda w: torch.func.grad(lambda x: (x * w * x).sum())(
        t(torch, [1.0, 2.0])))(t(torch, [3.0, 4.0], True)),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edge_cases(name):
    same(EDGES[name], grad_fn=False)


@pytest.mark.parametrize("transform", ["grad", "jacrev", "vjp", "hessian"])
def test_results_follow_outer_autograd(transform):
    """An argument that requires grad: results are differentiable w.r.t. it (and .grad is set only by
    the outer backward), as PyTorch's are; a captured tensor that requires grad likewise."""
    def fn(torch):
        x, w = t(torch, X3, True), t(torch, Y3, True)

        def f(z):
            return (z.sin() * w * z).sum()
        if transform == "vjp":
            out, vjp_fn = torch.func.vjp(f, x)
            r = vjp_fn(t(torch, 1.5))[0]
        else:
            r = getattr(torch.func, transform)(f)(x)
        before = (x.grad, w.grad)
        r.sum().backward()
        return r, before, x.grad, w.grad
    same(fn, grad_fn=False)


@pytest.mark.parametrize("transform", ["grad", "jacrev", "vjp", "hessian", "grad_and_value"])
def test_results_are_plain_without_outer_autograd(transform):
    """Nothing outside requires grad: results do not require grad; under no_grad neither, even with an
    argument that requires grad; .grad is never touched."""
    def fn(torch):
        x = t(torch, X3)
        xr = t(torch, X3, True)

        def f(z):
            return (z.sin() * z).sum()
        if transform == "vjp":
            plain = torch.func.vjp(f, x)
            with torch.no_grad():
                quiet = torch.func.vjp(f, xr)
            return plain[0], plain[1](t(torch, 2.0)), quiet[0], quiet[1](t(torch, 2.0)), xr.grad
        g = getattr(torch.func, transform)(f)
        with torch.no_grad():
            quiet = g(xr)
        return g(x), quiet, xr.grad
    same(fn, grad_fn=False)


def test_physics_informed_loss_trains_the_parameters():
    """u(x) a small network; d2u/dx2 by grad(grad(u)); a loss on it back-propagates into the parameters
    (the module's Parameters are outside the transforms, so the derivatives stay differentiable)."""
    def fn(torch):
        model = torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
        with torch.no_grad():
            for p, a in zip(model.parameters(), (MLP["0.weight"][:4, :1], MLP["0.bias"][:4],
                                                 MLP["2.weight"][:1, :4], MLP["2.bias"][:1])):
                p.copy_(t(torch, a))

        def u(x):
            return model(x.reshape(1, 1)).sum()
        xs = t(torch, [0.1, 0.5, -0.3])
        d2u = torch.stack([torch.func.grad(torch.func.grad(u))(x) for x in xs])
        du = torch.stack([torch.func.grad(u)(x) for x in xs])
        loss = (d2u + du).pow(2).mean()
        loss.backward()
        return d2u, du, loss, [p.grad for p in model.parameters()]
    same(fn, grad_fn=False)


def test_vjp_fn_create_graph_and_retain_graph():
    def fn(torch):
        x, ct = t(torch, X3, True), t(torch, V3, True)
        out, vjp_fn = torch.func.vjp(lambda z: z ** 3, x)
        a = vjp_fn(ct)
        b = vjp_fn(ct, create_graph=False)
        with torch.no_grad():
            c = vjp_fn(ct)
        d = torch.autograd.grad(a[0].sum(), (x, ct))
        return out, a, b, c, d
    same(fn, grad_fn=False)


# --- vjp and jacrev ---------------------------------------------------------------------------------------------
VECTOR = {
    "poly": (lambda torch: lambda x: x ** 2 * x.sum(), lambda torch: (t(torch, X3),)),
    "matmul": (lambda torch: lambda x, m: x @ m, lambda torch: (t(torch, X3), t(torch, M34))),
    "softmax": (lambda torch: lambda x: torch.softmax(x * 2, 0), lambda torch: (t(torch, X3),)),
    "inv": (lambda torch: lambda a: torch.linalg.inv(a), lambda torch: (t(torch, A33),)),
    "mlp": (lambda torch: _mlp_call(mlp(torch)),
            lambda torch: (mlp_params(torch), t(torch, BATCH[:2]))),
    "tuple_out": (lambda torch: lambda x, y: (x * y, {"s": (x.sin() * y).sum(), "l": [x[:2] * 3]}),
                  lambda torch: (t(torch, X3), t(torch, Y3))),
}


def _mlp_call(model):
    from ember.func import functional_call as ember_call
    from torch.func import functional_call as torch_call
    call = ember_call if type(model).__module__.startswith("ember") else torch_call
    return lambda p, x: call(model, p, x)


@pytest.mark.parametrize("name", sorted(VECTOR))
def test_jacrev_of_the_suite(name):
    make, args = VECTOR[name]

    def fn(torch):
        f, a = make(torch), args(torch)
        return (torch.func.jacrev(f)(*a), torch.func.jacrev(f, argnums=tuple(range(len(a))))(*a),
                torch.func.jacrev(f, argnums=-1, chunk_size=2)(*a))
    same(fn, grad_fn=False)


@pytest.mark.parametrize("name", sorted(VECTOR))
def test_vjp_of_the_suite(name):
    make, args = VECTOR[name]

    def fn(torch):
        f, a = make(torch), args(torch)
        out, vjp_fn = torch.func.vjp(f, *a)
        cts = _halves_like(torch, out)
        return out, vjp_fn(cts), vjp_fn(cts)
    same(fn, grad_fn=False)


def _halves_like(torch, tree):
    """A cotangent pytree shaped as `tree` (tuples, lists, dicts of tensors), every entry 0.5."""
    if isinstance(tree, dict):
        return {k: _halves_like(torch, v) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(_halves_like(torch, v) for v in tree)
    return torch.full_like(tree, 0.5)


def test_jacrev_and_vjp_has_aux():
    def fn(torch):
        def f(x):
            return x ** 2, {"aux": x.sum(), "k": [x * 3]}
        out, vjp_fn, aux = torch.func.vjp(f, t(torch, X3), has_aux=True)
        return torch.func.jacrev(f, has_aux=True)(t(torch, X3)), out, aux, vjp_fn(t(torch, V3))
    same(fn, grad_fn=False)


# --- errors -------------------------------------------------------------------------------------------------------
ERRORS = {
    "grad_non_scalar": lambda torch: torch.func.grad(lambda x: x)(t(torch, X3)),
    "grad_tuple_output": lambda torch: torch.func.grad(lambda x: (x.sum(),))(t(torch, X3)),
    "grad_float_output": lambda torch: torch.func.grad(lambda x: 3.0)(t(torch, X3)),
    "grad_has_aux_not_pair": lambda torch: torch.func.grad(lambda x: x.sum(), has_aux=True)(t(torch, X3)),
    "grad_and_value_has_aux_triple": lambda torch: torch.func.grad_and_value(
        lambda x: (x.sum(), 1, 2), has_aux=True)(t(torch, X3)),
    "argnum_out_of_range": lambda torch: torch.func.grad(lambda x: x.sum(), argnums=1)(t(torch, X3)),
    "argnum_negative_out_of_range": lambda torch: torch.func.grad(lambda x: x.sum(), argnums=-2)(t(torch, X3)),
    "argnums_repeated": lambda torch: torch.func.grad(lambda x: x.sum(), argnums=(0, 0))(t(torch, X3)),
    "argnums_empty": lambda torch: torch.func.grad(lambda x: x.sum(), argnums=())(t(torch, X3)),
    "argnums_list": lambda torch: torch.func.grad(lambda x: x.sum(), argnums=[0])(t(torch, X3)),
    "argnums_float": lambda torch: torch.func.grad(lambda x: x.sum(), argnums=0.0)(t(torch, X3)),
    "argnums_tuple_of_float": lambda torch: torch.func.grad(lambda x: x.sum(), argnums=(0.0,))(t(torch, X3)),
    "grad_wrt_int": lambda torch: torch.func.grad(lambda x, n: x.sum(), argnums=1)(t(torch, X3), 3),
    "grad_wrt_int_tensor": lambda torch: torch.func.grad(lambda x: x.sum())(torch.arange(3)),
    "grad_aux_not_tensors": lambda torch: torch.func.grad(lambda x: (x.sum(), [x, 2.0]), has_aux=True)(t(torch, X3)),
    "vjp_aux_none": lambda torch: torch.func.vjp(lambda x: (x, None), t(torch, X3), has_aux=True),
    "vjp_int_output": lambda torch: torch.func.vjp(lambda x: x.long(), t(torch, X3)),
    "vjp_none_output": lambda torch: torch.func.vjp(lambda x: None, t(torch, X3)),
    "vjp_non_tensor_output": lambda torch: torch.func.vjp(lambda x: (x, 3), t(torch, X3)),
    "vjp_has_aux_not_pair": lambda torch: torch.func.vjp(lambda x: x, t(torch, X3), has_aux=True),
    "vjp_cotangent_structure": lambda torch: torch.func.vjp(lambda x: (x * 2, x.sum()), t(torch, X3))[1](
        t(torch, V3)),
    "vjp_cotangent_dict": lambda torch: torch.func.vjp(lambda x: {"a": x * 2, "b": [x]}, t(torch, X3))[1](
        (t(torch, V3),)),
    "jacrev_chunk_size": lambda torch: torch.func.jacrev(lambda x: x, chunk_size=0),
    "jacrev_complex_input": lambda torch: torch.func.jacrev(lambda x: x)(torch.ones(2, dtype=torch.complex128)),
    "jacrev_complex_output": lambda torch: torch.func.jacrev(lambda x: x * 1j)(t(torch, X3)),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors(case):
    same_error(ERRORS[case])


# --- functional_call ------------------------------------------------------------------------------------------------
class _Scaled:
    """A module factory with a parameter, a buffer and a tied weight (built per library)."""

    @staticmethod
    def make(torch):
        class Scaled(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = torch.nn.Linear(3, 3, bias=False).double()
                self.out = torch.nn.Linear(3, 3, bias=False).double()
                self.out.weight = self.lin.weight  # tied
                self.register_buffer("scale", t(torch, [2.0, 3.0, 4.0]))
                with torch.no_grad():
                    self.lin.weight.copy_(t(torch, M34[:, :3]))

            def forward(self, x, shift=0.0):
                return self.out(self.lin(x) * self.scale) + shift
        return Scaled()


def test_functional_call_swaps_and_restores():
    def fn(torch):
        model = mlp(torch)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        p = mlp_params(torch)
        out = torch.func.functional_call(model, p, (t(torch, BATCH),))
        out_single = torch.func.functional_call(model, p, t(torch, BATCH[0]))
        after = model.state_dict()
        still_params = [type(v).__name__ for v in model.parameters()]
        return out, out_single, [torch.equal(before[k], after[k]) for k in before], still_params
    same(fn, grad_fn=False)


def test_functional_call_kwargs_buffers_sequences_and_tied_weights():
    def fn(torch):
        m = _Scaled.make(torch)
        w = t(torch, A33)
        x = t(torch, BATCH[:2])
        return (torch.func.functional_call(m, {"lin.weight": w}, (x,), {"shift": 1.0}),
                torch.func.functional_call(m, ({"lin.weight": w}, {"scale": t(torch, Y3)}), x),
                torch.func.functional_call(m, {"out.weight": w}, x),
                torch.func.functional_call(m, {"lin.weight": w}, x, tie_weights=False),
                torch.func.functional_call(m, {"lin.weight": w, "out.weight": w}, x))
    same(fn, grad_fn=False)


def test_functional_call_writes_back_what_the_module_holds():
    """A buffer the forward reassigns ends in the given dict (and the module's own is restored); one it
    updates in place (BatchNorm's running stats) is the given tensor itself."""
    def fn(torch):
        class Counter(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("count", t(torch, 0.0))

            def forward(self, x):
                self.count = self.count + 1
                return x * self.count
        counter = Counter()
        given = {"count": t(torch, 5.0)}
        out = torch.func.functional_call(counter, given, (t(torch, X3),))
        bn = torch.nn.BatchNorm1d(3).double()
        mean, var = t(torch, X3), t(torch, [1.0, 2.0, 3.0])
        stats = {"running_mean": mean, "running_var": var}
        y = torch.func.functional_call(bn, stats, (t(torch, BATCH),))
        return out, given, counter.count, y, mean, var, stats["running_mean"] is mean, bn.running_mean
    same(fn, grad_fn=False)


def test_functional_call_restores_after_an_error():
    def fn(torch):
        model = mlp(torch)
        weight = model[0].weight
        try:
            torch.func.functional_call(model, mlp_params(torch), (t(torch, M34),))  # 4 features: the matmul fails
        except RuntimeError:
            pass
        return model[0].weight is weight, type(model[0].weight).__name__
    same(fn, grad_fn=False)


def test_functional_call_gradients_through_params():
    def fn(torch):
        model = mlp(torch)
        p = mlp_params(torch, requires_grad=True)
        loss = torch.nn.functional.cross_entropy(torch.func.functional_call(model, p, (t(torch, BATCH),)),
                                                 torch.tensor(LABELS))
        grads = torch.autograd.grad(loss, list(p.values()))
        return grads, [q.grad for q in model.parameters()]
    same(fn, grad_fn=False)


def test_per_sample_gradients_by_a_loop_of_grad():
    def fn(torch):
        model = mlp(torch)

        def loss(p, x, y):
            return torch.nn.functional.cross_entropy(torch.func.functional_call(model, p, (x[None],)), y[None])
        p = mlp_params(torch)
        return [torch.func.grad(loss)(p, t(torch, BATCH[i]), torch.tensor(LABELS[i])) for i in range(3)]
    same(fn, grad_fn=False)


FC_ERRORS = {
    "strict_missing": lambda torch: torch.func.functional_call(
        mlp(torch), {"0.weight": t(torch, MLP["0.weight"])}, (t(torch, BATCH),), strict=True),
    "strict_unexpected": lambda torch: torch.func.functional_call(
        mlp(torch), {**mlp_params(torch), "extra": t(torch, X3), "1.w": t(torch, X3)}, (t(torch, BATCH),),
        strict=True),
    "repeated_keys": lambda torch: torch.func.functional_call(
        mlp(torch), ({"0.bias": t(torch, X3)}, {"0.bias": t(torch, X3)}), (t(torch, BATCH),)),
    "not_dicts": lambda torch: torch.func.functional_call(mlp(torch), [{"0.bias": t(torch, X3)}, 3], ()),
    "not_a_dict": lambda torch: torch.func.functional_call(mlp(torch), 3, ()),
    "tied_two_values": lambda torch: torch.func.functional_call(
        _Scaled.make(torch), {"lin.weight": t(torch, A33), "out.weight": t(torch, A33)}, (t(torch, X3),)),
    "missing_submodule": lambda torch: torch.func.functional_call(
        mlp(torch), {"7.weight": t(torch, X3)}, (t(torch, BATCH),)),
    "non_tensor_value": lambda torch: torch.func.functional_call(
        mlp(torch), {"0.bias": 3.0}, (t(torch, BATCH),)),
}


@pytest.mark.parametrize("case", sorted(FC_ERRORS))
def test_functional_call_errors(case):
    same_error(FC_ERRORS[case])


# --- stack_module_state ---------------------------------------------------------------------------------------------
def test_stack_module_state():
    def fn(torch):
        models = [mlp(torch) for _ in range(3)]
        for i, m in enumerate(models):
            with torch.no_grad():
                for p in m.parameters():
                    p.mul_(i + 1)
        bn = [torch.nn.BatchNorm1d(3).double() for _ in range(2)]
        return torch.func.stack_module_state(models), torch.func.stack_module_state(bn)
    same(fn, grad_fn=False)


STACK_ERRORS = {
    "empty": lambda torch: torch.func.stack_module_state([]),
    "modes": lambda torch: torch.func.stack_module_state([mlp(torch), mlp(torch).eval()]),
    "classes": lambda torch: torch.func.stack_module_state([torch.nn.Linear(2, 2), torch.nn.Bilinear(2, 2, 2)]),
    "requires_grad": lambda torch: torch.func.stack_module_state(
        [torch.nn.Linear(2, 2), torch.nn.Linear(2, 2).requires_grad_(False)]),
}


@pytest.mark.parametrize("case", sorted(STACK_ERRORS))
def test_stack_module_state_errors(case):
    same_error(STACK_ERRORS[case])


# --- on the test device (EMBER_TEST_DEVICE=cuda: the CuPy stand-in, or a real GPU) -----------------------------------
def test_transforms_on_the_test_device():
    """grad, jacrev, hessian, vjp and functional_call keep every result on the arguments' device."""
    import ember
    from _device import DEVICE, TORCH_DEVICE, host
    from autograd_compare import compare

    def fn(torch):
        dev = DEVICE if torch is ember else TORCH_DEVICE
        x = torch.tensor(X3, dtype=torch.float64, device=dev)
        w = torch.tensor(Y3, dtype=torch.float64, device=dev, requires_grad=True)

        def f(z):
            return (z.sin() * z * w).sum()
        model = mlp(torch).to(dev)
        params = {k: v.to(dev) for k, v in mlp_params(torch).items()}
        out = [torch.func.grad(f)(x), torch.func.jacrev(torch.func.grad(f))(x), torch.func.hessian(f)(x),
               torch.func.vjp(f, x)[1](torch.tensor(2.0, dtype=torch.float64, device=dev))[0],
               torch.func.functional_call(model, params, (x[None],)),
               torch.func.grad(lambda p: torch.func.functional_call(model, p, (x[None],)).sum())(params)["0.weight"]]
        assert all(r.device.type == torch.device(dev).type for r in out)
        return [host(r) for r in out]
    compare(fn(__import__("torch")), fn(ember), grad_fn=False)


# --- under vmap: per-example gradients (ember.func.vmap comes from another branch of issue 14) ------------------------
XB, YB, XBB = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3)), RNG.standard_normal((2, 4, 3))


def _per_example_mlp_loss(torch):
    def loss(p, x, y):
        h = (x @ p["0.weight"].T + p["0.bias"]).tanh() @ p["2.weight"].T + p["2.bias"]
        return torch.nn.functional.cross_entropy(h[None], y[None])
    return loss


def _model_loss(torch):
    model = mlp(torch)
    return lambda p, x, y: torch.nn.functional.cross_entropy(torch.func.functional_call(model, p, (x[None],)), y[None])


def _sin_sum(x):
    return (x.sin() * x).sum()


UNDER_VMAP = {
    "vmap_grad": lambda torch: torch.func.vmap(torch.func.grad(_sin_sum))(t(torch, XB)),
    "vmap_grad_and_value": lambda torch: torch.func.vmap(torch.func.grad_and_value(_sin_sum))(t(torch, XB)),
    "vmap_grad_argnums": lambda torch: torch.func.vmap(torch.func.grad(
        lambda x, y: (x * y.exp()).sum(), argnums=(0, 1)))(t(torch, XB), t(torch, YB)),
    "vmap_grad_unbatched_argument": lambda torch: torch.func.vmap(torch.func.grad(
        lambda x, y: (x * y.exp()).sum(), argnums=(0, 1)), in_dims=(0, None))(t(torch, XB), t(torch, YB[0])),
    "per_example_mlp": lambda torch: torch.func.vmap(torch.func.grad(_per_example_mlp_loss(torch)),
                                                     in_dims=(None, 0, 0))(
        mlp_params(torch), t(torch, XB), torch.tensor([0, 1, 1, 0])),
    "per_example_functional_call": lambda torch: torch.func.vmap(torch.func.grad(_model_loss(torch)),
                                                                 in_dims=(None, 0, 0))(
        mlp_params(torch), t(torch, XB), torch.tensor([0, 1, 1, 0])),
    "vmap_jacrev": lambda torch: torch.func.vmap(torch.func.jacrev(lambda x: x.sin() * x.sum()))(t(torch, XB)),
    "vmap_hessian": lambda torch: torch.func.vmap(torch.func.hessian(_sin_sum))(t(torch, XB)),
    "vmap_vjp": lambda torch: torch.func.vmap(lambda x, v: torch.func.vjp(torch.sin, x)[1](v))(
        t(torch, XB), t(torch, YB)),
    "vmap_vjp_unbatched_cotangent": lambda torch: torch.func.vmap(
        lambda x: torch.func.vjp(torch.sin, x)[1](t(torch, YB[0])))(t(torch, XB)),
    "vmap_vmap_grad": lambda torch: torch.func.vmap(torch.func.vmap(torch.func.grad(_sin_sum)))(t(torch, XBB)),
    "vmap_grad_grad": lambda torch: torch.func.vmap(torch.func.grad(torch.func.grad(lambda x: x ** 3)))(
        t(torch, XB[:, 0])),
    "grad_of_vmap": lambda torch: torch.func.grad(lambda x: torch.func.vmap(_sin_sum)(x).sum())(t(torch, XB)),
    "jacrev_of_vmap": lambda torch: torch.func.jacrev(torch.func.vmap(lambda x: x.sin() * x.sum()))(
        t(torch, XB[:2])),
    "vmap_grad_then_outer_backward": lambda torch: (lambda w: (lambda r: (r, torch.autograd.grad(r.sum(), w)))(
        torch.func.vmap(torch.func.grad(lambda x: (x * w * x).sum()))(t(torch, XB))))(t(torch, YB[0], True)),
}


@pytest.mark.parametrize("name", sorted(UNDER_VMAP))
def test_under_vmap(name):
    same(UNDER_VMAP[name], grad_fn=False)


# --- with forward-mode AD (ember.func.jvp / jacfwd) ------------------------------------------------------------------
def _ones3(torch):
    return torch.ones(3, dtype=torch.float64)


def _sin_times_sum(x):
    return x.sin() * x.sum()


WITH_FORWARD = {
    "jvp_of_grad": lambda torch: torch.func.jvp(torch.func.grad(_sin_sum), (t(torch, X3),), (_ones3(torch),)),
    "jacfwd_of_grad": lambda torch: torch.func.jacfwd(torch.func.grad(_sin_sum))(t(torch, X3)),
    "jacfwd_of_jacrev": lambda torch: torch.func.jacfwd(torch.func.jacrev(_sin_times_sum))(t(torch, X3)),
    "jvp_of_vjp": lambda torch: torch.func.jvp(
        lambda x: torch.func.vjp(_sin_times_sum, x)[1](torch.ones_like(x))[0], (t(torch, X3),), (_ones3(torch),)),
    "grad_of_jvp": lambda torch: torch.func.grad(
        lambda x: torch.func.jvp(_sin_times_sum, (x,), (torch.ones_like(x),))[1].sum())(t(torch, X3)),
    "jacrev_of_jacfwd": lambda torch: torch.func.jacrev(torch.func.jacfwd(_sin_times_sum))(t(torch, X3)),
    "jvp_of_grad_then_outer_backward": lambda torch: (lambda x: (lambda r: (r, torch.autograd.grad(r[1].sum(), x)))(
        torch.func.jvp(torch.func.grad(_sin_sum), (x,), (_ones3(torch),))))(t(torch, X3, True)),
}


@pytest.mark.parametrize("name", sorted(WITH_FORWARD))
def test_with_forward_mode(name):
    same(WITH_FORWARD[name], grad_fn=False)
