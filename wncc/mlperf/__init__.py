"""MLPerf-style benchmarking of compiled vocoders with the real MLPerf LoadGen (``mlperf_loadgen``,
PyPI ``mlcommons-loadgen``): a query sample library of held-out utterances (``qsl``), systems under
test (``sut``: the compiled C on the host, ONNX Runtime's teacher-forced lower bound), instruction-
count estimates for emulated targets (``estimate``), the four scenarios (``scenarios``), LoadGen
runs and the Server QPS search (``runner``), accuracy scoring and the 99 % rule (``accuracy``),
results (``report``) and the ``wncc mlperf`` command (``command``)."""
