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

# api_kept_paths DATASET: sets API_KEPT_PATHS to the endpoints whose
# bodies are kept per view (issue 22), with DATASET (one of bench_tree's,
# in the pool bench), and three that are not, to compare with.
api_kept_paths() {
	# shellcheck disable=SC2034 # read by the scripts that source this
	API_KEPT_PATHS=(/api/v1/pools /api/v1/pools/bench /api/v1/pools/bench/status
		/api/v1/pools/bench/iostat /api/v1/datasets "/api/v1/datasets/$1"
		"/api/v1/datasets/$1/snapshots" /api/v1/snapshots "/api/v1/snapshots/$1"
		/api/docs /api/openapi.json
		"/api/v1/snapshots/_all (streamed, not kept)" "/api/v1/health (built per request)"
		"/metrics (kept per view, plus the collector's lines)")
}

# cpu_per_request WRK BASE_URL PID SECS RUNS PATH...: the daemon's CPU
# (utime+stime of PID from /proc/PID/stat, before and after) per request
# of a single-client run (wrk -t1 -c1, SECS seconds), RUNS runs per path
# (min/median/max, ms), after one request that renders what is kept. A
# PATH may carry a note after a space.
cpu_per_request() {
	local wrk=$1 url=$2 pid=$3 secs=$4 runs=$5 path p t0 t1 n res body tck
	shift 5
	tck=$(getconf CLK_TCK)
	body=$(mktemp)
	for path in "$@"; do
		p=${path%% *}
		curl -s -o "$body" "$url$p"
		res=$(for _ in $(seq 1 "$runs"); do
			t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
			n=$("$wrk" -t1 -c1 -d"${secs}s" --timeout 60s "$url$p" | awk '/requests in/ { print $1 }')
			t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
			awk -v d=$((t1 - t0)) -v n="$n" -v t="$tck" 'BEGIN { printf "%.4f\n", d * 1000 / t / n }'
		done | sort -g | awk '{ v[NR] = $1 } END { printf "min %s, median %s, max %s", v[1], v[int((NR + 1) / 2)], v[NR] }')
		printf '  %-56s %s (%s bytes)\n' "$path" "$res" "$(stat -c %s "$body")"
	done
	rm -f "$body"
}
