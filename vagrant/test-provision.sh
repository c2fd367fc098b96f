#!/usr/bin/env bash
# Test the self-study VM without a hypervisor (make test-provision, part of
# make test):
#
#   1. shellcheck on every shell script of the repository;
#   2. the Vagrantfile: ruby -c, a load with a stub of the Vagrant API for both
#      host architectures (test/check-vagrantfile.rb), and `vagrant validate`
#      with Debian's vagrant and vagrant-libvirt packages;
#   3. provision.sh for real in a fresh Debian 13 "trixie" root, the distribution
#      of the boxes, made by debootstrap: chroot, provision, run rt-lab, pass
#      tahap-1 with `rt-lab start tahap-1 --auto` and full marks from
#      `rt-lab check`, then provision again and require that no file changed.
#
# Run as root. The chroot gets its own mount namespace, so its mounts never show
# on the host, and rt-lab runs in a new network namespace, so its bridges and
# veth pairs vanish with it. A missing tool is a loud skip, and under CI=true a
# skip is a failure. The last line is "test-provision: N passed, N failed, N
# skipped"; the exit status is 0 when nothing failed.
#
# Environment:
#   RT_LAB_PROVISION_MIRROR  Debian mirror (default http://deb.debian.org/debian)
#   RT_LAB_PROVISION_CACHE   folder of the cached debootstrap tarball
#                            (default /var/cache/rt-lab-test-provision)
#   RT_LAB_PROVISION_KEEP=1  keep the test folder under /var/tmp, unmounted
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script=$script_dir/$(basename "${BASH_SOURCE[0]}")
repo_dir=$(dirname "$script_dir")
readonly SUITE=trixie
readonly MIRROR=${RT_LAB_PROVISION_MIRROR:-http://deb.debian.org/debian}
readonly CACHE_DIR=${RT_LAB_PROVISION_CACHE:-/var/cache/rt-lab-test-provision}
# A cached tarball older than this is made again, so that the packages in it
# stay close to the mirror's.
readonly TARBALL_MAX_AGE_DAYS=14
readonly SOURCE_IN_VM=/home/vagrant/rt-lab
readonly CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# A file in the fresh root that names the test folder. A process whose root
# folder contains it is a process of this test.
readonly MARKER=/etc/rt-lab-test-provision
# Limits that stop a hung step. Normally each step takes about a minute or less.
readonly PROVISION_TIMEOUT=20m
readonly LAB_TIMEOUT=10m

passed=0
failed=0
skipped=0
timings=()
test_dir=""

log() { printf 'test-provision: %s\n' "$*" >&2; }

pass() {
	passed=$((passed + 1))
	log "PASS: $*"
}

fail() {
	failed=$((failed + 1))
	log "FAIL: $*"
}

# skip reports a check that could not run. Under CI=true it counts as a failure,
# because CI must run every check.
skip() {
	skipped=$((skipped + 1))
	printf '\n%s\ntest-provision: SKIPPED: %s\n' "$(printf '!%.0s' {1..72})" "$*" >&2
	printf 'test-provision: install the tools with: sudo bash scripts/install-deps.sh\n' >&2
	if [[ ${CI:-} == true ]]; then
		printf 'test-provision: CI=true, so this skip is a failure\n' >&2
		failed=$((failed + 1))
	fi
	printf '%s\n\n' "$(printf '!%.0s' {1..72})" >&2
}

# timed runs a stage and records how long it took.
timed() {
	local name=$1 start status=0
	shift
	start=$(date +%s)
	log "--- $name"
	"$@" || status=$?
	timings+=("$(printf '%5ds  %s' $(($(date +%s) - start)) "$name")")
	return "$status"
}

# show_tail prints the end of a log file after a failure.
show_tail() {
	local file=$1
	[[ -f $file ]] || return 0
	log "first and last lines of $file:"
	if (($(wc -l <"$file") > 80)); then
		{ head -n 40 -- "$file"; echo ...; tail -n 40 -- "$file"; } | sed 's/^/    /' >&2
	else
		sed 's/^/    /' -- "$file" >&2
	fi
}

# --- 1. shellcheck -----------------------------------------------------------

# shell_scripts lists the repository's shell scripts: files named *.sh and files
# whose first line names sh or bash, among those git tracks, plus this folder's.
shell_scripts() {
	local file
	{
		git -C "$repo_dir" ls-files 2>/dev/null || true
		printf '%s\n' vagrant/provision.sh vagrant/test-provision.sh
	} | sort -u | while IFS= read -r file; do
		[[ -f $repo_dir/$file ]] || continue
		if [[ $file == *.sh ]] || head -n 1 -- "$repo_dir/$file" | grep -Eq '^#!.*[/ ](ba|da)?sh( |$)'; then
			printf '%s\n' "$file"
		fi
	done
}

check_shellcheck() {
	if ! command -v shellcheck >/dev/null; then
		skip "shellcheck is not installed, so no shell script was checked"
		return 0
	fi
	local files
	mapfile -t files < <(shell_scripts)
	if (cd "$repo_dir" && shellcheck -- "${files[@]}"); then
		pass "shellcheck $(shellcheck --version | awk '/^version:/ {print $2}') on ${#files[@]} scripts: ${files[*]}"
	else
		fail "shellcheck found problems (above) in: ${files[*]}"
	fi
}

# --- 2. Vagrantfile ------------------------------------------------------------

check_vagrantfile_ruby() {
	if ! command -v ruby >/dev/null; then
		skip "ruby is not installed, so the Vagrantfile was not loaded"
		return 0
	fi
	if ruby -c "$script_dir/Vagrantfile" >/dev/null; then
		pass "ruby -c Vagrantfile: syntax OK"
	else
		fail "ruby -c Vagrantfile: syntax error (above)"
	fi
	if ruby "$script_dir/test/check-vagrantfile.rb" "$script_dir/Vagrantfile" >&2; then
		pass "Vagrantfile settings for amd64 and arm64 hosts (stub of the Vagrant API)"
	else
		fail "Vagrantfile settings (test/check-vagrantfile.rb, above)"
	fi
}

# run_vagrant runs vagrant on this folder's Vagrantfile with its own VAGRANT_HOME
# and .vagrant folder, so it writes nothing into the repository or ~/.vagrant.d.
run_vagrant() {
	VAGRANT_CWD=$script_dir VAGRANT_HOME=$vagrant_home VAGRANT_DOTFILE_PATH=$vagrant_home/dotfile \
		VAGRANT_CHECKPOINT_DISABLE=1 vagrant "$@"
}

check_vagrant_validate() {
	if ! command -v vagrant >/dev/null; then
		skip "vagrant is not installed, so 'vagrant validate' did not run" \
			"(the stub load of the Vagrantfile above still ran)"
		return 0
	fi
	local vagrant_home version out status
	vagrant_home=$(mktemp -d)
	version=$(vagrant --version | awk '{print $2}')

	if out=$(RT_LAB_VM_ARCH=amd64 run_vagrant validate --ignore-provider 2>&1); then
		pass "vagrant $version validate --ignore-provider (amd64 host)"
	else
		fail "vagrant $version validate --ignore-provider (amd64 host): $out"
	fi

	# Debian packages no VirtualBox. This stand-in VBoxManage only reports a
	# version, the one thing `vagrant validate` runs it for before it checks the
	# virtualbox block.
	mkdir "$vagrant_home/fake-bin"
	# shellcheck disable=SC2016 # $1 belongs to the stand-in script
	printf '#!/bin/sh\n[ "$1" = --version ] && echo 7.0.20r163906\n' >"$vagrant_home/fake-bin/VBoxManage"
	chmod +x "$vagrant_home/fake-bin/VBoxManage"
	if out=$(PATH=$vagrant_home/fake-bin:$PATH RT_LAB_VM_ARCH=amd64 VAGRANT_DEFAULT_PROVIDER=virtualbox \
		run_vagrant validate 2>&1); then
		pass "vagrant $version validate, provider virtualbox (VBoxManage stand-in)"
	else
		fail "vagrant $version validate, provider virtualbox: $out"
	fi

	if run_vagrant plugin list 2>/dev/null | grep -q '^vagrant-libvirt '; then
		if out=$(RT_LAB_VM_ARCH=amd64 VAGRANT_DEFAULT_PROVIDER=libvirt run_vagrant validate 2>&1); then
			pass "vagrant $version validate, provider libvirt ($(run_vagrant plugin list | grep '^vagrant-libvirt '))"
		else
			fail "vagrant $version validate, provider libvirt: $out"
		fi
	else
		skip "the vagrant-libvirt plugin is not installed, so the libvirt block was not validated"
	fi

	# The arm64 branch requires Vagrant 2.4, which picks boxes by architecture.
	status=0
	out=$(RT_LAB_VM_ARCH=arm64 run_vagrant validate --ignore-provider 2>&1) || status=$?
	if [[ $(printf '%s\n' "$version" 2.4.0 | sort -V | head -n 1) != 2.4.0 ]]; then
		if ((status != 0)) && grep -q '>= 2.4.0' <<<"$out"; then
			pass "vagrant $version rejects the arm64 branch, which needs Vagrant >= 2.4.0"
		else
			fail "vagrant $version on the arm64 branch: want an error naming '>= 2.4.0', got status $status: $out"
		fi
	elif ((status == 0)); then
		pass "vagrant $version validate --ignore-provider (arm64 host)"
	else
		fail "vagrant $version validate --ignore-provider (arm64 host): $out"
	fi

	rm -rf -- "$vagrant_home"
}

# --- 3. provisioning in a fresh root -----------------------------------------------

# cgroup_parent returns rt-lab's cgroup parent name for state folder root, as
# internal/cgroups.ParentName derives it: "rt-lab-" and 8 hex digits of SHA-256.
cgroup_parent() {
	printf 'rt-lab-%s\n' "$(printf '%s' "$1" | sha256sum | cut -c1-8)"
}

# lab_root is the rt-lab state folder inside the fresh root. It is unique per
# test folder, so the cgroup and bridge names that rt-lab hashes from it do not
# collide with those of another test or of an rt-lab on the host, unless their
# 32-bit hashes do.
lab_root() {
	printf '/var/lib/rt-lab-test-%s\n' "${1##*.}"
}

# remove_cgroups removes the cgroup groups named parent from every hierarchy,
# killing by pid any process still in them, and returns 1 when it found any.
# All of them belong to this test: the name derives from its unique state folder.
remove_cgroups() {
	local parent=$1 found=0 dir pid
	while IFS= read -r dir; do
		found=1
		while IFS= read -r pid; do
			kill -KILL "$pid" 2>/dev/null || true
		done < <(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
		sleep 0.2
		find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
		if [[ -d $dir ]]; then
			log "could not remove cgroup $dir"
		fi
	done < <(find /sys/fs/cgroup -maxdepth 4 -type d -name "$parent" 2>/dev/null)
	return "$found"
}

# mounts_under prints the mount points at or below dir in this mount namespace.
mounts_under() {
	awk -v dir="$1" '$5 == dir || index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo
}

# cleanup_test_dir runs on exit of the outer test: it removes leftover cgroups,
# then deletes the test folder, but only when no mount is left below it.
cleanup_test_dir() {
	[[ -n $test_dir && -d $test_dir ]] || return 0
	local parent left
	parent=$(cgroup_parent "$(lab_root "$test_dir")")
	if ! remove_cgroups "$parent"; then
		log "removed leftover cgroups named $parent"
	fi

	left=$(mounts_under "$test_dir")
	if [[ -n $left ]] || findmnt -rn -R --target "$test_dir" -o TARGET | grep -q "^$test_dir/"; then
		log "FAIL: NOT removing $test_dir: mounts are left below it:"
		printf '    %s\n' "$left" >&2
		exit 1
	fi
	if [[ ${RT_LAB_PROVISION_KEEP:-} == 1 ]]; then
		log "kept $test_dir (RT_LAB_PROVISION_KEEP=1)"
		return 0
	fi
	# --one-file-system: rm skips any folder on another file system, a second
	# guard after the mount check above.
	rm -rf --one-file-system -- "$test_dir"
}

# ensure_tarball makes the cached debootstrap tarball of trixie unless a fresh
# one exists. A lock keeps two tests from making it at once.
ensure_tarball() {
	local lock fresh
	mkdir -p -- "$CACHE_DIR"
	exec {lock}>"$CACHE_DIR/lock"
	flock "$lock"
	fresh=$(find "$tarball" -maxdepth 0 -mtime "-$TARBALL_MAX_AGE_DAYS" 2>/dev/null || true)
	if [[ -n $fresh ]]; then
		log "using the cached $tarball"
	else
		log "making $tarball from $MIRROR (debootstrap --make-tarball)"
		rm -f -- "$CACHE_DIR/new-$(basename "$tarball")"
		if ! debootstrap --variant=minbase --arch="$arch" \
			--make-tarball="$CACHE_DIR/new-$(basename "$tarball")" \
			"$SUITE" "$test_dir/make-tarball" "$MIRROR" >"$test_dir/debootstrap-tarball.log" 2>&1; then
			show_tail "$test_dir/debootstrap-tarball.log"
			exec {lock}>&-
			return 1
		fi
		mv -f -- "$CACHE_DIR/new-$(basename "$tarball")" "$tarball"
	fi
	exec {lock}>&-
}

make_root() {
	arch=$(dpkg --print-architecture)
	tarball=$CACHE_DIR/$SUITE-$arch-minbase.tgz
	ensure_tarball || return 1
	if ! debootstrap --variant=minbase --arch="$arch" --unpack-tarball="$tarball" \
		"$SUITE" "$root" "$MIRROR" >"$test_dir/debootstrap.log" 2>&1; then
		show_tail "$test_dir/debootstrap.log"
		log "removing the cached tarball, which may be damaged; the next run makes it again"
		rm -f -- "$tarball"
		return 1
	fi

	# Name resolution for apt and the Go module proxy.
	cp --remove-destination -L /etc/resolv.conf "$root/etc/resolv.conf"
	# The CA certificates added on the host, for a network whose TLS traffic
	# passes an inspecting proxy. The ca-certificates package, which
	# provisioning installs, adds them to the chroot's trust store.
	if [[ -d /usr/local/share/ca-certificates ]]; then
		mkdir -p -- "$root/usr/local/share/ca-certificates"
		cp -R -- /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
	fi
	# No package may start a service in the chroot: a running daemon would keep
	# its mounts busy.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
	mkdir -p -- "$root$SOURCE_IN_VM"
	basename "$test_dir" >"$root$MARKER"
	# The host name that the Vagrantfile gives the VM, which the lab phase
	# sets in its own UTS namespace; sudo looks it up.
	printf '127.0.1.1\trt-lab\n' >>"$root/etc/hosts"

	# A copy of the repository, bind-mounted read-only in the chroot. Edits to
	# the working tree while the test runs cannot make the two provisioning
	# runs build different sources.
	mkdir -- "$test_dir/source"
	tar -C "$repo_dir" --exclude=./bin --exclude=./vagrant/.vagrant -cf - . | tar -C "$test_dir/source" -xf -
	log "fresh $SUITE root in $root ($(du -sh "$root" | cut -f1))"
}

# in_phase runs this script's --inner mode in a new private mount namespace,
# plus new network and UTS namespaces for the lab phase.
in_phase() {
	local phase=$1
	shift
	local namespaces=(--mount --propagation private)
	if [[ $phase == lab ]]; then
		namespaces+=(--net --uts)
	fi
	unshare "${namespaces[@]}" -- bash "$script" --inner "$phase" "$test_dir" "$@"
}

# manifest lists every file of the root with type, mode, owner, size, link
# target and the SHA-256 of its content. It leaves out the mount points, the
# temporary folders and Go's build cache, whose entries Go rewrites on use.
manifest() {
	local prune=(-path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp
		-o -path ./var/tmp -o -path ./var/cache/rt-lab-provision/go-build -o -path ".$SOURCE_IN_VM")
	(
		cd "$root"
		find . -xdev \( "${prune[@]}" \) -prune -o -printf '%p\t%y\t%m\t%U:%G\t%s\t%l\n' | LC_ALL=C sort
		find . -xdev \( "${prune[@]}" \) -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
	)
}

test_provision_in_chroot() {
	if ! command -v debootstrap >/dev/null || ! command -v unshare >/dev/null; then
		skip "debootstrap or unshare is missing, so provision.sh did not run in a fresh root"
		return 0
	fi
	test_dir=$(mktemp -d /var/tmp/rt-lab-test-provision.XXXXXX)
	root=$test_dir/root
	trap cleanup_test_dir EXIT

	if ! timed "debootstrap $SUITE (minbase) into $root" make_root; then
		fail "could not make a fresh $SUITE root with debootstrap"
		return 0
	fi

	log "--- provision.sh, first run (log: $test_dir/provision-1.log)"
	if timed "provision.sh, first run" in_phase provision >"$test_dir/provision-1.log" 2>&1; then
		pass "provision.sh in a fresh $SUITE root: $(grep -c '^provision:   ' "$test_dir/provision-1.log") changes"
		sed -n '/^provision: changed/,$p' "$test_dir/provision-1.log" >&2
	else
		show_tail "$test_dir/provision-1.log"
		fail "provision.sh in a fresh $SUITE root (log above)"
		return 0
	fi

	log "--- rt-lab in the provisioned root (log: $test_dir/lab.log)"
	if timed "rt-lab in the provisioned root (new network namespace)" in_phase lab >"$test_dir/lab.log" 2>&1; then
		pass "rt-lab works in the provisioned root: tahap-1 --auto, check with full marks"
		grep -E '^test-provision: (ok|check)' "$test_dir/lab.log" >&2 || true
	else
		show_tail "$test_dir/lab.log"
		fail "rt-lab in the provisioned root (log above)"
	fi

	manifest >"$test_dir/manifest-before"
	log "--- provision.sh, second run (log: $test_dir/provision-2.log)"
	if ! timed "provision.sh, second run" in_phase provision >"$test_dir/provision-2.log" 2>&1; then
		show_tail "$test_dir/provision-2.log"
		fail "second run of provision.sh (log above)"
		return 0
	fi
	manifest >"$test_dir/manifest-after"
	if diff -u "$test_dir/manifest-before" "$test_dir/manifest-after" >"$test_dir/manifest.diff"; then
		pass "second provision.sh run changed no file ($(wc -l <"$test_dir/manifest-before") manifest lines compared)"
	else
		fail "second provision.sh run changed files:"
		head -n 60 "$test_dir/manifest.diff" >&2
	fi
	if grep -q '^provision: no changes' "$test_dir/provision-2.log"; then
		pass "second provision.sh run reports: $(grep '^provision: no changes' "$test_dir/provision-2.log")"
	else
		show_tail "$test_dir/provision-2.log"
		fail "second provision.sh run did not report 'no changes'"
	fi
}

# --- inner phases (in their own mount namespace) -----------------------------------

mounted=()

# mount_at mounts and records the target, so that unmount_all can undo it in
# reverse order. With --rbind, the record says to unmount recursively.
mount_at() {
	local target=${*: -1}
	mount "$@"
	if [[ " $* " == *" --rbind "* ]]; then
		mounted+=("-R $target")
	else
		mounted+=("$target")
	fi
}

# kill_chroot_processes kills, by pid, the processes whose root folder is the
# fresh root, found by its marker file: only this test starts processes there.
kill_chroot_processes() {
	local proc pid found=0 marker
	marker=$(basename "$test_dir")
	for proc in /proc/[0-9]*; do
		pid=${proc#/proc/}
		if [[ $(cat "$proc/root$MARKER" 2>/dev/null) == "$marker" ]]; then
			log "killing process $pid left in the chroot: $(tr '\0' ' ' <"$proc/cmdline" 2>/dev/null)"
			kill -KILL "$pid" 2>/dev/null || true
			found=1
		fi
	done
	if ((found)); then
		sleep 0.5
	fi
	return "$found"
}

unmount_all() {
	local status=$? i entry left
	kill_chroot_processes || status=1
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		entry=${mounted[i]}
		# shellcheck disable=SC2086 # entry is "-R PATH" or "PATH", neither with spaces
		if ! umount $entry; then
			log "umount $entry failed"
			status=1
		fi
	done
	left=$(mounts_under "$root")
	if [[ -n $left ]]; then
		log "mounts left below $root after unmounting:"
		printf '    %s\n' "$left" >&2
		status=1
	fi
	exit "$status"
}

# in_root runs a command in the fresh root with a clean environment, like a
# fresh login as root. An optional "timeout DURATION" first stops a hung command.
#
# A plain chroot is not enough for rt-lab: the kernel resolves /proc/self/exe
# of a process in a new mount namespace from that namespace's root, not from
# the chroot, so rt-lab would find its own binary at the host's path. The
# command therefore runs in a nested mount namespace whose root is the fresh
# root (pivot_root, then chroot into it), as in a VM. The host's root stays
# mounted at /mnt in that namespace only.
in_root() {
	local limit=()
	if [[ $1 == timeout ]]; then
		limit=(timeout --kill-after=1m "$2")
		shift 2
	fi
	# shellcheck disable=SC2016 # the script gets its values as arguments
	"${limit[@]}" unshare --mount --propagation private -- bash -c '
		root=$1 path=$2
		shift 2
		cd "$root" && pivot_root . mnt &&
			exec chroot . /usr/bin/env -i PATH="$path" HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
	' in-root "$root" "$CHROOT_PATH" "$@"
}

# mount_root mounts what a running Debian system has: a root that is a mount
# point, /proc, a sysfs of this network namespace, the host's cgroup hierarchies
# as they are (v1, hybrid or v2), /dev, and the repository read-only where the
# Vagrantfile shares it.
mount_root() {
	trap unmount_all EXIT
	# rt-lab makes / private and calls pivot_root(2), which both fail with
	# EINVAL when the root is a plain folder, as after a chroot into one.
	mount_at --bind "$root" "$root"
	mount_at -t proc proc "$root/proc"
	mount_at -t sysfs sysfs "$root/sys"
	if mountpoint -q /sys/fs/cgroup; then
		mount_at --rbind /sys/fs/cgroup "$root/sys/fs/cgroup"
	fi
	mount_at --rbind /dev "$root/dev"
	mount_at --bind "$test_dir/source" "$root$SOURCE_IN_VM"
	mount -o remount,bind,ro "$root$SOURCE_IN_VM"
}

inner_provision() {
	in_root timeout "$PROVISION_TIMEOUT" bash "$SOURCE_IN_VM/vagrant/provision.sh" "$SOURCE_IN_VM"
}

# check_json_full_marks checks the report of `rt-lab check --format json`:
# "passed" is true and "score" equals a non-zero "max", read from the top-level
# keys, which the report indents by two spaces.
check_json_full_marks() {
	local file=$1 passed_value score max
	passed_value=$(awk '/^  "passed": / { sub(/,$/, "", $2); print $2 }' "$file")
	score=$(awk '/^  "score": / { sub(/,$/, "", $2); print $2 }' "$file")
	max=$(awk '/^  "max": / { sub(/,$/, "", $2); print $2 }' "$file")
	log "check tahap-1: passed=$passed_value score=$score max=$max"
	[[ $passed_value == true && -n $score && $score == "$max" && $max -gt 0 ]]
}

inner_lab() {
	local lab status=0 names name parent
	lab=$(lab_root "$test_dir")
	parent=$(cgroup_parent "$lab")
	ip link set lo up
	hostname rt-lab

	log "ok rt-lab installed: $(in_root rt-lab --version)"
	if in_root rt-lab debug --help >/dev/null 2>&1; then
		in_root rt-lab --root "$lab" debug system || return 1
		log "ok rt-lab debug system"
	else
		# TODO: `rt-lab debug system` does not exist yet; until it does, these
		# two commands show that rt-lab starts and reads its state folder.
		in_root rt-lab --help >/dev/null || return 1
		in_root rt-lab --root "$lab" list-containers || return 1
		log "ok rt-lab --help and list-containers (no 'debug system' command yet)"
	fi

	# What the login message tells the user to type, with sudo.
	if ! in_root timeout "$LAB_TIMEOUT" sudo rt-lab --root "$lab" start tahap-1 --auto; then
		log "rt-lab start tahap-1 --auto failed"
		status=1
	fi
	in_root rt-lab --root "$lab" check tahap-1 --format json >"$test_dir/check.json" || true
	if check_json_full_marks "$test_dir/check.json"; then
		log "ok check tahap-1 --format json: full marks"
	else
		log "check tahap-1 --format json did not give full marks:"
		cat "$test_dir/check.json" >&2
		status=1
	fi

	if in_root env SSH_TTY=/dev/pts/0 bash -lc true | grep -q 'sudo rt-lab start tahap-1'; then
		log "ok login message in an SSH login shell"
	else
		log "login message missing from an SSH login shell"
		status=1
	fi
	if [[ -n $(in_root bash -lc true) ]]; then
		log "a login shell without SSH_TTY printed output"
		status=1
	fi
	# shellcheck disable=SC2016 # the script runs in the chroot's bash
	if in_root bash -c '. /usr/share/bash-completion/bash_completion
		. /usr/share/bash-completion/completions/rt-lab
		COMP_WORDS=(rt-lab sta); COMP_CWORD=1; COMP_LINE="rt-lab sta"; COMP_POINT=${#COMP_LINE}
		__start_rt-lab rt-lab sta rt-lab
		printf "%s\n" "${COMPREPLY[@]}"' 2>/dev/null | grep -qx 'start'; then
		log "ok bash completion: 'rt-lab sta<TAB>' gives start"
	else
		log "bash completion of 'rt-lab sta' did not give start"
		status=1
	fi

	# Remove every house the lesson built, then check that rt-lab removed its
	# cgroups too.
	names=$(in_root rt-lab --root "$lab" list-containers --json |
		grep -o '"name": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' || true)
	for name in $names; do
		in_root rt-lab --root "$lab" delete-container "$name" --force --yes || status=1
	done
	if ! remove_cgroups "$parent"; then
		log "rt-lab left cgroups named $parent after delete-container; removed them"
		status=1
	fi
	return "$status"
}

inner() {
	local phase=$1
	test_dir=$2
	root=$test_dir/root
	mount_root
	case $phase in
	provision) inner_provision ;;
	lab) inner_lab ;;
	*)
		log "unknown phase ${phase@Q}"
		return 2
		;;
	esac
}

# --- main -----------------------------------------------------------------------

main() {
	# Turn INT and TERM into an exit, so that the EXIT traps unmount and clean up.
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [[ ${1:-} == --inner ]]; then
		shift
		inner "$@"
		return
	fi
	if ((EUID != 0)); then
		log "run as root: sudo bash $0 (it mounts, chroots and creates namespaces)"
		exit 3
	fi

	local start
	start=$(date +%s)
	timed "shellcheck" check_shellcheck
	timed "Vagrantfile: ruby -c and stub load" check_vagrantfile_ruby
	timed "vagrant validate" check_vagrant_validate
	test_provision_in_chroot
	timings+=("$(printf '%5ds  %s' $(($(date +%s) - start)) "total")")

	log "timings:"
	printf '    %s\n' "${timings[@]}" >&2
	printf 'test-provision: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
	((failed == 0))
}

main "$@"
