"""torch.einsum, composed from differentiable views, sums and batched matrix products.

Each operand first loses its repeated subscripts (diagonals) and the subscripts nobody else needs
(sums); then operands are contracted left to right, each pair as one batched matmul."""
from ..._tensor import Tensor
from .._registry import OpSpec, public, spec


def _parse_operand(term, ndim, index):
    """Labels of one operand: letters, with '...' expanded to -e..-1 (right-aligned for broadcasting)."""
    if "..." in term:
        head, tail = term.split("...")
        n_ell = ndim - len(head) - len(tail)
        if n_ell < 0:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(head) + len(tail)}) is "
                               f"more than the number of dimensions ({ndim}) for operand {index}")
        return list(head) + list(range(-n_ell, 0)) + list(tail)
    if len(term) != ndim:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)}) does not match the "
                           f"number of dimensions ({ndim}) for operand {index} and no ellipsis was given")
    return list(term)


def _check_letters(eq):
    for ch in eq.replace("...", "").replace(",", "").replace("->", ""):
        if not ch.isalpha():
            raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(ch)} in the equation string, "
                               "subscripts must be in [a-zA-Z]")


def _parse(eq, operands):
    eq = eq.replace(" ", "")
    _check_letters(eq)
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    labels = [_parse_operand(t, op._data.ndim, i) for i, (t, op) in enumerate(zip(terms, operands))]
    n_ell = max([-min([lb for lb in ls if isinstance(lb, int)], default=0) for ls in labels], default=0)
    if arrow:
        out = _explicit_output(rhs, n_ell)
    else:
        counts = {}
        for ls in labels:
            for lb in ls:
                if isinstance(lb, str):
                    counts[lb] = counts.get(lb, 0) + 1
        out = list(range(-n_ell, 0)) + sorted(lb for lb, c in counts.items() if c == 1)
    return labels, out


def _explicit_output(rhs, n_ell):
    out = []
    head, ell, tail = rhs.partition("...")
    for ch in head + tail:
        if ch in out:
            raise RuntimeError(f"einsum(): output subscript {ch} appears more than once in the output")
        out.append(ch)
    if ell:
        out = list(head) + list(range(-n_ell, 0)) + list(tail)
    return out


def _sizes(labels, operands):
    """The size of every label, checking that operands agree (size 1 broadcasts)."""
    sizes = {}
    for i, (ls, op) in enumerate(zip(labels, operands)):
        for lb, n in zip(ls, op.shape):
            seen = sizes.get(lb)
            if seen is None or seen == 1:
                sizes[lb] = n
            elif n != seen and n != 1:
                name = lb if isinstance(lb, str) else "..."
                raise RuntimeError(f"einsum(): subscript {name} has size {n} for operand {i} which does not broadcast "
                                   f"with previously seen size {seen}")
    return sizes


def _take_diagonals(t, ls):
    """Repeated labels within one operand select a diagonal (which goes last)."""
    ls = list(ls)
    while True:
        dup = next((lb for lb in ls if ls.count(lb) > 1), None)
        if dup is None:
            return t, ls
        i = ls.index(dup)
        j = ls.index(dup, i + 1)
        t = t.diagonal(0, i, j)
        ls = [lb for k, lb in enumerate(ls) if k not in (i, j)] + [dup]


def _sum_out(t, ls, keep):
    dims = [i for i, lb in enumerate(ls) if lb not in keep]
    if dims:
        t = t.sum(dims)
        ls = [lb for lb in ls if lb in keep]
    return t, ls


def _expand(t, ls, sizes):
    target = [sizes[lb] for lb in ls]
    return t.expand(*target) if list(t.shape) != target else t


def _contract(a, la, b, lb, keep, sizes):
    """One batched matmul: (batch, left, contracted) @ (batch, contracted, right)."""
    batch = [x for x in la if x in lb and x in keep]
    summed = [x for x in la if x in lb and x not in keep]
    left = [x for x in la if x not in lb]
    right = [x for x in lb if x not in la]
    a = a.permute([la.index(x) for x in batch + left + summed])
    b = b.permute([lb.index(x) for x in batch + summed + right])
    bs = [sizes[x] for x in batch]
    n_l, n_k, n_r = (_prod(sizes[x] for x in g) for g in (left, summed, right))
    out = a.reshape(bs + [n_l, n_k]).matmul(b.reshape(bs + [n_k, n_r]))
    return out.reshape(bs + [sizes[x] for x in left + right]), batch + left + right


def _prod(values):
    p = 1
    for v in values:
        p *= v
    return p


@public
def einsum(equation, *operands):
    """Sums of products named by subscripts, e.g. einsum('bij,bjk->bik', a, b)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if any(op._dtype is not operands[0]._dtype for op in operands):
        from .._linalg_util import type_name
        bad = next(op for op in operands if op._dtype is not operands[0]._dtype)
        raise RuntimeError(f"expected scalar type {type_name(operands[0])} but found {type_name(bad)}")
    labels, out = _parse(equation, operands)
    for lb in out:
        if not any(lb in ls for ls in labels):
            raise RuntimeError(f"einsum(): output subscript {lb} does not appear in the equation for any input operand")
    sizes = _sizes(labels, operands)
    items = []
    for i, (t, ls) in enumerate(zip(operands, labels)):
        t, ls = _take_diagonals(t, ls)
        needed = set(out).union(*(set(o) for k, o in enumerate(labels) if k != i))
        t, ls = _sum_out(t, ls, needed)
        items.append((_expand(t, ls, sizes), ls))
    t, ls = items[0]
    for k in range(1, len(items)):
        keep = set(out).union(*(set(o) for o in labels[k + 1:]))
        t, ls = _contract(t, ls, items[k][0], items[k][1], keep, sizes)
    t, ls = _sum_out(t, ls, set(out))
    return t.permute([ls.index(lb) for lb in out]) if ls != out else t


# --- specs -----------------------------------------------------------------------------------------------------
_EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 2)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 1)]),
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("i,i->", [(4,), (4,)]), ("i,j->ij", [(2,), (3,)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]), ("ij->", [(2, 3)]), ("ij->ji", [(2, 3)]),
    ("...i->...", [(2, 3, 4)]), ("ijk,ikl,ilm->jm", [(2, 3, 2), (2, 2, 3), (2, 3, 2)]), ("iij->ji", [(2, 2, 3)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 4, 2)]), ("i,i,i->i", [(3,), (3,), (1,)]), ("ab...,b->...a", [(2, 3), (3,)]),
    ("i j , j", [(2, 3), (3,)]), ("ij,kl->", [(2, 0), (1, 2)]),
]


def _einsum_sample(g):
    eq, shapes = g.choice(_EQUATIONS)
    return (eq, [g.values(s) for s in shapes]), {}


spec(OpSpec("einsum", sample=_einsum_sample, call=lambda torch, eq, ops: torch.einsum(eq, *ops)))
