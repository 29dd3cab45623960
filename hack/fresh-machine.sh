#!/usr/bin/env bash
# Runs the README's two commands on a minimal Debian where nothing was
# installed by hand, to prove that the Makefile installs everything labnet
# and its tests need. As root:
#
#   hack/fresh-machine.sh            # make demo, make demo-destroy, make test as root,
#                                    # then sudo make demo / demo-destroy as a user with sudo
#   hack/fresh-machine.sh demo       # only the demo steps (a few minutes)
#
# It builds a Debian (debootstrap --variant=minbase) in a scratch directory,
# gives it its own /proc, /sys, /dev and /run, clones the repository's
# committed HEAD into it (as CI clones main), installs make (the one thing
# the README asks a minimal system to have), and runs the commands with the
# tree as the root of a mount namespace of its own (as a container is): the
# kernel's network namespaces work there as on a machine. Every
# mount and process it made is removed on exit, failure and Ctrl-C included.
set -euo pipefail
what=${1:-all}
case $what in all | demo) ;; *) echo "usage: $0 [all|demo]" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "$0: run as root" >&2; exit 1; }
suite=${SUITE:-bookworm}
mirror=${MIRROR:-http://deb.debian.org/debian}
repo=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)

if ! command -v debootstrap >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

root=$(mktemp -d /var/tmp/labnet-fresh.XXXXXX)
chmod 755 "$root" # the chroot's / (mktemp makes it 0700: a user could open nothing)
holder=''
cleanup() {
	set +e
	# Processes the run left inside the tree (a failed test's sshd, say):
	# those whose root is the tree's root, in whatever mount namespace.
	local want
	want=$(stat -c %d:%i "$root")
	for p in /proc/[0-9]*; do
		[ "$(stat -L -c %d:%i "$p/root/" 2>/dev/null)" = "$want" ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	[ -n "$holder" ] && kill -9 "$holder" 2>/dev/null
	sleep 0.2
	# Deepest mounts first (netns mounts under /run, devpts under /dev, ...).
	grep -o " $root[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf --one-file-system "$root"
	echo "fresh-machine: removed $root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { echo; echo "=== fresh-machine: $* ($(($(date +%s) - start)) s)"; }

step "debootstrap --variant=minbase $suite"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log"; exit 1; }
rm -f "$root.log"

# Its own /proc, /sys, /dev and /run. The tree is a private mount, so what
# the tests mount inside (netns files, tmpfs) never propagates out.
mount --bind "$root" "$root"
mount --make-rprivate "$root"
mount -t tmpfs none "$root/run"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
# What a booted machine (or a container runtime) has and debootstrap does
# not make: the cgroup hierarchies as this machine's init mounted them (v2,
# or v1 controllers beside a v2 one: runc and the containers' limits need
# them, and a fresh cgroup2 here would lack the controllers v1 holds) and
# an /etc/hosts.
mount --rbind /sys/fs/cgroup "$root/sys/fs/cgroup"
[ -e "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n' >"$root/etc/hosts"
mount -t tmpfs -o mode=755 none "$root/dev"
for d in null zero full random urandom tty; do
	touch "$root/dev/$d" && mount --bind "/dev/$d" "$root/dev/$d"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs none "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
# The machine's name servers and trusted CAs: where the network reaches the
# registries through a TLS proxy, its CA is in the machine's bundle, and a
# new Debian trusts it only so (ca-certificates, once installed, adds what
# is in /usr/local/share/ca-certificates to its bundle).
cp /etc/resolv.conf "$root/etc/resolv.conf"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	mkdir -p "$root/usr/local/share/ca-certificates"
	cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/ca-certificates/machine-bundle.crt"
fi

# The committed HEAD, as CI clones it (nothing uncommitted, nothing ignored).
git clone -q --no-local "$repo" "$root/root/labnet"

# The tree is the root of a mount namespace of its own (pivot_root), not a
# chroot: a namespace entered with nsenter starts at its mount tree's root,
# so under a chroot a container's view would be the machine's filesystem.
# One holder process keeps that namespace for every step.
unshare --mount --propagation private --fork -- sh -c \
	'cd "$1" && mkdir -p .oldroot && pivot_root . .oldroot && umount -l /.oldroot && rmdir /.oldroot && exec sleep infinity' \
	fresh "$root" &
holder=$!
for i in $(seq 100); do
	[ "$(stat -L -c %d:%i "/proc/$holder/root/" 2>/dev/null)" = "$(stat -c %d:%i "$root")" ] && [ ! -e "/proc/$holder/root/.oldroot" ] && break
	sleep 0.05
done
in_tree() { # nsenter into the tree's namespace, at its root
	nsenter -t "$holder" -m -r -w -- "$@"
}
in_chroot() { # as root, with a login-like environment and nothing of ours
	in_tree env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		TERM=dumb LANG=C.UTF-8 bash -euo pipefail -c "cd / && $1"
}

step "apt-get install make (the README's prerequisite on a minimal system)"
in_chroot 'DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends make >/dev/null'

step "as root: make demo"
in_chroot 'cd /root/labnet && make demo' | tee "$root/demo.out"
grep -qE '^[0-9]+ passed, 0 failed' "$root/demo.out" || { echo "fresh-machine: make demo printed no '0 failed' line" >&2; exit 1; }
in_chroot 'cd /root/labnet && make demo-destroy'

if [ "$what" = all ]; then
	step "as root: make test"
	in_chroot 'cd /root/labnet && make test'
fi

step "as a user with sudo: sudo make demo"
in_chroot 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sudo >/dev/null
	useradd -m labuser && echo "labuser ALL=(ALL) NOPASSWD: ALL" >/etc/sudoers.d/labuser
	git_dir=/home/labuser/labnet && cp -a /root/labnet "$git_dir" && rm -rf "$git_dir/bin" && chown -R labuser: "$git_dir"'
in_tree env -i HOME=/home/labuser PATH=/usr/local/bin:/usr/bin:/bin TERM=dumb LANG=C.UTF-8 \
	setpriv --reuid=labuser --regid=labuser --init-groups bash -euo pipefail -c \
	'cd ~/labnet && sudo make demo && sudo make demo-destroy' | tee "$root/demo-sudo.out"
grep -qE '^[0-9]+ passed, 0 failed' "$root/demo-sudo.out" || { echo "fresh-machine: sudo make demo printed no '0 failed' line" >&2; exit 1; }

step "passed"
