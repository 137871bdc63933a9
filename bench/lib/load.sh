# shellcheck shell=bash
# Sourced by the bench/ scripts on the host: the host's 1-minute load
# average sampled through a run, so every figure is printed with the
# contention it was measured under (TCG VMs share the host's cores).

# load_start: sample /proc/loadavg every 15 s in the background until
# load_report.
load_start() {
	LOAD_LOG=$(mktemp)
	(while :; do
		cut -d' ' -f1 /proc/loadavg
		sleep 15
	done) >"$LOAD_LOG" &
	LOAD_PID=$!
}

# load_report: stop sampling and print min, median and max.
load_report() {
	kill "$LOAD_PID" 2>/dev/null || true
	wait "$LOAD_PID" 2>/dev/null || true
	sort -n "$LOAD_LOG" | awk '{ v[NR] = $1 } END {
		if (NR) printf "host load average (1 min, %d samples): min %s, median %s, max %s\n",
			NR, v[1], v[int((NR + 1) / 2)], v[NR] }'
	rm -f "$LOAD_LOG"
}
