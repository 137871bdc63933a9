# Helpers for tests/host/t_monitoring_*.sh: real victoria-metrics, vmalert
# and vmagent (Debian's victoria-metrics package) started on loopback in a
# temp dir, stopped on exit. Source it; it sets T (the temp dir) and MON
# (this directory), and `set -euo pipefail`. ZKEEP_MON_KEEP=1 keeps T.
set -euo pipefail
MON=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$MON/../../.." && pwd)
DEPLOY=$TOP/deploy
T=$(mktemp -d)
_pids=()
_cleanup() {
	local i
	# the last started first: vmalert and vmagent before the store they use
	for ((i = ${#_pids[@]} - 1; i >= 0; i--)); do
		kill "${_pids[i]}" 2>/dev/null || true
		wait "${_pids[i]}" 2>/dev/null || true
	done
	if [ -n "${ZKEEP_MON_KEEP:-}" ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
}
trap _cleanup EXIT

for b in victoria-metrics vmalert vmagent curl jq python3; do
	command -v "$b" >/dev/null || { echo "missing $b (scripts/install-deps installs it)"; exit 1; }
done

fail() { echo "FAIL: $*"; exit 1; }

# free_port, http_wait, vm_ssh_retry
. "$TOP/tests/vm/remote.sh"

# wait_http URL [SECONDS]: until URL answers 2xx
wait_http() {
	http_wait "$@" || fail "$1 did not come up"
}

# vm_start [FLAGS...]: a victoria-metrics on a free loopback port, data in
# $T/vm; sets VM (its URL).
vm_start() {
	local port
	port=$(free_port)
	victoria-metrics -storageDataPath="$T/vm" -httpListenAddr="127.0.0.1:$port" \
		-loggerLevel=ERROR -search.latencyOffset=0s -search.disableCache "$@" >"$T/vm.log" 2>&1 &
	_pids+=($!)
	VM=http://127.0.0.1:$port
	wait_http "$VM/health"
}

# vm_import FILE: Prometheus text (with millisecond timestamps) into $VM,
# then flush so that queries see it at once.
vm_import() {
	curl -fsS --data-binary @"$1" "$VM/api/v1/import/prometheus" || fail "import of $1"
	curl -fsS "$VM/internal/force_flush" >/dev/null || true
}

# vm_query EXPR [TIME]: the JSON answer of an instant query (any status).
vm_query() {
	local args=(--data-urlencode "query=$1")
	[ $# -lt 2 ] || args+=(--data-urlencode "time=$2")
	curl -sS "${args[@]}" "$VM/api/v1/query"
}

# py_start SCRIPT ARGS...: one of our stdlib servers (each writes its port
# to the file given as its last argument), stopped on exit; sets PY_URL.
py_start() {
	local pf=$T/py.port.$RANDOM i
	bg /usr/bin/python3 "$@" "$pf"
	for i in $(seq 1 100); do
		[ -s "$pf" ] && break
		sleep 0.1
	done
	[ -s "$pf" ] || fail "$(basename "$1") $2 did not start"
	PY_URL=http://127.0.0.1:$(cat "$pf")
}

# sink_start serve FILE [KEY] | record DIR: sets SINK (its URL).
sink_start() {
	py_start "$MON/httpsink.py" "$@"
	SINK=$PY_URL
}

# bg CMD...: start a long-running process, stopped on exit; sets BG_PID.
bg() {
	"$@" &
	BG_PID=$!
	_pids+=($BG_PID)
}

# ---- the QEMU test VM, for the tests marked "# needs: vm"

# vm_boot NAME: boots the test VM (OpenZFS $ZKEEP_MON_FLAVOUR, default 2.3)
# as NAME, stopped on exit after everything else (the trap runs _cleanup,
# which stops our processes first, tunnels included, then the VM); sets
# VMNAME and VMRUN (its run dir: image, port).
vm_boot() {
	local fl=${ZKEEP_MON_FLAVOUR:-2.3}
	VMCTL=$TOP/tests/vm/vm
	VMNAME=$1
	VMRUN=${ZKEEP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zkeep}/run/$VMNAME
	"$VMCTL" start "$fl" "$VMNAME" >"$T/vm-start.log" 2>&1 || { cat "$T/vm-start.log"; fail "vm start $fl"; }
	trap '_cleanup; "$VMCTL" stop "$VMNAME" >/dev/null 2>&1 || true; rm -rf "$VMRUN"' EXIT
}

# vssh CMD (stdin /dev/null) and vssh_in CMD (stdin passed): run CMD in the
# VM, a failed connection retried (vm_ssh_retry, tests/vm/remote.sh)
vssh_in() { vm_ssh_retry "$VMNAME" "$@"; }
vssh() { vssh_in "$@" </dev/null; }

# vm_put FILE DIR: copies FILE into DIR (made) in the VM, with retries
vm_put() {
	local i
	vssh "mkdir -p '$2'"
	for i in 1 2 3 4 5; do
		"$VMCTL" put "$VMNAME" "$1" "$2/" && return 0
		sleep 3
	done
	fail "could not copy $1 into the VM"
}

# vm_forward FORWARDS...: one ssh to the VM holding the -L/-R forwards
# given, stopped on exit
vm_forward() {
	bg ssh -N "$@" -i "$(cat "$VMRUN/image")/id_ed25519" -p "$(cat "$VMRUN/port")" \
		-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o ExitOnForwardFailure=yes -o ConnectTimeout=30 root@127.0.0.1
}
