# Pull (issue 3): the Debian image (about 50 MB compressed) from the local
# registry into an empty store, rl vs podman vs skopeo copy to a directory
# (the floor: fetch and verify, no unpacking). rl and podman share the
# store, so one PREP empties it (and skopeo's directory) before each run.
# Last row file: it leaves the store empty but for the Debian image.
DEB=$REG/debian:12
if skopeo inspect --tls-verify=false "docker://$DEB" >/dev/null 2>&1; then
	PREP="podman rmi -af >/dev/null 2>&1; rm -rf $DIR/skopeo-dir" RUNS=${PULL_RUNS:-5} \
		row "pull debian:12 into an empty store (floor: skopeo copy)" \
		"$RL pull -q --tls-verify=false $DEB" "podman pull -q --tls-verify=false $DEB" \
		"skopeo copy -q --src-tls-verify=false docker://$DEB dir:$DIR/skopeo-dir"
else
	note "pull: no $DEB in the local registry (RL_TEST_DEBIAN=0?): pull row skipped"
fi
