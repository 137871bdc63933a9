# The command table: --version, help, exact-name dispatch, seed names by
# argv[0], and unfinished subcommands that say so with exit 2.
. ./lib.sh

out=$(log_must $ZK --version)
assert_contains "$out" "zkeep "
out=$(log_must $ZK help)
assert_contains "$out" "status"
out=$(log_must $ZK status --help)
assert_contains "$out" "usage: zkeep status"

$ZK pul >/dev/null 2>&1
assert_eq $? 2 "exit code of a prefix of a command name"
$ZK >/dev/null 2>&1
assert_eq $? 2 "exit code with no command"
$ZK report --bogus >/dev/null 2>&1
assert_eq $? 2 "exit code of an unknown option"
# status is a Nagios check: its own usage error is UNKNOWN (zkeep-status(1))
$ZK status --bogus >/dev/null 2>&1
assert_eq $? 3 "status's exit code of an unknown option"

d=$(mktemp -d)
on_exit rm -rf "$d"
for n in zfs-pull-backups zfs-push-backups zfs-snapshot zfs-prune zfs-snapshot-report zfs-api; do
	ln -s $ZK "$d/$n"
	out=$("$d/$n" --help) || log_fail "$n --help failed"
	assert_contains "$out" "or: $n"
done
# zfs-api is the api daemon now (t_api runs it): a bad flag is a usage
# error before it listens, never a daemon started on half a command line
err=$(timeout 60 "$d/zfs-api" --bogus 2>&1 >/dev/null)
assert_eq $? 2 "zfs-api exit code for an unknown option"
assert_contains "$err" "--bogus"
