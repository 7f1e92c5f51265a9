# Resource limits (issue 6): what a cgroup with --memory adds to a start,
# measured inside the VM of testdata/vm (real delegated cgroup v2; this
# host's cgroups are hybrid). TCG emulation makes every figure several
# times slower than on hardware: only the ratio means something.
cat >"$DIR/vm-bench.sh" <<'VM'
[ "$1" = job ] && exit 0 # the root-owned-cgroup pass: nothing to time
up() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }
n=${N:-15}
none=0 mem=0 i=0
rl run --rm --network none --rootfs /rootfs true # warm-up
rl run --rm --network none --memory 64m --rootfs /rootfs true
while [ $i -lt $n ]; do
	a=$(up); rl run --rm --network none --rootfs /rootfs true; b=$(up)
	rl run --rm --network none --memory 64m --rootfs /rootfs true; c=$(up)
	none=$((none + b - a)) mem=$((mem + c - b)) i=$((i + 1))
done
echo "vm-bench none=$((none * 10 / n)) memory=$((mem * 10 / n))"
VM
if out=$(RL="$RL" "$repo/testdata/vm/run.sh" "$DIR/vm-bench.sh" 2>&1); then
	line=$(echo "$out" | grep '^vm-bench ')
	none=${line#*none=}; none=${none%% *}; mem=${line#*memory=}
	note "cgroup: in the VM (TCG), mean of 15 interleaved runs: rl run --rootfs true ${none} ms, with --memory 64m ${mem} ms (ratio $(awk -v a="$mem" -v b="$none" 'BEGIN { printf "%.2f", a / b }'))"
else
	note "cgroup: the VM row failed: $(echo "$out" | tail -3 | tr '\n' ' ')"
fi
