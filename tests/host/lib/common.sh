# Sourced by host tests that run zkeep on this machine: strict mode, top
# (the tree), zk (the binary of $ZKEEP_BUILD, default build), d (a
# temporary directory, removed at exit) and fail().
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
zk=$top/${ZKEEP_BUILD:-build}/zkeep
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
