# shellcheck shell=bash
# Sourced by bench/api, on the host and (sent ahead of its script) in the
# test VM.

# wrk_passes WRK BASE_URL SECS: p50, p99 and requests/s of /metrics (as
# text, and gzipped as Prometheus and VictoriaMetrics ask for it),
# /api/v1/pools, /api/v1/snapshots (the compliance report) and
# /api/v1/snapshots/_all (every snapshot, streamed), first under load
# (-t2 -c10: the load the goal is set for), then one request at a time
# (-t1 -c1: the service time without queueing behind other connections).
# wrk's own 2 s timeout would drop the slow _all requests under TCG from
# the figures, hence 60 s.
wrk_passes() {
	local wrk=$1 url=$2 secs=$3 out tc t c path ae
	out=$(mktemp)
	for tc in 2:10 1:1; do
		t=${tc%:*} c=${tc#*:}
		for path in /metrics /metrics:gzip /api/v1/pools /api/v1/snapshots /api/v1/snapshots/_all; do
			ae=identity
			[ "${path#*:}" = gzip ] && ae=gzip
			"$wrk" -t"$t" -c"$c" -d"${secs}s" --timeout 60s --latency \
				-H "Accept-Encoding: $ae" "$url${path%:gzip}" >"$out"
			awk -v p="${path/:gzip/ (gzip)}" -v t="$t" -v c="$c" '
				$1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
				$1 == "Requests/sec:" { rps = $2 }
				$1 == "Non-2xx" { bad = ", NOT 2xx: " $NF }
				END { printf "%-24s wrk -t%s -c%s: p50=%s p99=%s, %s requests/s%s\n",
					p, t, c, p50, p99, rps, bad }' "$out"
		done
	done
	rm -f "$out"
}

# rss PID: the process's resident set now and at its peak
rss() {
	awk '/VmRSS/ { r = $2 } /VmHWM/ { h = $2 }
		END { printf "RSS: %.1f MiB (peak %.1f MiB)\n", r / 1024, h / 1024 }' "/proc/$1/status"
}
