#!/usr/bin/env bash
# Fuzzes the IDX reader and the bundle loader (manifest, weights) with libFuzzer, each for a
# fixed time, then prints runs and time per target and writes them as JSON.
#   scripts/fuzz.sh [SECONDS_PER_TARGET [RESULTS_JSON]]   (default 300 s; `make test` uses 20)
# A crash stops with libFuzzer's report; its input is saved under fuzz/artifacts/<target>/.
# Copy it to fuzz/regressions/<target>/ and `cargo test --test fuzz_regressions` replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds=${1:-300}
out=${2:-target/fuzz-corpus/results.json}
scripts/setup.sh --fuzz

targets=(idx manifest weights)
results=()
for t in "${targets[@]}"; do
  corpus=target/fuzz-corpus/$t
  mkdir -p "$corpus" "fuzz/artifacts/$t"
  log=target/fuzz-corpus/$t.log
  echo "fuzz: $t for ${seconds} s" >&2
  # -s none: the code under test is safe Rust, so AddressSanitizer finds nothing the panic
  # and malloc checks don't, and it would double the build. -malloc_limit_mb fails any single
  # allocation over 256 MB: an unchecked header count would trip it at once.
  cargo +nightly fuzz run --fuzz-dir fuzz -s none --target-dir target/fuzz "$t" \
    "$corpus" "fuzz/seeds/$t" "fuzz/regressions/$t" -- \
    -max_total_time="$seconds" -malloc_limit_mb=256 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 2>"$log" || {
      tail -40 "$log" >&2
      echo "fuzz: $t FAILED; the input is in fuzz/artifacts/$t/" >&2
      exit 1
    }
  runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{ print $2 }')
  files=$(find "$corpus" -type f | wc -l)
  printf 'fuzz: %-8s %10s runs in %s s, %s coverage points, corpus %s inputs\n' "$t" "$runs" "$seconds" "${cov:-?}" "$files" >&2
  results+=("{\"target\":\"$t\",\"seconds\":$seconds,\"runs\":${runs:-0},\"coverage\":${cov:-0},\"corpus\":$files,\"crashes\":0}")
done
mkdir -p "$(dirname "$out")"
(IFS=,; printf '[%s]\n' "${results[*]}") > "$out"
echo "fuzz: no crash; wrote $out" >&2
