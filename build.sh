#!/usr/bin/env bash
# Builds the NativeAOT gantry binary, the nvidia-docker-plugin daemon and the NVML stand-in into out/, with the
# usual command names as links.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/deps.sh build
dotnet publish src/Gantry -c Release -r linux-x64 -o out --nologo -v quiet -p:TreatWarningsAsErrors=true >.build.log 2>&1 || { cat .build.log; exit 1; }
# The plugin daemon carries ASP.NET Core, so it is an executable of its own; published aside, since publishing
# a project that references gantry would also drop gantry's build files into out/.
dotnet publish src/Gantry.Plugin -c Release -r linux-x64 -o obj/plugin-publish --nologo -v quiet -p:TreatWarningsAsErrors=true >>.build.log 2>&1 || { cat .build.log; exit 1; }
cp -f obj/plugin-publish/nvidia-docker-plugin out/nvidia-docker-plugin
# The Kubernetes device plugin (gRPC) likewise; as gpu-feature-discovery (a link) it labels the node.
dotnet publish src/Gantry.DevicePlugin -c Release -r linux-x64 -o obj/device-plugin-publish --nologo -v quiet -p:TreatWarningsAsErrors=true >>.build.log 2>&1 || { cat .build.log; exit 1; }
cp -f obj/device-plugin-publish/nvidia-device-plugin out/nvidia-device-plugin
ln -sfn nvidia-device-plugin out/gpu-feature-discovery
rm -f out/*.dbg
bash native/build.sh out
for name in nvidia-ctk nvidia-cdi-hook nvidia-container-cli nvidia-container-runtime-hook nvidia-container-toolkit nvidia-docker; do
  ln -sfn gantry "out/$name"
done
# The runtime names start the small launcher: it execs runc itself for commands other than create, gantry otherwise.
for name in nvidia-container-runtime nvidia-container-runtime.cdi nvidia-container-runtime.legacy; do
  ln -sfn gantry-runtime-launcher "out/$name"
done
echo "built: $(pwd)/out/gantry ($(./out/gantry --version | head -1))"
