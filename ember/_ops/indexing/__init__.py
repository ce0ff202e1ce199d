"""Indexing: tensor[key] and tensor[key] = value, where/masked ops, gather/scatter and index_add/copy/fill."""
