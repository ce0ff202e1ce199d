"""Per-op overhead of ember against PyTorch on a tiny tensor, in the same process.

    python bench/op_overhead.py [--calls 2000] [--repeats 5]

Times a (16, 16) float32 add without autograd, with autograd (inputs that require grad, so
the graph is recorded), and add + .sum().backward(). Prints a markdown table (median over repeats,
microseconds per op) with the machine it ran on; `--output FILE` writes it too. `make bench`
(bench/run.py) runs these with the other workloads into bench/results.md.
Benchmarks are reported, never asserted.
"""
import argparse
import datetime
import os
from pathlib import Path

from _harness import ember, machine, time_pair, torch

SHAPE = (16, 16)


def add(lib):
    a, b = lib.rand(*SHAPE), lib.rand(*SHAPE)
    return lambda: a + b


def add_requires_grad(lib):
    a, b = lib.rand(*SHAPE, requires_grad=True), lib.rand(*SHAPE, requires_grad=True)
    return lambda: a + b


def add_sum_backward(lib):
    a, b = lib.rand(*SHAPE, requires_grad=True), lib.rand(*SHAPE, requires_grad=True)

    def step():
        (a + b).sum().backward()
    return step


def torch_add_out(lib):
    a, b, out = lib.rand(*SHAPE), lib.rand(*SHAPE), lib.empty(*SHAPE)
    return lambda: lib.add(a, b, out=out)


def mul_inplace(lib):
    a = lib.rand(*SHAPE)
    return lambda: a.mul_(1.0)


def sum_item(lib):
    a = lib.rand(*SHAPE)
    return lambda: a.sum().item()


def zeros(lib):
    return lambda: lib.zeros(100)


def index_row(lib):
    a = lib.rand(100, 100)
    return lambda: a[3]


def mul_sum_backward(lib):
    a, b = lib.rand(*SHAPE, requires_grad=True), lib.rand(*SHAPE, requires_grad=True)

    def step():
        (a * b).sum().backward()
    return step


def linear_forward(lib):
    layer, x = lib.nn.Linear(128, 128), lib.rand(32, 128)
    return lambda: layer(x)


def linear_forward_backward(lib):
    layer, x = lib.nn.Linear(128, 128), lib.rand(32, 128)

    def step():
        layer(x).sum().backward()
    return step


WORKLOADS = [
    ("`a + b`, (16,16) float32", add),
    ("`torch.add(a, b, out=c)`, (16,16) float32", torch_add_out),
    ("`a.mul_(1.0)`, (16,16)", mul_inplace),
    ("`a.sum().item()`, (16,16)", sum_item),
    ("`torch.zeros(100)`", zeros),
    ("`a[3]`, a row of (100,100)", index_row),
    ("`a + b`, inputs requires_grad=True", add_requires_grad),
    ("`(a + b).sum().backward()`", add_sum_backward),
    ("`(a * b).sum().backward()`", mul_sum_backward),
    ("`Linear(128, 128)` forward, batch 32", linear_forward),
    ("`Linear(128, 128)` forward + backward, batch 32", linear_forward_backward),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--output", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)

    rows = ["| workload | PyTorch (µs/op) | ember (µs/op) | ratio ember/PyTorch |",
            "|---|---:|---:|---:|"]
    for title, make in WORKLOADS:
        t_torch, t_ember = (t * 1e6 for t in time_pair([make(torch), make(ember)], args.calls, args.repeats,
                                                         args.warmup))
        rows.append(f"| {title} | {t_torch:.2f} | {t_ember:.2f} | {t_ember / t_torch:.1f}x |")
        print(rows[-1] if len(rows) > 3 else "\n".join(rows), flush=True)

    stamp = datetime.date.today().isoformat()
    text = "\n".join([
        "# op_overhead: one small op, PyTorch vs ember",
        "",
        f"`python bench/op_overhead.py` ({stamp}): median of {args.repeats} repeats of {args.calls} calls, "
        f"after {args.warmup} warm-up calls; both libraries timed in the same process, taking turns "
        "repeat by repeat.",
        "",
        *rows,
        "",
        f"Machine: {machine()}.",
        "",
    ])
    print()
    print(f"Machine: {machine()}.")
    if args.output:
        Path(args.output).write_text(text)
        print(f"(written to {os.path.relpath(args.output)})")


if __name__ == "__main__":
    main()
