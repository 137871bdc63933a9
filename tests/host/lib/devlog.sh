# Sourced by host tests that read what zkeep sends to syslog(3), which
# writes to /dev/log: a test must not take the host's. private_dev DIR
# CMD... runs CMD in a private mount namespace (unshare -m, so root) whose
# /dev is a tmpfs holding only null, where CMD binds its own /dev/log
# socket (a datagram socket, e.g. python3's). DIR is a scratch directory.
private_dev() {
	local dir=$1
	shift
	unshare -m --propagation private sh -c '
		set -e
		mkdir "$1/realdev"
		mount --bind /dev "$1/realdev"
		mount -t tmpfs -o mode=755 zkeep-test-dev /dev
		touch /dev/null
		mount --bind "$1/realdev/null" /dev/null
		shift
		exec "$@"
	' sh "$dir" "$@"
}
