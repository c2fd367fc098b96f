#!/usr/bin/env bash
# Profile the lifecycle of a short-lived house three ways and print the top
# entries of each:
#   1. a pprof CPU profile of BenchmarkLifecycleAPI (the Go API, in-process);
#   2. perf record of the CLI lifecycle (create-container, run-container --
#      true, delete-container), CPU samples of every process, kernel included;
#   3. perf trace of BenchmarkLifecycleAPI: the wall time of every system
#      call longer than 0.1 ms, summed by the rt-lab function that made it.
#      This shows the waiting (fsync, netlink, cgroup writes, polls) that CPU
#      profiles miss. Tracing slows every call, so compare its figures with
#      each other, not with the benchmark's.
# perf parts are skipped when perf is missing or cannot record here.
#
# Usage: sudo bench/profile.sh [OUT_DIR], from the repository root after
# make build. RUNS sets the number of lifecycles per profile (default 20).
# Exit status: 0 done, 1 a step failed, 3 not root or no bin/rt-lab.
set -euo pipefail

runs=${RUNS:-20}
out=${1:-$(mktemp -d /tmp/rt-lab-profile-XXXXXX)}
bin=$(pwd)/bin/rt-lab
go=${GO:-go}

if ((EUID != 0)); then
	echo "profile: needs root: sudo bench/profile.sh" >&2
	exit 3
fi
if [[ ! -x $bin ]]; then
	echo "profile: $bin not found: run make build first" >&2
	exit 3
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$(mktemp -d /tmp/rt-lab-profile-root-XXXXXX)

# cleanup deletes every house of the profile's state folder, then its bridge.
cleanup() {
	local dir name
	for dir in "$root"/containers/*/; do
		[[ -d $dir ]] || continue
		name=$(basename "$dir")
		"$bin" --root "$root" delete-container "$name" --force --yes >/dev/null 2>&1 || true
	done
	"$bin" --root "$root" network remove-bridge --force >/dev/null 2>&1 || true
	rm -rf "$root"
}
trap cleanup EXIT

echo "profile: writing to $out" >&2

CGO_ENABLED=0 "$go" test -c -o "$out/bench.test" ./bench
"$out/bench.test" -test.run '^$' -test.bench '^BenchmarkLifecycleAPI$' \
	-test.benchtime "${runs}x" -test.cpuprofile "$out/cpu.pprof" | tee "$out/bench.txt"
"$go" tool pprof -top -nodecount 40 "$out/bench.test" "$out/cpu.pprof" >"$out/pprof-top.txt" 2>&1
"$go" tool pprof -top -cum -nodecount 60 "$out/bench.test" "$out/cpu.pprof" >"$out/pprof-cum.txt" 2>&1
echo "== pprof, Go API lifecycle, flat" && head -50 "$out/pprof-top.txt"

# One house stays stopped, so the bridge stays up as in a lab with neighbours.
"$bin" --root "$root" create-container tetangga >/dev/null 2>&1
lifecycle="for i in \$(seq $runs); do
	'$bin' --root '$root' create-container p\$i --ram 64 --cpu 50
	'$bin' --root '$root' run-container p\$i -- true
	'$bin' --root '$root' delete-container p\$i --force --yes
done >/dev/null 2>&1"

if ! command -v perf >/dev/null || ! perf record -o /dev/null -- true >/dev/null 2>&1; then
	echo "profile: perf is missing or cannot record here; skipping the perf profiles" >&2
	exit 0
fi
perf record -F 2000 -g -o "$out/perf.data" -- bash -c "$lifecycle" 2>"$out/perf-record.log"
perf report -i "$out/perf.data" --no-children --sort comm,dso --stdio -g none 2>/dev/null >"$out/perf-by-binary.txt"
perf report -i "$out/perf.data" --children --sort sym --stdio -g none 2>/dev/null >"$out/perf-by-symbol.txt"
echo "== perf record, CLI lifecycle, CPU samples by command and binary"
grep -v '^#' "$out/perf-by-binary.txt" | grep -v '^$' | sed -n '1,12p'
echo "== perf record, CLI lifecycle, rt-lab functions with their callees"
grep -v '^#' "$out/perf-by-symbol.txt" | grep -E 'rt-lab/rt-lab|i18n|yaml' | sed -n '1,30p'

(cd / && perf trace --duration 0.1 --call-graph fp -o "$out/perf-trace.txt" -- \
	"$out/bench.test" -test.run '^$' -test.bench '^BenchmarkLifecycleAPI$' -test.benchtime "${runs}x" >/dev/null)
awk -f bench/syscall-time.awk "$out/perf-trace.txt" | sort -rn >"$out/syscall-time.txt"
echo "== perf trace, Go API lifecycle, system call time by rt-lab function"
head -25 "$out/syscall-time.txt"
