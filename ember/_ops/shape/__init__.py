"""Shape ops: views (view/reshape/transpose/expand...), joining and splitting, reordering, strided views,
diagonals and triangles, and copies/casts (to, clone, contiguous)."""
