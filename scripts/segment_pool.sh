#!/usr/bin/env bash
# Segments a manifest with a local pool of N processes (xargs -P): shard I of N each, one
# torch thread each, outputs in OUT_DIR. Rerun it to finish what a killed run left
# (--skip-done). Extra arguments go to every `segment` (e.g. --checkpoint model.pt
# --no-learn, or --preset live --reset-per-video).
#
#   scripts/segment_pool.sh LIST OUT_DIR N [segment options...]
#
# STREAMER_STUDIO names the command (default: streamer-studio; e.g. ".venv/bin/python -m app").
# Exit code: 0 when every shard ran every video, non-zero otherwise (each shard says which
# lines failed, and writes OUT_DIR/summary-I-of-N.json).
set -euo pipefail
if [ $# -lt 3 ]; then
    sed -n '2,12p' "$0" >&2
    exit 2
fi
list=$1 out_dir=$2 shards=$3
shift 3
read -r -a command <<< "${STREAMER_STUDIO:-streamer-studio}"
seq 0 $((shards - 1)) | xargs -P "$shards" -I{} \
    "${command[@]}" segment --manifest "$list" --shard "{}/$shards" --out-dir "$out_dir" \
    --skip-done --threads 1 "$@"
