"""The ground floor: the arithmetic every layer shares (fixed-point requantization, 16-bit float
formats, libm-free exp/tanh/sigmoid, activation tables, the sampler and its random stream).
It imports numpy and nothing of wncc above it, so the frontend, the passes, the golden model and
the code generator can all use it (tests/test_architecture.py checks this)."""
