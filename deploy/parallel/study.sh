#!/usr/bin/env bash
# A hookbench study with GNU parallel over ssh hosts or local cores (docs/scale-out.md): one
# job per slice, then one merge.
#
#   deploy/parallel/study.sh scenarios/poll_interval_sweep.toml 8 host1,host2,host3
#   deploy/parallel/study.sh scenarios/poll_interval_sweep.toml 8      # local cores
#
# Every host needs `hookbench` on its PATH and the scenario file at the same path relative to
# its home folder; the partial folders come back with --return. OUT (default
# results-parallel) holds parts/part-K and the merged folder.
set -euo pipefail
scenario=${1:?usage: study.sh SCENARIO.toml SHARDS [HOST,HOST,...]}
shards=${2:?usage: study.sh SCENARIO.toml SHARDS [HOST,HOST,...]}
hosts=${3:-}
out=${OUT:-results-parallel}
mkdir -p "$out/parts"
remote=()
[ -n "$hosts" ] && remote=(--sshlogin "$hosts" --workdir . --return "$out/parts/part-{}" --cleanup)
seq 0 $((shards - 1)) | parallel "${remote[@]}" --halt now,fail=1 \
  hookbench run "$scenario" --shard "{}/$shards" --out "$out/parts/part-{}" --threads 1 --quiet
hookbench merge "$out/merged" "$out"/parts/part-*
