# Images (issue 3): listing a store that holds a few images. The pull row
# empties the store, so it comes last (90-pull.sh).
have_image
"$RL" tag "$BB" localhost/bench-a:1 localhost/bench-b:1 localhost/bench-c:1
row "images" "$RL images" "podman images" "unshare -Urm --fork true"
row "images -q" "$RL images -q" "podman images -q" "unshare -Urm --fork true"
