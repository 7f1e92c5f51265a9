#!/bin/bash
# bench.sh: `make bench`. rl side by side with podman (runc) and a floor
# command, in one hyperfine run per row, as the unprivileged user. Prints
# one table of medians and ratios. Rows live in bench/rows/*.sh and call
#   row NAME RL_CMD PODMAN_CMD [FLOOR_CMD]
# with $RL (the binary), $REG (local registry), $BB (busybox image name in
# the local registry) and $IMG (the same image, already in rl's and
# podman's stores) at hand. RUNS (default 15) sets the runs per command.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
if [ "$(id -u)" = 0 ] && [ -z "${RL_BENCH_AS_USER:-}" ]; then
	testdata/setup.sh
	make -s build
	testdata/registry.sh start
	trap 'testdata/registry.sh stop' EXIT
	RL_TEST_DEBIAN=${RL_TEST_DEBIAN:-1} testdata/fixtures.sh
	user=${RL_TEST_USER:-rltest}
	dir=$(runuser -u "$user" -- mktemp -d /tmp/rl-bench.XXXXXX)
	install -m 0755 rl "$dir/rl"
	CGO_ENABLED=0 go build -o "$dir/tcpbench" ./bench/tcpbench
	CGO_ENABLED=0 go build -o "$dir/interleave" ./bench/interleave
	runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$dir/home" USER="$user" \
		RL_BENCH_AS_USER=1 RL_BENCH_DIR="$dir" RUNS="${RUNS:-15}" ROWS="${ROWS:-}" PULL_RUNS="${PULL_RUNS:-5}" \
		RL_TEST_REGISTRY="${RL_TEST_REGISTRY:-127.0.0.1:5000}" RL_TEST_CACHE="${RL_TEST_CACHE:-/var/tmp/rl-test-cache}" \
		"$repo/bench/bench.sh"
	rc=$?
	rm -rf "$dir" # as root: the store holds files of subordinate uids
	exit $rc
fi

DIR=${RL_BENCH_DIR:-$(mktemp -d)}
RL=${RL:-$DIR/rl}
[ -x "$RL" ] || RL=$repo/rl
export HOME=${HOME:-$DIR/home}
mkdir -p "$HOME/.config/containers"
# A runtime directory of the bench's own: podman's pause process (it keeps
# podman's user namespace alive, and outlived every bench) is found by its
# pid file there and stopped at exit.
export XDG_RUNTIME_DIR=$DIR/run
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
trap 'kill -9 "$(cat "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid" 2>/dev/null)" 2>/dev/null || true' EXIT
# podman for comparison: runc (crun refuses hybrid cgroups), no systemd here.
printf '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' >"$HOME/.config/containers/containers.conf"
# One store for both, with the overlay driver: without a storage.conf
# Debian's podman 4.3.1 makes a vfs store (FACTS.md), which rl then uses
# too (it keeps the driver in use), and vfs copies whole images.
printf '[storage]\ndriver = "overlay"\n' >"$HOME/.config/containers/storage.conf"
REG=${RL_TEST_REGISTRY:-127.0.0.1:5000}
BB=$REG/busybox:latest
IMG=$BB
RUNS=${RUNS:-15}
export RL REG BB IMG RUNS DIR

table=$DIR/table.txt
: >"$table"

median_ms() { jq -r ".results[$2].median * 1000 | . * 10 | round / 10" "$1"; }

# row NAME RL_CMD PODMAN_CMD [FLOOR_CMD [OTHER_CMD]]: all in one hyperfine
# run. OTHER is a third tool (charliecloud's ch-run) where a target names
# one. PREP, if set, runs before every timed command (not timed itself);
# SHELL_ROW=1 runs the commands through sh (for pipelines and loops).
row() {
	local name=$1 rlc=$2 pc=$3 fc=${4:-} oc=${5:-} json=$DIR/row.json
	local cmds=("$rlc" "$pc") opts=(--warmup 3)
	[ -n "$fc" ] && cmds+=("$fc")
	[ -n "$oc" ] && cmds+=("$oc")
	if [ -n "${PREP:-}" ]; then
		opts=(--prepare "$PREP" --warmup 1)
	elif [ -z "${SHELL_ROW:-}" ]; then
		opts+=(-N)
	fi
	echo "-- $name" >&2
	if ! hyperfine --show-output "${opts[@]}" --runs "$RUNS" --export-json "$json" "${cmds[@]}" >/dev/null 2>"$DIR/row.err"; then
		echo "   failed: $(grep -v "^ *$" "$DIR/row.err" | tail -3 | tr "\n" " ")" >&2
		printf '%s\tfailed\t\t\t\t\n' "$name" >>"$table"
		return 0
	fi
	local r p f="" o=""
	r=$(median_ms "$json" 0)
	p=$(median_ms "$json" 1)
	[ -n "$fc" ] && f=$(median_ms "$json" 2)
	[ -n "$oc" ] && o=$(median_ms "$json" 3)
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$r" "$p" "$f" "$o" >>"$table"
}
# note TEXT: a measured figure that is not a timing row (RSS, throughput).
note() { echo "$*" >>"$DIR/notes.txt"; }
# have_image: $BB in rl's and podman's stores, so that any row file can
# run alone (ROWS=...).
have_image() {
	"$RL" pull -q --tls-verify=false "$BB" >/dev/null
	podman pull -q --tls-verify=false "$BB" >/dev/null 2>&1 || true
}
export -f row median_ms note have_image
: >"$DIR/notes.txt"

for f in bench/rows/*.sh; do
	if [ -n "${ROWS:-}" ] && ! [[ $(basename "$f") =~ $ROWS ]]; then continue; fi
	# shellcheck source=/dev/null
	source "$f"
done

echo
awk -F'\t' 'BEGIN { printf "%-64s %9s %9s %9s %9s %10s %9s %9s\n", "row (median ms)", "rl", "podman", "floor", "other", "rl/podman", "rl/floor", "rl/other" }
	$2 == "failed" { printf "%-64s %9s\n", $1, "failed"; next }
	{ rp = ($3 > 0) ? sprintf("%.3f", $2 / $3) : "-"; rf = ($4 > 0) ? sprintf("%.2f", $2 / $4) : "-"; ro = ($5 > 0) ? sprintf("%.2f", $2 / $5) : "-"
	  printf "%-64s %9s %9s %9s %9s %10s %9s %9s\n", $1, $2, $3, ($4 == "" ? "-" : $4), ($5 == "" ? "-" : $5), rp, rf, ro }' "$table"
if [ -s "$DIR/notes.txt" ]; then echo; cat "$DIR/notes.txt"; fi
