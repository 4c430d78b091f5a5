#!/usr/bin/env bash
# Installs a gantry .deb into a clean Debian root and checks it the way a user meets it: dpkg -i (the postinst
# says what to run next), every command name, `nvidia-ctk --version`, `nvidia-ctk runtime configure` on a
# daemon.json there, `gantry doctor --fix` against a simulated host (no problem left), then dpkg --purge and
# nothing left behind but dpkg's own records.
# The clean root is a minbase debootstrap of Debian 12 (plus libssl3, which the package depends on) kept in $GANTRY_DEBIAN_ROOT (default
# /var/cache/gantry/bookworm-minbase), made once from $GANTRY_DEBIAN_MIRROR (default deb.debian.org); each run
# works on an overlay of it in a private mount namespace, so the cache is never changed.
# Usage: packaging/test-deb.sh DEB      exit 0: passed; 77: cannot run here (the reason on stderr); else failed.
set -euo pipefail
deb=$(realpath "${1:?usage: test-deb.sh DEB}")
cache=${GANTRY_DEBIAN_ROOT:-/var/cache/gantry/bookworm-minbase}
mirror=${GANTRY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
skip() { echo "test-deb: cannot run: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (chroot, mounts)"
command -v unshare >/dev/null || skip "unshare is missing (util-linux)"
if [ ! -x "$cache/usr/bin/dpkg" ] || [ ! -e "$cache/usr/lib/x86_64-linux-gnu/libssl.so.3" ]; then
  command -v debootstrap >/dev/null || skip "no cached Debian root in $cache and debootstrap is missing (apt-get install debootstrap)"
  echo "test-deb: making the clean Debian root $cache (once) from $mirror" >&2
  rm -rf "$cache.tmp" "$cache"; mkdir -p "$(dirname "$cache")"
  debootstrap --variant=minbase --include=libssl3 bookworm "$cache.tmp" "$mirror" >"$cache.log" 2>&1 || { tail -5 "$cache.log" >&2; skip "debootstrap failed (see $cache.log)"; }
  rm -rf "$cache.tmp/var/cache/apt/archives/"*.deb
  mv "$cache.tmp" "$cache"
fi
work=$(mktemp -d /tmp/gantry-deb-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/upper" "$work/work" "$work/root"
cp "$deb" "$work/gantry.deb"

# In the root: install, use, purge. Each step says what it checks; the first failure stops the test.
cat > "$work/inside.sh" <<'SH'
set -eu
step() { echo "--- $*"; }
fail() { echo "FAILED: $*"; exit 1; }
step "dpkg -i"
dpkg -i /tmp/gantry.deb > /tmp/install.log 2>&1 || { cat /tmp/install.log; fail "dpkg -i"; }
grep -q "nvidia-ctk runtime configure --runtime=docker" /tmp/install.log || fail "postinst does not say what to run next"
for name in gantry nvidia-ctk nvidia-cdi-hook nvidia-container-cli nvidia-container-runtime nvidia-container-runtime.cdi \
            nvidia-container-runtime.legacy nvidia-container-runtime-hook nvidia-container-toolkit nvidia-docker nvidia-docker-plugin; do
  [ -x "/usr/bin/$name" ] || fail "/usr/bin/$name is missing"
done
dpkg-query -W -f='${Conffiles}\n' gantry | grep -q /etc/nvidia-container-runtime/config.toml || fail "config.toml is not a conffile"
step "nvidia-ctk --version"
nvidia-ctk --version | grep -q "version" || fail "nvidia-ctk --version"
nvidia-container-cli --version >/dev/null || fail "nvidia-container-cli --version"
step "nvidia-ctk runtime configure --runtime=docker"
mkdir -p /etc/docker && echo '{"log-level": "warn"}' > /etc/docker/daemon.json
nvidia-ctk runtime configure --runtime=docker
grep -q '"path": "nvidia-container-runtime"' /etc/docker/daemon.json || fail "daemon.json has no runtime: $(cat /etc/docker/daemon.json)"
grep -q '"log-level": "warn"' /etc/docker/daemon.json || fail "daemon.json lost its content"
step "gantry doctor against a simulated host"
gantry simulate /tmp/sim --gpus 1 > /dev/null
gantry doctor --driver-root=/tmp/sim --fix > /tmp/doctor.txt || { cat /tmp/doctor.txt; fail "gantry doctor found problems"; }
cat /tmp/doctor.txt
grep -q "^ok *docker-runtime" /tmp/doctor.txt || fail "doctor does not see the runtime"
grep -q "^ok *docker-hook" /tmp/doctor.txt || fail "doctor does not see the hook"
rm -rf /etc/docker /tmp/sim /tmp/install.log /tmp/doctor.txt
step "dpkg --purge"
dpkg --purge gantry > /dev/null
for p in /usr/lib/gantry /usr/bin/nvidia-ctk /usr/bin/nvidia-container-runtime /etc/nvidia-container-runtime /lib/systemd/system/nvidia-docker-plugin.service; do
  [ ! -e "$p" ] && [ ! -L "$p" ] || fail "$p is left after purge"
done
SH
unshare --mount --propagation private bash -euc '
  work=$1 cache=$2
  mount -t overlay overlay -o "lowerdir=$cache,upperdir=$work/upper,workdir=$work/work" "$work/root"
  mount -t proc proc "$work/root/proc"
  cp "$work/gantry.deb" "$work/inside.sh" "$work/root/tmp/"
  chroot "$work/root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /bin/sh /tmp/inside.sh
  rm -f "$work/root/tmp/gantry.deb" "$work/root/tmp/inside.sh"
' _ "$work" "$cache"

# What the whole run left in the root, beyond dpkg's records: the overlay's upper layer holds every change.
left=$(cd "$work/upper" && find . -mindepth 1 | sed 's|^\./||' | while read -r p; do
  if [ -d "$work/upper/$p" ] && [ ! -L "$work/upper/$p" ] && [ -d "$cache/$p" ]; then continue; fi
  case "$p" in var/lib/dpkg/*|var/log/*|var/cache/debconf/*|etc/ld.so.cache) continue ;; esac
  echo "$p"
done)
[ -z "$left" ] || { echo "FAILED: left behind after purge:"; echo "$left"; exit 1; }
echo "--- nothing left but dpkg's records"
echo "PASSED"
