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
	rm -rf "$DIR/deb-layer" "$DIR/untar"
else
	note "pull: no $DEB in the local registry (RL_TEST_DEBIAN=0?): pull row skipped"
fi
