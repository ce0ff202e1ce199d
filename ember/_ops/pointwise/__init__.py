"""Pointwise ops: one-, two- and three-input elementwise math (arithmetic, comparisons, bitwise, rounding,
exp/log, trigonometric and special functions, complex parts), with their shared checks."""
