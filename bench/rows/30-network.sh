# Networking (issue 5): what the default network adds to a start, and TCP
# throughput through slirp4netns and the port forwarder, rl and podman side
# by side, with --network host as the ceiling. Throughput is measured by
# the receiver (bench/tcpbench), so start costs do not count.
have_image
row "run true, default network (floor: rl none, other: podman none)" \
	"$RL run --rm $IMG true" "podman run --rm $IMG true" \
	"$RL run --rm --network none $IMG true" "podman run --rm --network none $IMG true"
# The difference of two medians taken minutes apart drifts with the
# machine (seen: +5 ms in one run, +18 ms in the next), so what the
# network adds is also measured in interleaved pairs: median of
# (default - none) over RUNS pairs.
pairs() {
	local i t0 t1 t2
	for i in $(seq "$RUNS"); do
		t0=$(date +%s%N)
		$1 --rm --network none "$IMG" true >/dev/null 2>&1
		t1=$(date +%s%N)
		$1 --rm "$IMG" true >/dev/null 2>&1
		t2=$(date +%s%N)
		echo $(((t2 - t1) - (t1 - t0)))
	done | sort -n | awk '{ v[NR] = $1 } END { printf "%+.1f", v[int((NR + 1) / 2)] / 1e6 }'
}
note "network: the default network (slirp4netns) adds to a start, median of $RUNS interleaved pairs: rl $(pairs "$RL run") ms, podman $(pairs "podman run") ms (target for rl <= 15 ms)"

TB=$DIR/tcpbench # built by bench.sh (static: it also runs in the container)
[ -x "$TB" ] || (cd "$repo" && CGO_ENABLED=0 go build -o "$TB" ./bench/tcpbench)
MB=${TCP_MB:-1024}
# once DIR TOOL NET: Gbit/s of one transfer of $MB MiB.
#   c2h: the container sends to a receiver on the host's loopback
#   h2c: the host sends to a receiver in the container, through -p
once() {
	local dir=$1 tool=$2 net=$3 out=$DIR/tput.out
	local run="$RL run"
	[ "$tool" = podman ] && run="podman run"
	case $dir in
	c2h)
		local to=10.0.2.2
		[ "$net" = host ] && to=127.0.0.1
		"$TB" sink 18301 >"$out" &
		$run --rm --network "$net" -v "$TB":/tb:ro "$IMG" /tb send "$to:18301" "$MB" || true
		wait
		;;
	h2c)
		local pub=(-p 18302:18302)
		[ "$net" = host ] && pub=()
		$run --rm --network "$net" "${pub[@]}" -v "$TB":/tb:ro "$IMG" /tb sink 18302 >"$out" &
		"$TB" send 127.0.0.1:18302 "$MB" || true
		wait
		;;
	esac
	cat "$out"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# tput DIR NET: "RL PODMAN HOST", medians of TCP_RUNS (7) transfers each, rl's and
# podman's interleaved so that a drift of the machine favours neither.
tput() {
	local dir=$1 net=$2 i r=() p=() h=()
	for i in $(seq "${TCP_RUNS:-7}"); do
		r+=("$(once "$dir" rl "$net")")
		p+=("$(once "$dir" podman "$net")")
	done
	for i in 1 2 3; do h+=("$(once "$dir" rl host)"); done
	echo "$(printf '%s\n' "${r[@]}" | median) $(printf '%s\n' "${p[@]}" | median) $(printf '%s\n' "${h[@]}" | median)"
}
loop=slirp4netns:allow_host_loopback=true
read -r r p h < <(tput c2h $loop)
note "network: TCP container->host (Gbit/s, median of ${TCP_RUNS:-7} x ${MB} MiB, interleaved): rl slirp4netns $r, podman slirp4netns $p, rl --network host $h (target: rl >= podman)"
read -r r p h < <(tput h2c slirp4netns)
note "network: TCP host->published port (Gbit/s, median of ${TCP_RUNS:-7}, interleaved): rl -p $r, podman -p $p, rl --network host $h (target: rl >= podman)"
