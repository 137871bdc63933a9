# Each command's options, as its --help prints them from its option table
# (lib/opt.h), are the options its man page documents, in both
# directions: a long option in --help is in man/zkeep-NAME.1, and every
# --option the man page's OPTIONS section sets in bold is in --help. Also:
# no letter means two things across the commands, and an unknown
# subcommand gets a suggestion. Runs on this machine.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
zk=$top/${ZKEEP_BUILD:-build}/zkeep
fail() { echo "FAIL: $*" >&2; exit 1; }
bad=0
declare -A letter_of=()
for c in snapshot prune report pull push api status gate; do
	help=$("$zk" "$c" --help) || fail "zkeep $c --help exited $?"
	# "  -c, --config FILE" / "  --[no-]debug": the long names
	opts=$(sed -n 's/^  \(-[a-zA-Z], \)\{0,1\}--\(\[no-\]\)\{0,1\}\([a-z][a-z-]*\).*/\3/p' <<<"$help" | sort -u)
	[ -n "$opts" ] || fail "zkeep $c --help lists no options"
	# the man page: .B/.BI/.BR/.TP lines of its OPTIONS section
	man=$(sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$top/man/zkeep-$c.1" |
		grep -E '^\.(B|BI|BR|IP|TP)' | grep -o '\\-\\-[a-z][a-z\\-]*' |
		sed 's/\\-/-/g; s/^--//; s/^no-//' | sort -u || true)
	for o in $opts; do
		grep -qx -- "$o" <<<"$man" || { echo "zkeep $c: --$o is in --help but not in man/zkeep-$c.1's OPTIONS"; bad=1; }
	done
	for o in $man; do
		grep -qx -- "$o" <<<"$opts" || { echo "zkeep $c: man/zkeep-$c.1 documents --$o, which --help (the option table) has not"; bad=1; }
	done
	# letters: one meaning everywhere
	while read -r l name; do
		[ -n "$l" ] || continue
		if [ -n "${letter_of[$l]:-}" ] && [ "${letter_of[$l]}" != "$name" ]; then
			echo "-$l is --${letter_of[$l]} in one command and --$name in zkeep $c"
			bad=1
		fi
		letter_of[$l]=$name
	done < <(sed -n 's/^  -\([a-zA-Z]\), --\(\[no-\]\)\{0,1\}\([a-z][a-z-]*\).*/\1 \3/p' <<<"$help")
done
[ $bad = 0 ] || fail "the option tables and the man pages disagree (above)"
out=$("$zk" pul 2>&1) && fail "zkeep pul exited 0"
grep -q "did you mean 'pull'" <<<"$out" || fail "no suggestion for 'pul': $out"
out=$("$zk" statsu 2>&1) || true
grep -q "did you mean 'status'" <<<"$out" || fail "no suggestion for 'statsu': $out"
out=$("$zk" frobnicate 2>&1) || true
grep -q "did you mean" <<<"$out" && fail "a suggestion for 'frobnicate': $out"
echo "option tables and man pages agree"
# Every key the config reader takes (each is a strcmp(k, "KEY") in
# lib/config.c) is documented in zkeep.conf(5), as a term (.B/.BI/.BR).
keys=$(grep -o 'strcmp(k, "[a-z_]*")' "$top/lib/config.c" | sed 's/.*"\(.*\)")/\1/' | sort -u)
[ -n "$keys" ] || fail "no keys found in lib/config.c (has the reader changed shape?)"
terms=$(grep -E '^\.(B|BI|BR) ' "$top/man/zkeep.conf.5" | sed 's/^\.[A-Z]* //; s/\\-/-/g' | tr -s ' ",' '\n' | sort -u)
for k in $keys; do
	grep -qx -- "$k" <<<"$terms" || { echo "config key '$k' (lib/config.c) is not documented in man/zkeep.conf.5"; bad=1; }
done
[ $bad = 0 ] || fail "zkeep.conf(5) misses keys (above)"
echo "zkeep.conf(5) documents every config key"
