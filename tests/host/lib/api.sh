# Sourced by the host tests that run `zkeep api` on this machine (no ZFS:
# its collection fails and says so; health and the log endpoints answer).
# Sets top, zk, d (a temporary directory, removed at exit), port (free on
# 127.0.0.1) and fail(); api_start LISTEN starts the api with $d/zkeep.conf
# and waits for /api/v1/health (on BASE, default http://127.0.0.1:$port),
# setting pid (stopped at exit).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
zk=$top/${ZKEEP_BUILD:-build}/zkeep
d=$(mktemp -d)
pid=""
api_cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$d"
}
trap api_cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

api_start() { # LISTEN [BASE]
	"$zk" api --config "$d/zkeep.conf" --listen "$1" --interval 3600 >"$d/api.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 50); do
		curl -sk -o /dev/null "${2:-http://127.0.0.1:$port}/api/v1/health" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "zkeep api did not start: $(cat "$d/api.log")"
}
