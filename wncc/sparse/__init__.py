"""Sparse weight storage: formats, their encoding, and the cost model that picks one per layer."""
