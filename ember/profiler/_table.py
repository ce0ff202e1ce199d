"""The text table of profiled events, in PyTorch's layout: a name column as wide as the longest name
(+4, at most 55), 12-character number columns two spaces apart, right-aligned, dashed rules, and the
"Self CPU time total" line."""
import math

_COLUMN = 12
_SPACING = 2


def format_time(time_us):
    """A time in microseconds as PyTorch prints it: "1.234ms", "12.345us", "1.000s"."""
    if time_us >= 1_000_000:
        return f"{time_us / 1_000_000:.3f}s"
    if time_us >= 1000:
        return f"{time_us / 1000:.3f}ms"
    return f"{time_us:.3f}us"


def format_share(time_us, total_us):
    """`time_us` as a percentage of `total_us` ("NaN" when the total is 0)."""
    if total_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_us:.2f}%"


def format_memory(nbytes):
    """A byte count as PyTorch prints it: "80 B", "1.50 KB", "2.00 MB", "1.00 GB"."""
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes * 1.0 / size:.2f} {unit}"
    return f"{nbytes} B"


def _in_unit(time_us, time_unit):
    if time_unit == "s":
        return f"{time_us / 1_000_000:.3f}s"
    if time_unit == "ms":
        return f"{time_us / 1000:.3f}ms"
    if time_unit == "us":
        return f"{time_us:.3f}us"
    return format_time(time_us)


def _trim_path(path, width):
    if len(path) > width:
        path = path[len(path) - width:]
        if len(path) > 3:
            path = "..." + path[3:]
    return path


class _Layout:
    """The row format string, the dashed rule and the line length, built one column at a time."""

    def __init__(self):
        self.fmt = ""
        self.rule = ""
        self.length = -_SPACING

    def add(self, width, align=">"):
        self.fmt += "{: " + align + str(width) + "}" + " " * _SPACING
        self.rule += "-" * width + " " * _SPACING
        self.length += width + _SPACING


def _flops_unit(flops):
    names = ["FLOPs", "KFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs"]
    level = int(max(0, min(math.log10(flops) / 3, len(names) - 1)))
    return 10 ** (-3.0 * level), names[level]


def build_table(events, sort_by=None, header=None, row_limit=100, max_src_column_width=75,
                max_name_column_width=55, max_shapes_column_width=80, with_flops=False, profile_memory=False,
                top_level_events_only=False, time_unit=None):
    """The table of `events` (FunctionEvent or FunctionEventAvg) as one string."""
    if len(events) == 0:
        return ""
    has_shapes = any(e.input_shapes is not None and len(e.input_shapes) > 0 for e in events)
    has_overload = any(e.overload_name is not None and len(e.overload_name) > 0 for e in events)
    if sort_by is not None:
        attr = sort_by.replace("cuda", "device").replace("xpu", "device").replace("privateuse1", "device")
        events = sorted(events, key=lambda e: getattr(e, attr), reverse=True)
    name_width = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_width = min(name_width, max_name_column_width)
    shapes_width = max(len(str(e.input_shapes)) for e in events) + 4
    if max_shapes_column_width is not None:
        shapes_width = min(shapes_width, max_shapes_column_width)
    stacks = [e.stack for e in events if e.stack is not None and len(e.stack) > 0]
    src_width = None
    if stacks:
        src_width = max(max(len(s) for s in stack) for stack in stacks) + 4
        if max_src_column_width is not None:
            src_width = min(src_width, max_src_column_width)

    headers = ["Name"] + (["Overload Name"] if has_overload else [])
    headers += ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    use_device = events[0].use_device
    device_mem = bool(use_device) and any(e.self_device_memory_usage > 0 for e in events)
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
        if device_mem:
            headers += [f"{use_device.upper()} Mem", f"Self {use_device.upper()} Mem"]
    headers.append("# of Calls")
    with_node_id = any(e.node_id != -1 for e in events)
    if with_node_id:
        headers.append("Node ID")
    layout = _Layout()
    layout.add(name_width)
    if has_overload:
        layout.add(name_width)
    for _ in headers[1 + has_overload:]:
        layout.add(_COLUMN)
    if has_shapes:
        headers.append("Input Shapes")
        layout.add(shapes_width)
    if stacks:
        headers.append("Source Location")
        layout.add(src_width, align="<")
    if with_flops:
        raw = [e.flops for e in events if e.flops > 0]
        if raw:
            flops_scale, flops_name = _flops_unit(min(raw))
            headers.append(f"Total {flops_name}")
            layout.add(_COLUMN)
        else:
            with_flops = False

    total = sum(e.self_cpu_time_total for e in events)
    lines = []
    if header is not None:
        lines += ["=" * layout.length, header]
    if top_level_events_only:
        lines += ["=" * layout.length, "This report only display top-level ops statistics"]
    lines += [layout.rule, layout.fmt.format(*headers), layout.rule]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_events_only and e.cpu_parent is not None:
            continue
        shown += 1
        lines += _rows(e, layout, headers, total, name_width, shapes_width, src_width, has_overload,
                       max_name_column_width, profile_memory, device_mem, with_node_id, has_shapes, stacks,
                       flops_scale if with_flops else None, time_unit)
    lines += [layout.rule, f"Self CPU time total: {_in_unit(total, time_unit)}"]
    return "".join(line + "\n" for line in lines)


def _cut(name, max_width):
    if max_width is not None and len(name) >= max_width - 3:
        return name[:max_width - 3] + "..."
    return name


def _rows(e, layout, headers, total, name_width, shapes_width, src_width, has_overload, max_name_width,
          profile_memory, device_mem, with_node_id, has_shapes, stacks, flops_scale, time_unit):
    e.self_cpu_percent = format_share(e.self_cpu_time_total, total)
    e.total_cpu_percent = format_share(e.cpu_time_total, total) if not e.is_async else 0
    values = [_cut(e.key, max_name_width)]
    if has_overload:
        values.append(_cut(e.overload_name, max_name_width))
    values += [e.self_cpu_percent, _in_unit(e.self_cpu_time_total, time_unit), e.total_cpu_percent,
               _in_unit(e.cpu_time_total, time_unit), _in_unit(e.cpu_time, time_unit)]
    if profile_memory:
        values += [format_memory(e.cpu_memory_usage), format_memory(e.self_cpu_memory_usage)]
        if device_mem:
            values += [format_memory(e.device_memory_usage), format_memory(e.self_device_memory_usage)]
    values.append(e.count)
    if with_node_id:
        values.append(e.node_id)
    if has_shapes:
        values.append(str(e.input_shapes)[:shapes_width])
    if flops_scale is not None:
        values.append("--" if e.flops <= 0 else f"{e.flops * flops_scale:8.3f}")
    rows = []
    if stacks:
        values.append(_trim_path(e.stack[0], src_width) if e.stack else "")
    rows.append(layout.fmt.format(*values))
    if stacks:
        blank = [""] * (len(headers) - 1)
        for entry in e.stack[1:]:
            rows.append(layout.fmt.format(*(blank + [_trim_path(entry, src_width)])))
        rows.append(layout.fmt.format(*(blank + [""])))
    return rows
