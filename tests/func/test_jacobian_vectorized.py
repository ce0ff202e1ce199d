"""jacrev and jacfwd run vectorized (one vmap over the basis, chunk_size rows at a time), as torch.func's: values
against torch.func, how many passes they make, and the randomness argument."""
import numpy as np
import pytest
import torch

import ember

X = np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]])
W = np.array([[0.2, -0.5], [1.1, 0.4], [-0.3, 0.9]])

FUNCS = {
    "mlp": lambda m: lambda x, w: m.tanh(x @ w).sin().softmax(-1),
    "two_outputs": lambda m: lambda x, w: ((x @ w).exp(), (x ** 3).sum()),
    "poly_pow": lambda m: lambda x, w: 3 * x ** 3 - 2 * x * x + x - 7 + w.sum(),
    "loss": lambda m: lambda x, w: m.nn.functional.cross_entropy(x @ w, m.tensor([1, 0])),
    "norm_reduce": lambda m: lambda x, w: (x.norm(dim=1, keepdim=True) * (x @ w)).logsumexp(0),
}


def _args(m):
    return m.tensor(X, dtype=m.float64), m.tensor(W, dtype=m.float64)


def _close(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
        return
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("chunk_size", [None, 1, 2, 5, 100])
@pytest.mark.parametrize("name", list(FUNCS))
def test_jacrev_chunked_matches_torch(name, chunk_size):
    got = ember.func.jacrev(FUNCS[name](ember), argnums=(0, 1), chunk_size=chunk_size)(*_args(ember))
    want = torch.func.jacrev(FUNCS[name](torch), argnums=(0, 1), chunk_size=chunk_size)(*_args(torch))
    _close(got, want)


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
@pytest.mark.parametrize("name", list(FUNCS))
def test_jacfwd_vectorized_matches_torch(name, argnums):
    got = ember.func.jacfwd(FUNCS[name](ember), argnums=argnums)(*_args(ember))
    want = torch.func.jacfwd(FUNCS[name](torch), argnums=argnums)(*_args(torch))
    _close(got, want)


@pytest.mark.parametrize("chunk_size, passes", [(None, 1), (4, 2), (1, 6)])
def test_jacrev_runs_one_backward_per_chunk(chunk_size, passes):
    seen = []

    def f(x):
        y = x * 2
        y.register_hook(lambda g: seen.append(tuple(g.shape)))
        return y.sin()
    ember.func.jacrev(f, chunk_size=chunk_size)(ember.ones(2, 3, dtype=ember.float64))
    assert len(seen) == passes


def test_jacfwd_runs_the_function_twice_not_once_per_column():
    """Once for the primal output, once under vmap for every column (a loop would run it 1 + 6 times)."""
    calls = []

    def f(x):
        calls.append(1)
        return x.sin() * x
    ember.func.jacfwd(f)(ember.ones(2, 3, dtype=ember.float64))
    assert len(calls) == 2


def test_jacfwd_randomness():
    x = ember.ones(4, dtype=ember.float64)
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="randomness error mode"):
            lib.func.jacfwd(lambda a: a * lib.rand(()))(lib.ones(4, dtype=lib.float64))
    j = ember.func.jacfwd(lambda a: a * ember.rand(4, dtype=ember.float64), randomness="same")(x)
    assert j.shape == (4, 4) and bool((j == ember.diag(ember.diagonal(j))).all())
    # NOTE: 'different': each column (example of the vmap) draws its own values, so the Jacobian's diagonal is
    # not the primal pass's draw; in 'same' every column shares one draw
    jd = ember.func.jacfwd(lambda a: a * ember.rand(4, dtype=ember.float64), randomness="different")(x)
    assert jd.shape == (4, 4)


def test_jacfwd_of_jacrev_falls_back_and_matches_torch():
    f = FUNCS["mlp"]
    got = ember.func.jacfwd(ember.func.jacrev(f(ember)))(*_args(ember))
    want = torch.func.jacfwd(torch.func.jacrev(f(torch)))(*_args(torch))
    _close(got, want)


def test_hessian_matches_torch():
    f = lambda m: lambda x: (m.tanh(x @ m.tensor(W, dtype=m.float64)) ** 2).sum()  # noqa: E731
    _close(ember.func.hessian(f(ember))(_args(ember)[0]), torch.func.hessian(f(torch))(_args(torch)[0]))


@pytest.mark.parametrize("name", list(FUNCS))
def test_autograd_functional_vectorize_matches_torch(name):
    got = ember.autograd.functional.jacobian(FUNCS[name](ember), _args(ember), vectorize=True)
    want = torch.autograd.functional.jacobian(FUNCS[name](torch), _args(torch), vectorize=True)
    _close(got, want)
    f = lambda m: lambda x: (m.tanh(x @ m.tensor(W, dtype=m.float64)) ** 2).sum()  # noqa: E731
    _close(ember.autograd.functional.hessian(f(ember), _args(ember)[0], vectorize=True),
           torch.autograd.functional.hessian(f(torch), _args(torch)[0], vectorize=True))


def test_autograd_functional_vectorize_runs_one_backward():
    seen = []

    def f(x):
        y = x * 2
        y.register_hook(lambda g: seen.append(1))
        return y.sin()
    ember.autograd.functional.jacobian(f, ember.ones(2, 3, dtype=ember.float64), vectorize=True)
    assert len(seen) == 1
    ember.autograd.functional.jacobian(f, ember.ones(2, 3, dtype=ember.float64))
    assert len(seen) == 1 + 6
