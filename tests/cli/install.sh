#!/usr/bin/env bash
# make install with PREFIX and DESTDIR: the binary, the wgated name, the man
# page and the systemd unit, with the unit pointing at the installed binary.
source "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
check "make install PREFIX=/usr DESTDIR=... succeeds" make -s -C "$top" install PREFIX=/usr DESTDIR="$dest"
check "it installs wgate, wgated, wgate(8) and wgate@.service" bash -c "
	[ -x '$dest/usr/bin/wgate' ] && [ -L '$dest/usr/bin/wgated' ] &&
	[ -f '$dest/usr/share/man/man8/wgate.8' ] && [ -f '$dest/usr/lib/systemd/system/wgate@.service' ] &&
	[ -f '$dest/usr/share/wgate/haproxy/wgate-identity.lua' ]"
check "the unit runs the installed binary in the foreground and reloads with wgate reload" bash -c "
	grep -q '^ExecStart=/usr/bin/wgate up --foreground %i' '$dest/usr/lib/systemd/system/wgate@.service' &&
	grep -q '^ExecReload=/usr/bin/wgate reload %i' '$dest/usr/lib/systemd/system/wgate@.service'"
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify accepts the unit" bash -c "
		systemd-analyze verify '$dest/usr/lib/systemd/system/wgate@.service' 2>&1 |
		grep -v -e 'man wgate(8)' -e 'is not executable' | grep -q . && exit 1 || exit 0"
fi
check "the man page renders" bash -c "man -l '$top/docs/wgate.8' >/dev/null 2>&1 || groff -man -Tutf8 '$top/docs/wgate.8' >/dev/null"
done_testing
