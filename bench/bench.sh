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
	runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$dir/home" \
		RL_BENCH_AS_USER=1 RL_BENCH_DIR="$dir" RUNS="${RUNS:-15}" ROWS="${ROWS:-}" \
		RL_TEST_REGISTRY="${RL_TEST_REGISTRY:-127.0.0.1:5000}" RL_TEST_CACHE="${RL_TEST_CACHE:-/var/tmp/rl-test-cache}" \
		"$repo/bench/bench.sh"
	rc=$?
	runuser -u "$user" -- rm -rf "$dir" 2>/dev/null || true
	exit $rc
fi

DIR=${RL_BENCH_DIR:-$(mktemp -d)}
RL=${RL:-$DIR/rl}
[ -x "$RL" ] || RL=$repo/rl
export HOME=${HOME:-$DIR/home}
mkdir -p "$HOME/.config/containers"
# podman for comparison: runc (crun refuses hybrid cgroups), no systemd here.
printf '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' >"$HOME/.config/containers/containers.conf"
REG=${RL_TEST_REGISTRY:-127.0.0.1:5000}
BB=$REG/busybox:latest
IMG=$BB
RUNS=${RUNS:-15}
export RL REG BB IMG RUNS DIR

table=$DIR/table.txt
: >"$table"

median_ms() { jq -r ".results[$2].median * 1000 | . * 10 | round / 10" "$1"; }

# row NAME RL_CMD PODMAN_CMD [FLOOR_CMD]: all in one hyperfine run.
row() {
	local name=$1 rlc=$2 pc=$3 fc=${4:-} json=$DIR/row.json
	local cmds=("$rlc" "$pc")
	[ -n "$fc" ] && cmds+=("$fc")
	echo "-- $name" >&2
	if ! hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$json" "${cmds[@]}" >/dev/null 2>"$DIR/row.err"; then
		echo "   failed: $(tail -1 "$DIR/row.err")" >&2
		printf '%s\tfailed\t\t\t\t\n' "$name" >>"$table"
		return 0
	fi
	local r p f=""
	r=$(median_ms "$json" 0)
	p=$(median_ms "$json" 1)
	[ -n "$fc" ] && f=$(median_ms "$json" 2)
	printf '%s\t%s\t%s\t%s\n' "$name" "$r" "$p" "$f" >>"$table"
}
export -f row median_ms

for f in bench/rows/*.sh; do
	if [ -n "${ROWS:-}" ] && ! [[ $(basename "$f") =~ $ROWS ]]; then continue; fi
	# shellcheck source=/dev/null
	source "$f"
done

echo
awk -F'\t' 'BEGIN { printf "%-44s %10s %10s %10s %10s %10s\n", "row (median ms)", "rl", "podman", "floor", "rl/podman", "rl/floor" }
	$2 == "failed" { printf "%-44s %10s\n", $1, "failed"; next }
	{ rp = ($3 > 0) ? sprintf("%.3f", $2 / $3) : "-"; rf = ($4 > 0) ? sprintf("%.2f", $2 / $4) : "-"
	  printf "%-44s %10s %10s %10s %10s %10s\n", $1, $2, $3, ($4 == "" ? "-" : $4), rp, rf }' "$table"
