# Networking (issue 5): what the default network adds to a start, and TCP
# throughput through slirp4netns and the port forwarder, rl and podman side
# by side, with --network host as the ceiling. Throughput is measured by
# the receiver (bench/tcpbench), so start costs do not count.
row "run true, default network (floor: rl none, other: podman none)" \
	"$RL run --rm $IMG true" "podman run --rm $IMG true" \
	"$RL run --rm --network none $IMG true" "podman run --rm --network none $IMG true"
added=$(tail -1 "$table" | awk -F'\t' '{ printf "rl %+.1f ms, podman %+.1f ms", $2 - $4, $3 - $5 }')
note "network: the default network (slirp4netns) adds to a start: $added (target for rl <= 15 ms)"

TB=$DIR/tcpbench # built by bench.sh (static: it also runs in the container)
[ -x "$TB" ] || (cd "$repo" && CGO_ENABLED=0 go build -o "$TB" ./bench/tcpbench)
MB=${TCP_MB:-1024}
# tput WHO NET: median Gbit/s of 3 transfers of $MB MiB.
#   c2h: the container sends to a receiver on the host's loopback
#   h2c: the host sends to a receiver in the container, through -p
tput() {
	local dir=$1 tool=$2 net=$3 i out=$DIR/tput.out vals=()
	local run="$RL run"
	[ "$tool" = podman ] && run="podman run"
	for i in 1 2 3; do
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
		vals+=("$(cat "$out")")
	done
	printf '%s\n' "${vals[@]}" | sort -n | sed -n 2p
}
loop=slirp4netns:allow_host_loopback=true
note "network: TCP container->host (Gbit/s, median of 3 x ${MB} MiB): rl slirp4netns $(tput c2h rl $loop), podman slirp4netns $(tput c2h podman $loop), rl --network host $(tput c2h rl host) (target: rl >= podman)"
note "network: TCP host->published port (Gbit/s): rl -p $(tput h2c rl slirp4netns), podman -p $(tput h2c podman slirp4netns), rl --network host $(tput h2c rl host) (target: rl >= podman)"
