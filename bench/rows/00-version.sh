# The harness itself: a process start of each tool, and the namespace floor.
row "version" "$RL version" "podman version" "unshare -Urm --fork true"
