"""torch.utils.benchmark.utils.compare: Compare, a table of many Measurements (PyTorch's layout)."""
import collections
import enum
import math

from . import common

__all__ = ["Colorize", "Compare"]

BEST = "\033[92m"
GOOD = "\033[34m"
BAD = "\033[2m\033[91m"
VERY_BAD = "\033[31m"
BOLD = "\033[1m"
TERMINATE = "\033[0m"


class Colorize(enum.Enum):
    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _leading_digits(value):
    return int(math.ceil(common._log10_f32(value)))


class _Column:
    """One description's column: every cell printed with one format (same width and decimals)."""

    def __init__(self, grouped_results, time_scale, time_unit, trim_significant_figures, highlight_warnings):
        self._grouped_results = grouped_results
        flat = [m for group in grouped_results for m in group]
        self._time_scale = time_scale
        self._time_unit = time_unit
        self._trim = trim_significant_figures
        self._highlight = highlight_warnings and any(m.has_warnings for m in flat if m)
        digits = [(_leading_digits(m.median / time_scale), m) for m in flat if m]
        unit_digits = max(d for d, _ in digits)
        decimals = min(max(m.significant_figures - d, 0) for d, m in digits) if self._trim else 1
        width = unit_digits + decimals + (1 if decimals else 0)
        self._template = f"{{:>{width}.{decimals}f}}{{:>{7 if self._highlight else 0}}}"

    def get_results_for(self, group):
        return self._grouped_results[group]

    def num_to_str(self, value, estimated_sigfigs, spread):
        if value is None:  # NOTE: a missing cell is as wide as a present one
            return " " * len(self.num_to_str(1, estimated_sigfigs, None))
        if self._trim:
            value = common.trim_sigfig(value, estimated_sigfigs)
        note = f" (! {spread * 100:.0f}%)" if self._highlight and spread is not None else ""
        return self._template.format(value, note)


def optional_min(seq):
    values = list(seq)
    return min(values) if values else None


class _Row:
    def __init__(self, results, row_group, render_env, env_str_len, row_name_str_len, time_scale, colorize,
                 num_threads=None):
        self._results = results
        self._row_group = row_group
        self._render_env = render_env
        self._env_str_len = env_str_len
        self._row_name_str_len = row_name_str_len
        self._time_scale = time_scale
        self._colorize = colorize
        self._columns = ()
        self._num_threads = num_threads  # NOTE: set on the first row of a thread count: it draws the separator

    def register_columns(self, columns):
        self._columns = columns

    def as_column_strings(self):
        present = [m for m in self._results if m is not None]
        env = f"({present[0].env})" if self._render_env else ""
        cells = ["  " + env.ljust(self._env_str_len + 4) + present[0].as_row_name]
        for m, column in zip(self._results, self._columns):
            if m is None:
                cells.append(column.num_to_str(None, 1, None))
            else:
                cells.append(column.num_to_str(m.median / self._time_scale, m.significant_figures,
                                               m.iqr / m.median if m.has_warnings else None))
        return cells

    @staticmethod
    def color_segment(segment, value, best_value):
        if value <= best_value * 1.01 or value <= best_value + 100e-9:
            return BEST + BOLD + segment + TERMINATE * 2
        if value <= best_value * 1.1:
            return GOOD + BOLD + segment + TERMINATE * 2
        if value >= best_value * 5:
            return VERY_BAD + BOLD + segment + TERMINATE * 2
        if value >= best_value * 2:
            return BAD + segment + TERMINATE * 2
        return segment

    def row_separator(self, overall_width):
        if self._num_threads is None:
            return []
        return [f"{self._num_threads} threads: ".ljust(overall_width, "-")]

    def finalize_column_strings(self, column_strings, col_widths):
        best = [-1] * len(column_strings)
        if self._colorize == Colorize.ROWWISE:
            best = [min(m.median for m in self._results if m is not None)] * len(column_strings)
        elif self._colorize == Colorize.COLUMNWISE:
            best = [optional_min(m.median for m in column.get_results_for(self._row_group) if m is not None)
                    for column in self._columns]
        out = [column_strings[0].ljust(col_widths[0])]
        for text, width, m, b in zip(column_strings[1:], col_widths[1:], self._results, best):
            text = text.center(width)
            if self._colorize != Colorize.NONE and m is not None and b is not None:
                text = self.color_segment(text, m.median, b)
            out.append(text)
        return out


class Table:
    """The table of one label: a row per (num_threads, env, sub_label or stmt), a column per description."""

    def __init__(self, results, colorize, trim_significant_figures, highlight_warnings):
        if len({m.label for m in results}) != 1:
            raise AssertionError("All results must share the same label")
        self.results = results
        self._colorize = colorize
        self._trim_significant_figures = trim_significant_figures
        self._highlight_warnings = highlight_warnings
        self.label = results[0].label
        self.time_unit, self.time_scale = common.select_unit(min(m.median for m in results))
        self.row_keys = common.ordered_unique([self.row_fn(m) for m in results])
        self.row_keys.sort(key=lambda key: key[:2])  # NOTE: stable: stmts keep their order within a group
        self.column_keys = common.ordered_unique([self.col_fn(m) for m in results])
        self.rows, self.columns = self.populate_rows_and_columns()

    @staticmethod
    def row_fn(m):
        return m.num_threads, m.env, m.as_row_name

    @staticmethod
    def col_fn(m):
        return m.description

    def populate_rows_and_columns(self):
        row_at = {key: i for i, key in enumerate(self.row_keys)}
        col_at = {key: j for j, key in enumerate(self.column_keys)}
        grid = [[None] * len(self.column_keys) for _ in self.row_keys]
        for m in self.results:
            grid[row_at[self.row_fn(m)]][col_at[self.col_fn(m)]] = m
        envs = {m.env for m in self.results}
        render_env = len(envs) > 1
        env_len = max(len(e) for e in envs) if render_env else 0
        name_len = max(len(m.as_row_name) for m in self.results)
        rows, groups = [], []
        prior_threads, prior_env = -1, ""
        for (threads, env, _), cells in zip(self.row_keys, grid):
            new_group = threads != prior_threads
            if new_group:
                prior_threads, prior_env = threads, ""
                groups.append([])
            rows.append(_Row(cells, len(groups) - 1, render_env and env != prior_env, env_len, name_len,
                             self.time_scale, self._colorize, threads if new_group else None))
            groups[-1].append(cells)
            prior_env = env
        columns = tuple(_Column([tuple(cells[j] for cells in g) for g in groups], self.time_scale, self.time_unit,
                                self._trim_significant_figures, self._highlight_warnings)
                        for j in range(len(self.column_keys)))
        for row in rows:
            row.register_columns(columns)
        return tuple(rows), columns

    def render(self):
        table = [[""] + self.column_keys] + [row.as_column_strings() for row in self.rows]
        ncols = max(len(r) for r in table)
        for r in table:
            r.extend([""] * (ncols - len(r)))
        widths = [max(len(cell) for cell in col) for col in zip(*table)]
        lines = ["  |  ".join(cell.center(w) for cell, w in zip(table[0], widths))]
        overall = len(lines[0])
        for cells, row in zip(table[1:], self.rows):
            lines.extend(row.row_separator(overall))
            lines.append("  |  ".join(row.finalize_column_strings(cells, widths)))
        title = (" " + (self.label or "") + " ").center(overall - 2, "-")
        warn = self._highlight_warnings and any(m.has_warnings for m in self.results)
        note = "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n" if warn else ""
        return (f"[{title}]\n" + "\n".join(lines) + "\n\n"
                f"Times are in {common.unit_to_english(self.time_unit)}s ({self.time_unit}).\n" + note)


class Compare:
    """A table of Measurements: one block per label, a row per sub_label (or stmt), a column per description."""

    def __init__(self, results):
        self._results = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self):
        return "\n".join(self._render())

    def extend_results(self, results):
        """Add more Measurements."""
        for m in results:
            if not isinstance(m, common.Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(m)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self):
        """Print each time to the figures its spread supports."""
        self._trim_significant_figures = True

    def colorize(self, rowwise=False):
        """Color the cells by how they compare with the best of their column (or row)."""
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self):
        """Mark the cells whose measurement has a high variance."""
        self._highlight_warnings = True

    def print(self):
        """Print the table."""
        print(str(self))

    def _render(self):
        by_label = collections.defaultdict(list)
        for m in common.Measurement.merge(self._results):
            by_label[m.label].append(m)
        return [self._layout(group) for group in by_label.values()]

    def _layout(self, results):
        return Table(results, self._colorize, self._trim_significant_figures, self._highlight_warnings).render()
