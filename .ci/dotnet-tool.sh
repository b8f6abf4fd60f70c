#!/usr/bin/env bash
# CI for the .NET packages: `dotnet pack` of the engine (GenMetrics.Engine, with README, licence, XML docs and
# a symbols package) and of the CLI as a .NET tool (GenMetrics.Cli, command genmetrics) into a local folder
# feed; installs the tool from that feed alone into a temporary tool path and runs `genmetrics demo` with it.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

feed=$(mktemp -d)
tools=$(mktemp -d)
trap 'rm -rf "$feed" "$tools"' EXIT
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)

start=$SECONDS
dotnet pack src/Engine -c Release -o "$feed" -v:q -nologo
dotnet pack src/Cli -c Release -o "$feed" -v:q -nologo
echo "packed in $((SECONDS - start)) s:"
ls -l "$feed"

engine="$feed/GenMetrics.Engine.$version.nupkg"
[ -f "$engine" ] && [ -f "$feed/GenMetrics.Engine.$version.snupkg" ] || { echo "FAIL: GenMetrics.Engine $version .nupkg/.snupkg missing"; exit 1; }
contents=$(unzip -l "$engine")
for f in README.md LICENSE lib/net10.0/GenMetrics.Engine.dll lib/net10.0/GenMetrics.Engine.xml; do
  grep -q " $f\$" <<<"$contents" || { echo "FAIL: $engine lacks $f"; exit 1; }
done

# Only the local feed: the tool package carries its dependencies.
cat >"$feed/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
  </packageSources>
</configuration>
CONFIG
dotnet tool install GenMetrics.Cli --version "$version" --tool-path "$tools" --configfile "$feed/nuget.config"
"$tools/genmetrics" demo
