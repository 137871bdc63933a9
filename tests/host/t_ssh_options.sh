# [pull NAME] ssh_options reach the real ssh that zkeep runs: with
# LogLevel=DEBUG1 among them, a pull to a closed port fails with ssh's own
# debug lines in its error (and without it, none). Runs on this machine;
# nothing is listening on 127.0.0.1:1.
. "$(dirname "$0")/lib/common.sh"
conf() { # [ssh_options line]
	printf '[global]\nstate_dir = %s\nlock_dir = %s\n[pull h]\nhost = 127.0.0.1\nport = 1\n' "$d" "$d"
	printf 'datasets = tank/a\ndestination = zb\n%s\n' "${1:-}"
}
conf 'ssh_options = LogLevel=DEBUG1 ConnectTimeout=5' >"$d/with.conf"
conf >"$d/without.conf"
rc=0
out=$("$zk" pull --config "$d/with.conf" --job h 2>&1) || rc=$?
[ $rc = 1 ] || fail "exit $rc for an unreachable host: $out"
grep -q 'over ssh: debug1: ' <<<"$out" || fail "ssh_options did not reach ssh: $out"
rc=0
out=$("$zk" pull --config "$d/without.conf" --job h 2>&1) || rc=$?
[ $rc = 1 ] || fail "exit $rc for an unreachable host: $out"
grep -q 'debug1: ' <<<"$out" && fail "ssh debug lines without the option: $out"
exit 0
