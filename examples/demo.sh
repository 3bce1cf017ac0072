#!/usr/bin/env bash
# The main job on the shipped example: compile the base vocoder to C, verify the C against
# ONNX Runtime and the golden model, and vocode a held-out utterance to a wav.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup
WNCC=.venv/bin/wncc
MODEL=${MODEL:-examples/models/base.onnx}
OUT=${OUT:-out}
mkdir -p "$OUT"
$WNCC compile "$MODEL" --target host --dtype fp32 -o "$OUT/base"
$WNCC verify "$MODEL" --project "$OUT/base"
$WNCC vocode "$OUT/base" --mel examples/data/test_clip_mel.npy -o "$OUT/base.wav"
cp examples/data/test_clip.wav "$OUT/ground_truth.wav"
echo "demo: wrote $OUT/base.wav (ground truth: $OUT/ground_truth.wav)"
