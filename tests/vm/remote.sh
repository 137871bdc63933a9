# Helpers for bash scripts on the build machine that drive a running test VM
# and services on loopback (scripts/demo, tests/host/t_monitoring_*.sh).
# Sourced, not run.
# shellcheck shell=bash
REMOTE_VMCTL=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/vm

# vm_ssh_retry NAME CMD...: CMD as root in the VM, stdin passed through. A
# connection that fails (ssh's 255: on a loaded machine a TCG guest can miss
# ssh's 5 s banner timeout) is retried, as the command never ran; any other
# exit status is CMD's own.
vm_ssh_retry() {
	local name=$1 in rc i
	shift
	in=$(mktemp)
	cat >"$in"
	for i in 1 2 3 4 5; do
		rc=0
		"$REMOTE_VMCTL" ssh "$name" "$@" <"$in" || rc=$?
		[ $rc -eq 255 ] || break
		[ "$i" -eq 5 ] || sleep 3
	done
	rm -f "$in"
	return $rc
}

# free_port: a loopback TCP port nobody listens on now.
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# http_wait URL [SECONDS]: until URL answers 2xx (default 20 s); 1 if it never did.
http_wait() {
	local i
	for i in $(seq 1 $((${2:-20} * 10))); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
