# rl run (issue 4): start cost against podman, the namespace floor and
# charliecloud's ch-run on the same rootfs; parallel starts; file I/O in
# the rootfs against the host's file system; rl's memory while it waits.
have_image
# A flat copy of the image for ch-run (it runs a directory). Copied as
# uid 0 in the container, which is the user on the host; /owned (files of
# other uids) is left out, and ch-run's mount points are made on the host.
ch=$DIR/ch-rootfs
rm -rf "$ch" && mkdir -p "$ch"
"$RL" run --rm --network none -v "$ch":/out "$IMG" cp -a /bin /etc /out/
mkdir -p "$ch"/dev "$ch"/proc "$ch"/sys "$ch"/tmp "$ch"/home "$ch"/mnt "$ch"/run "$ch"/usr "$ch"/var
CHRUN=$(command -v ch-run || true)
chrun=${CHRUN:+$CHRUN $ch -- /bin/true}

row "run --network none true (subuid)" "$RL run --rm --network none $IMG true" \
	"podman run --rm --network none $IMG true" "unshare -Urm --fork true" "$chrun"
row "run --network none true (single-uid)" "env RL_IDMAP=single $RL run --rm --network none $IMG true" \
	"podman run --rm --network none --userns=keep-id $IMG true" "unshare -Urm --fork true" "$chrun"
# The same starts interleaved (each round runs each command once): the
# rows above run all of one command, then all of the next, minutes apart
# on a machine whose speed drifts, which moves their ratios.
IL=$DIR/interleave # built by bench.sh
[ -x "$IL" ] || (cd "$repo" && CGO_ENABLED=0 go build -o "$IL" ./bench/interleave)
# (podman's run writes to the store rl shares, which makes rl's record
# of the image stale: an untimed rl run after it looks the image up
# again, as the first of the rows' rl runs does.)
if il=$("$IL" "$RUNS" "$RL run --rm --network none $IMG true" "podman run --rm --network none $IMG true" \
	"~$RL run --rm --network none $IMG true" "env RL_IDMAP=single $RL run --rm --network none $IMG true" ${chrun:+"$chrun"}); then
	read -r -d '' rs _ ps _ ss _ cs _ <<<"$(echo "$il" | tr '\n' ' ')" || true
	note "rl run: starts interleaved, medians of $RUNS rounds (ms): subuid rl $rs vs podman $ps = $(awk "BEGIN { printf \"%.3f\", $rs / $ps }") (target <= 0.08); single-uid rl $ss (env RL_IDMAP=single in front) vs ch-run ${cs:--} = $(awk "BEGIN { if (\"$cs\" + 0 > 0) printf \"%.2f\", $ss / $cs; else print \"-\" }")x (target <= 2x)"
else
	note "rl run: starts interleaved: failed"
fi
SHELL_ROW=1 row "16 parallel runs (floor: 1 run)" \
	"for i in \$(seq 16); do $RL run --rm --network none $IMG true & done; wait" \
	"for i in \$(seq 16); do podman run --rm --network none $IMG true & done; wait" \
	"$RL run --rm --network none $IMG true"
# No sync in the workload: the container's upper directory is mounted
# volatile (rl removes it at exit, as podman does with --rm), so a sync
# there returns at once, and a row with one would time the host's disk
# against nothing. Create, write, read and delete through the page cache.
io='dd if=/dev/zero of=/tmp/f bs=1M count=512 2>/dev/null && cat /tmp/f >/dev/null && rm /tmp/f'
mkdir -p "$DIR/hosttmp"
SHELL_ROW=1 row "512MB write+read in rootfs, no sync (floor: host, other: rl run true)" "$RL run --rm --network none $IMG sh -c '$io'" \
	"podman run --rm --network none $IMG sh -c '$io'" "busybox sh -c '${io//\/tmp/$DIR/hosttmp}'" \
	"$RL run --rm --network none $IMG true"
# The I/O itself: the row's rl time less rl's start and end (other).
tail -1 "$table" | awk -F'\t' '$5 > 0 && $4 > 0 { printf "rl run: 512MB write+read in the rootfs, without the start: %.1f ms vs %.1f ms on the host (%.2fx the host'"'"'s time; target <= 1.05x)\n", $2 - $5, $4, ($2 - $5) / $4 }' >>"$DIR/notes.txt"
# The row's blocks run minutes apart, and the disk is not equally busy
# all the while (seen: 0.95x in one run, 1.23x in the next). So also
# interleaved: host, rl with the I/O, rl without, RUNS times; medians.
ioms() {
	local t0
	t0=$(date +%s%N)
	sh -c "$1" >/dev/null 2>&1
	echo $((($(date +%s%N) - t0) / 1000000))
}
h=() r=() z=()
for i in $(seq "$RUNS"); do
	h+=("$(ioms "busybox sh -c '${io//\/tmp/$DIR/hosttmp}'")")
	r+=("$(ioms "$RL run --rm --network none $IMG sh -c '$io'")")
	z+=("$(ioms "$RL run --rm --network none $IMG true")")
done
iomed() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
hm=$(iomed "${h[@]}") rm_=$(iomed "${r[@]}") zm=$(iomed "${z[@]}")
note "rl run: 512MB write+read, interleaved, median of $RUNS: rootfs $rm_ ms less rl's start $zm ms = $((rm_ - zm)) ms vs $hm ms on the host ($(awk "BEGIN { printf \"%.2f\", ($rm_ - $zm) / $hm }")x the host's time; target <= 1.05x)"

# RSS of rl (P and C) while a container runs, with its parts: private
# anonymous memory, and PSS (shared pages of the binary counted in shares).
"$RL" run --rm --network none "$IMG" sleep 2 &
sleep 1
mem=$(for p in $(pgrep -f "$RL run --rm --network none $IMG sleep 2"); do
	rss=$(awk '/^VmRSS/ {print $2}' /proc/$p/status)
	anon=$(awk '/^RssAnon/ {print $2}' /proc/$p/status)
	pss=$(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup)
	echo "rss=${rss} anon=${anon} pss=${pss}"
done | sort | tr '\n' ' ')
wait
note "rl run: memory of rl's processes (P and C) while the container runs, kB: $mem(target: RSS <= 15 MB each)"
