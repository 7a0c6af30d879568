#!/usr/bin/env bash
# The tree's layers depend only downward (scripts/layers), and the check can
# see an include that reaches upward (a copy of the tree with one added).
source "$(dirname "$0")/../lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/wgate-layers.XXXXXX)
trap 'rm -rf "$dir"' EXIT

check "every include in src/ reaches only its own layer or one below" "$root/scripts/layers"
mkdir -p "$dir/scripts" && cp -r "$root/src" "$dir/" && cp "$root/scripts/layers" "$dir/scripts/"
sed -i '0,/^#include "/s||#include "daemon/daemon.h"\n#include "|' "$dir/src/core/noise.c"
upward() {
	local out
	out=$("$dir/scripts/layers") && return 1 # it must fail
	grep -q 'src/core/noise.c includes daemon/daemon.h' <<<"$out"
}
check "control: the core including the daemon is reported and fails the check" upward
done_testing
