# Sourced by benchmarks: a private containerd and dockerd in a work directory, torn down on exit.
#   private_docker_work PREFIX          makes $work (short: socket paths must fit in sun_path) and the EXIT trap
#   private_docker_start DAEMON_JSON [PLUGIN_DIR]
#                                       starts containerd and dockerd (gantry's out/ first on dockerd's PATH, so the
#                                       --gpus hook is found; both inherit the caller's environment) and imports
#                                       $work/rootfs as gantry-bench/busybox; with PLUGIN_DIR both run in a mount
#                                       namespace of their own where it is /run/docker/plugins (where dockerd looks
#                                       for volume plugins such as nvidia-docker-plugin), the machine's left alone.
#                                       $ctrd_pid is containerd, $dockerd_pid dockerd (their namespace's mounts:
#                                       /proc/$ctrd_pid/mountinfo)
#   dk ARGS...                          docker against it
private_docker_work() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  trap private_docker_stop EXIT
}
private_docker_stop() {
  [ -f "$work/dockerd.pid" ] && kill "$(cat "$work/dockerd.pid")" 2>/dev/null && sleep 2
  [ -n "${ctrd_pid:-}" ] && kill "$ctrd_pid" 2>/dev/null && sleep 1
  grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
}
private_docker_start() {
  local ns=()
  if [ -n "${2:-}" ]; then
    # unshare and sh exec: $! is containerd itself; nsenter execs dockerd too.
    unshare --mount --propagation slave -- sh -ec 'mkdir -p /run/docker/plugins; mount --bind "$0" /run/docker/plugins; shift; exec "$@"' "$2" - \
      containerd --root "$work/cr" --state "$work/cs" --address "$work/c.sock" >"$work/containerd.log" 2>&1 & ctrd_pid=$!
    ns=(nsenter --target "$ctrd_pid" --mount --)
  else
    containerd --root "$work/cr" --state "$work/cs" --address "$work/c.sock" >"$work/containerd.log" 2>&1 & ctrd_pid=$!
  fi
  for _ in $(seq 100); do [ -S "$work/c.sock" ] && break; sleep 0.1; done
  PATH="$repo/out:$PATH" "${ns[@]}" dockerd --data-root "$work/d" --exec-root "$work/e" --pidfile "$work/dockerd.pid" -H "unix://$work/d.sock" \
    --iptables=false --ip6tables=false --bridge=none --containerd="$work/c.sock" --config-file "$1" >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 300); do [ -S "$work/d.sock" ] && break; sleep 0.1; done
  tar -C "$work/rootfs" -ch . | dk import - gantry-bench/busybox >/dev/null
}
dk() { docker -H "unix://$work/d.sock" "$@"; }
