#!/usr/bin/env bash
# Provision the rt-lab self-study VM: install the packages rt-lab needs, build
# rt-lab from the source folder, install it to /usr/local/bin with bash
# completion, and add a login message in Indonesian and English that names the
# first command. Vagrant runs this as root on `vagrant up`; it works the same on
# any Debian or Ubuntu machine:
#
#   sudo bash vagrant/provision.sh [SOURCE]
#
# SOURCE is the rt-lab repository (default: the folder above this script's).
# Go builds with GOTOOLCHAIN=auto, so it fetches the Go release that go.mod names
# from the Go module proxy on first use.
#
# A second run changes nothing: packages are installed only when missing, and
# each file is written only when its content or mode differs. The last lines
# list the changes, or print "no changes".
#
# Exit status: 0 ok, 1 a step failed, 2 usage error, 3 cannot run here.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

readonly BIN=/usr/local/bin/rt-lab
readonly COMPLETION=/usr/share/bash-completion/completions/rt-lab
readonly WELCOME=/etc/profile.d/rt-lab-welcome.sh
# Go's build and module caches, kept so that a second run builds from cache.
readonly CACHE=/var/cache/rt-lab-provision
# Packages that the VM adds to scripts/install-deps.sh --lab-only: the login
# message shows commands with sudo, and the completion needs bash-completion.
readonly VM_PACKAGES=(sudo bash-completion)

changes=()
work=""

log() { printf 'provision: %s\n' "$*" >&2; }

die() {
	local status=$1
	shift
	log "$*"
	exit "$status"
}

cleanup() {
	if [[ -n $work ]]; then
		rm -rf -- "$work"
	fi
}

# installed_packages lists every installed package with its version, so that a
# before-and-after comparison shows what apt-get changed.
installed_packages() {
	dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' | sort
}

install_packages() {
	local before after missing=() pkg
	before=$(installed_packages)

	local status=0
	bash "$source_dir/scripts/install-deps.sh" --lab-only || status=$?
	if ((status != 0)); then
		die "$status" "scripts/install-deps.sh --lab-only failed with exit status $status; see its message above"
	fi

	for pkg in "${VM_PACKAGES[@]}"; do
		if [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null) != ii* ]]; then
			missing+=("$pkg")
		fi
	done
	if ((${#missing[@]} > 0)); then
		log "installing: ${missing[*]}"
		apt-get -o DPkg::Lock::Timeout=300 update -qq ||
			die 1 "apt-get update failed; check the apt sources and the network"
		apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" ||
			die 1 "apt-get install of ${missing[*]} failed; see apt-get's message above"
	fi

	after=$(installed_packages)
	if [[ $before != "$after" ]]; then
		local added
		added=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | awk '{print $1}' | paste -sd' ')
		changes+=("packages installed or changed: $added")
	fi
}

# put_file installs file src at dest with mode, owned by root, unless dest
# already has that content and mode.
put_file() {
	local src=$1 dest=$2 mode=$3
	if [[ -f $dest && ! -L $dest ]] && cmp -s -- "$src" "$dest" &&
		[[ $(stat -c '%a %u %g' -- "$dest") == "${mode#0} 0 0" ]]; then
		return 0
	fi
	install -D -m "$mode" -o root -g root -- "$src" "$dest"
	changes+=("wrote $dest")
}

# use_own_go_config points Go at a settings folder of its own, with telemetry
# off. Go reads its settings and writes telemetry counters under
# XDG_CONFIG_HOME, so this keeps every go command that provisioning runs from
# writing counters, which would change files on every run, and from reading
# settings that a user made with `go env -w`.
use_own_go_config() {
	export XDG_CONFIG_HOME=$CACHE/config
	printf 'off\n' >"$work/telemetry-mode"
	put_file "$work/telemetry-mode" "$XDG_CONFIG_HOME/go/telemetry/mode" 0644
}

build_rt_lab() {
	log "building rt-lab from $source_dir (the first build fetches the Go toolchain that go.mod names)"
	# The Makefile contains the build flags: a static binary with the version from git.
	# BIN points outside the source folder, which may be read-only.
	GOCACHE=$CACHE/go-build GOMODCACHE=$CACHE/go-mod GOPATH=$CACHE/go \
		make -s -C "$source_dir" build BIN="$work/rt-lab" >&2 ||
		die 1 "building rt-lab failed; see the Go error above"
	put_file "$work/rt-lab" "$BIN" 0755
}

install_completion() {
	"$BIN" completion bash >"$work/completion" ||
		die 1 "$BIN completion bash failed"
	put_file "$work/completion" "$COMPLETION" 0644
}

# write_welcome writes the login message script. It prints only in an SSH
# session with a terminal and outside tmux, so scripts and every new tmux pane
# stay quiet.
write_welcome() {
	cat >"$work/welcome" <<EOF
# rt-lab login message, written by vagrant/provision.sh.
if [ -n "\${SSH_TTY:-}" ] && [ -z "\${TMUX:-}" ]; then
	cat <<'MESSAGE'

rt-lab: laboratorium container Linux / a hands-on lab for Linux containers

  Mulai pelajaran pertama:   sudo rt-lab start tahap-1
  Start the first lesson:    sudo rt-lab --lang en start tahap-1

  Daftar tahap / Stages:     sudo rt-lab lessons
  Bantuan / Help:            rt-lab --help
  Kode sumber / Source:      $source_dir

MESSAGE
fi
EOF
	put_file "$work/welcome" "$WELCOME" 0644
}

main() {
	case ${1:-} in
	-h | --help)
		sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
		return 0
		;;
	-*) die 2 "unknown option ${1@Q}; usage: sudo bash vagrant/provision.sh [SOURCE]" ;;
	esac
	if (($# > 1)); then
		die 2 "too many arguments: $*; usage: sudo bash vagrant/provision.sh [SOURCE]"
	fi

	source_dir=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
	if [[ ! -f $source_dir/go.mod || ! -f $source_dir/scripts/install-deps.sh ]]; then
		die 2 "${source_dir@Q} is not the rt-lab repository (no go.mod or scripts/install-deps.sh);" \
			"pass the repository folder as the argument"
	fi
	source_dir=$(cd "$source_dir" && pwd)
	if ((EUID != 0)); then
		die 3 "run as root: sudo bash $0 $source_dir"
	fi

	work=$(mktemp -d)
	trap cleanup EXIT

	use_own_go_config
	install_packages
	build_rt_lab
	install_completion
	write_welcome

	if ((${#changes[@]} == 0)); then
		log "no changes: $("$BIN" --version)"
		return 0
	fi
	log "changed ${#changes[@]}:"
	local change
	for change in "${changes[@]}"; do
		log "  $change"
	done
	log "ready: $("$BIN" --version); first command: sudo rt-lab start tahap-1"
}

main "$@"
