"""Reductions and scans: sum/mean/max..., var/std, vector and matrix norms, quantiles, cumulative scans,
sorting and order statistics, unique/bincount."""
