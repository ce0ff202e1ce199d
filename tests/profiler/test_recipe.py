"""PyTorch's profiler recipe (CPU parts; a small CNN in place of torchvision's resnet18), run unchanged with
torch and with ember standing in for it: every table has the same columns and the same closing line (ember
lists fewer distinct ops, see below), the trace files are valid, and the schedule's handler runs at the same steps."""
import json
import re
import warnings

import pytest
import torch

import ember

RECIPE = '''
import torch
import torch.nn as nn
from torch.profiler import profile, record_function, ProfilerActivity

model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(8 * 7 * 7, 10))
inputs = torch.randn(5, 3, 16, 16)

with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    with record_function("model_inference"):
        model(inputs)
out.append(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
names.update(e.name for e in prof.events())  # NOTE: not in the recipe: what the test compares
out.append(prof.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total", row_limit=10))

with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True) as prof:
    model(inputs)
out.append(prof.key_averages().table(sort_by="self_cpu_memory_usage", row_limit=10))
out.append(prof.key_averages().table(sort_by="cpu_memory_usage", row_limit=10))
prof.export_chrome_trace(trace_dir + "/trace.json")

def trace_handler(p):
    out.append(p.key_averages().table(sort_by="self_cuda_time_total", row_limit=10))
    p.export_chrome_trace(trace_dir + "/trace_" + str(p.step_num) + ".json")
    steps.append(p.step_num)

with profile(activities=[ProfilerActivity.CPU], schedule=torch.profiler.schedule(wait=1, warmup=1, active=2),
             on_trace_ready=trace_handler) as p:
    for idx in range(8):
        model(inputs)
        p.step()
'''


def _run(lib, tmp_path):
    out, steps, names = [], [], set()
    trace_dir = tmp_path / lib.__name__
    trace_dir.mkdir()
    import sys
    saved = {k: sys.modules[k] for k in ("torch", "torch.nn", "torch.profiler")}
    try:
        sys.modules.update({"torch": lib, "torch.nn": lib.nn, "torch.profiler": lib.profiler})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(RECIPE, {"out": out, "steps": steps, "names": names, "trace_dir": str(trace_dir)})
    finally:
        sys.modules.update(saved)
    return out, steps, names, trace_dir


def _shape(table):
    lines = table.splitlines()
    columns = re.split(r"\s{2,}", lines[1].strip())
    return columns, lines[-1].split(":")[0]


def test_recipe_tables_match_torch(tmp_path):
    t_out, t_steps, t_names, t_dir = _run(torch, tmp_path)
    e_out, e_steps, e_names, e_dir = _run(ember, tmp_path)
    assert e_steps == t_steps == [4, 8]
    assert len(e_out) == len(t_out)
    for e_table, t_table in zip(e_out, t_out):
        assert _shape(e_table) == _shape(t_table)
    for name in ("trace.json", "trace_4.json", "trace_8.json"):
        with open(e_dir / name) as f:
            trace = json.load(f)
        assert any(ev["name"] == "aten::convolution" for ev in trace["traceEvents"])
    # NOTE: the inference ops ember records are among PyTorch's (PyTorch also lists the composite ops above
    # them, aten::conv2d, aten::linear, and the copies and views below); BatchNorm's counter update is an
    # aten::add_ in PyTorch, an aten::add written back in ember
    assert {n.rstrip("_") for n in e_names} <= {n.rstrip("_") for n in t_names}
