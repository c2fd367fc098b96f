#!/usr/bin/env bash
# Print the path of the first go command that is Go 1.21 or newer, or print
# nothing and exit 1. Go 1.21 is the first release that honours GOTOOLCHAIN=auto,
# so from there the go command fetches the toolchain that go.mod names.
#
# Candidates, in order: /usr/local/go/bin/go (the official tarball), go on PATH,
# Debian's and Ubuntu's versioned /usr/lib/go-1.NN/bin/go (newest first), and the
# snap.
set -euo pipefail

readonly MIN_MINOR=21

# go_minor prints the minor version of a go command, such as 26 for go1.26.8.
# It runs from / with GOTOOLCHAIN=local so that no go.mod can make the command
# switch to, or download, another toolchain while we only ask its version.
go_minor() {
	local version
	version=$(cd / && GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null) || return 1
	if [[ $version =~ ^go1\.([0-9]+) ]]; then
		printf '%s\n' "${BASH_REMATCH[1]}"
		return 0
	fi
	return 1
}

candidates=(/usr/local/go/bin/go)
if path_go=$(command -v go 2>/dev/null); then
	candidates+=("$path_go")
fi
while IFS= read -r dir; do
	candidates+=("$dir/bin/go")
done < <(find /usr/lib -maxdepth 1 -name 'go-1.*' -type d 2>/dev/null | sort -V -r)
candidates+=(/snap/bin/go)

for go in "${candidates[@]}"; do
	[[ -x $go ]] || continue
	minor=$(go_minor "$go") || continue
	if ((minor >= MIN_MINOR)); then
		printf '%s\n' "$go"
		exit 0
	fi
done
exit 1
