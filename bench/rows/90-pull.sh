# Pull (issue 3): the Debian image (about 50 MB compressed) from the local
# registry into an empty store, rl vs podman vs skopeo copy to a directory
# (the floor: fetch and verify, no unpacking). rl and podman share the
# store, so one PREP empties it (and skopeo's directory) before each run.
# The fourth column is the unpacking floor: gzip -dc of the same layer
# piped into GNU tar -x, in a user namespace, on the file system of the
# store. No pull into a store can take less; on this machine creating the
# image's ~6700 files costs most of it (ext4 inode allocation).
# Last row file: it leaves the store empty but for the Debian image.
DEB=$REG/debian:12
if skopeo inspect --tls-verify=false "docker://$DEB" >/dev/null 2>&1; then
	rm -rf "$DIR/deb-layer"
	skopeo copy -q --src-tls-verify=false "docker://$DEB" "dir:$DIR/deb-layer"
	LAYER=$(ls -S "$DIR"/deb-layer/* | head -1)
	PREP="podman rmi -af >/dev/null 2>&1; rm -rf $DIR/skopeo-dir $DIR/untar; mkdir $DIR/untar" RUNS=${PULL_RUNS:-5} \
		row "pull debian:12 into an empty store (floor: skopeo copy; other: gunzip|tar -x)" \
		"$RL pull -q --tls-verify=false $DEB" "podman pull -q --tls-verify=false $DEB" \
		"skopeo copy -q --src-tls-verify=false docker://$DEB dir:$DIR/skopeo-dir" \
		"unshare -Ur sh -c 'gzip -dc $LAYER | tar -x --no-same-owner --exclude ./dev -C $DIR/untar'"
	# The row runs each tool's pulls back to back, each after the removal of
	# the ~6700 files of the one before. This host's ext4 has no journal,
	# and then it skips the inodes freed in the last minute or more when it
	# allocates (fs/ext4/ialloc.c, recently_deleted): what that costs
	# depends on what ran before (seen: podman 4.7 s back to back, 2.9 s
	# interleaved). So the pulls are also timed interleaved, rl, podman,
	# tar, rl, ..., each into a store of its own that nothing was removed
	# from (a fresh HOME, as a new user's first pull): medians of the wall
	# times, the figures the target is checked against.
	pullms() { # pullms N CMD: wall ms of CMD with HOME=$DIR/pull-N
		local t0 home=$DIR/pull-$1
		mkdir -p "$home/.config" "$DIR/untar-$1"
		cp -r "$HOME/.config/containers" "$home/.config/"
		t0=$(date +%s%N)
		HOME=$home sh -c "$2" >/dev/null 2>&1
		echo $((($(date +%s%N) - t0) / 1000000))
	}
	r=() p=() u=()
	n=0
	for i in $(seq "${PULL_RUNS:-5}"); do
		n=$((n + 1))
		r+=("$(pullms "$n" "$RL pull -q --tls-verify=false $DEB")")
		n=$((n + 1))
		p+=("$(pullms "$n" "podman pull -q --tls-verify=false $DEB")")
		n=$((n + 1))
		u+=("$(pullms "$n" "unshare -Ur sh -c 'gzip -dc $LAYER | tar -x --no-same-owner --exclude ./dev -C $DIR/untar-$n'")")
	done
	med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
	rm_=$(med "${r[@]}") pm=$(med "${p[@]}") um=$(med "${u[@]}")
	note "pull debian:12 into a new store, interleaved, median of ${PULL_RUNS:-5}: rl $rm_ ms, podman $pm ms, gunzip|tar -x $um ms; rl/podman $(awk "BEGIN { printf \"%.3f\", $rm_ / $pm }") (target <= 0.66)"
	# (bench.sh removes $DIR, these stores with it, as root.)
	"$RL" pull -q --tls-verify=false "$DEB" >/dev/null
	rm -rf "$DIR/deb-layer" "$DIR"/untar*
else
	note "pull: no $DEB in the local registry (RL_TEST_DEBIAN=0?): pull row skipped"
fi
