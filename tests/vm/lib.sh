# Shared by the tests/vm scripts. Sourced, not run.
# The cache lives outside the tree: nothing built here is ever committed.
ZKEEP_CACHE=${ZKEEP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zkeep}
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { echo "vm: $*" >&2; }
die() {
	echo "vm: error: $*" >&2
	exit 1
}

# The image key: the build script's hash, so a changed recipe is a new image.
vm_image_key() {
	sha256sum "$VM_DIR/build-image" | cut -c1-16
}
