#!/bin/sh
# Builds the NVML stand-in (see native/nvml-standin/nvml.c) into OUTDIR/gantry-nvml-standin.so.
# Its SONAME is libnvidia-ml.so.1 so it can be installed in a simulated driver root under the real names.
# Also the static OUTDIR/gantry-sandbox-exec (native/sandbox-exec) that the update-ldcache hook starts ldconfig through.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
here=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-gcc}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "$cc not found; installing gcc with apt-get" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq gcc libc6-dev >/dev/null
fi
mkdir -p "$out"
tmp="$out/.gantry-nvml-standin.so.$$"
trap 'rm -f "$tmp"' EXIT
"$cc" -shared -fPIC -O2 -Wall -Wextra -Wl,-soname,libnvidia-ml.so.1 \
    -o "$tmp" "$here/nvml-standin/nvml.c"
# Rename into place so a concurrent reader never sees half a library.
mv -f "$tmp" "$out/gantry-nvml-standin.so"
# What nvidia-container-runtime* are: the fast path for commands other than create, else the gantry beside it.
# Static: no dynamic loader and libc to map on every runtime call (~1.5 ms per call on the VMs measured).
"$cc" -static -O2 -Wall -Wextra -Werror -o "$out/.gantry-runtime-launcher.$$" "$here/runtime-launcher/launcher.c"
mv -f "$out/.gantry-runtime-launcher.$$" "$out/gantry-runtime-launcher"
# The static hook the shim writes into specs when it serves the hook's work itself (see its source).
"$cc" -static -O2 -Wall -Wextra -Werror -o "$out/.gantry-hook-client.$$" "$here/hook-client/hook-client.c"
mv -f "$out/.gantry-hook-client.$$" "$out/gantry-hook-client"
# The static helper update-ldcache starts ldconfig through (limits, no_new_privs, seccomp; see its source).
"$cc" -static -O2 -Wall -Wextra -Werror -o "$out/.gantry-sandbox-exec.$$" "$here/sandbox-exec/sandbox-exec.c"
mv -f "$out/.gantry-sandbox-exec.$$" "$out/gantry-sandbox-exec"
