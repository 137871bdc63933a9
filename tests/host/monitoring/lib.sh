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

# sink_start serve FILE [KEY] | record DIR: sets SINK (its URL).
sink_start() {
	local pf=$T/sink.port.$RANDOM
	/usr/bin/python3 "$MON/httpsink.py" "$@" "$pf" &
	_pids+=($!)
	local i
	for i in $(seq 1 100); do
		[ -s "$pf" ] && break
		sleep 0.1
	done
	[ -s "$pf" ] || fail "httpsink $1 did not start"
	SINK=http://127.0.0.1:$(cat "$pf")
}

# bg CMD...: start a long-running process, stopped on exit; sets BG_PID.
bg() {
	"$@" &
	BG_PID=$!
	_pids+=($BG_PID)
}
