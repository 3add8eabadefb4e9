#!/usr/bin/env bash
# EdgeRuntime's one entry point: installs what a fresh Debian/Ubuntu machine lacks, then builds,
# runs, tests, benchmarks or publishes. Every step says what it is doing; every install is idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

SOLUTION="EdgeRuntime.sln"
CONFIGURATION="${CONFIGURATION:-Release}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say() { printf '\033[1;34m[build.sh]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[build.sh] error:\033[0m %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<'EOF'
Usage: ./build.sh COMMAND [ARGS]

  run [ARGS]          run the inspection service on the embedded default (bundled sample model,
                      replayed sample images, embedded MQTT broker); ARGS go to `edge-runtime run`
  test                build everything and run every test suite
  bench [--json FILE] run the benchmarks (Release build)
  publish [RID]       publish the service and tools for RID (default linux-arm64) under artifacts/publish/RID
  tool NAME [ARGS]    run one of the project's programs from a Release build:
                      edge-runtime, edge-models, edgectl
  deps [GROUP...]     install what is missing (groups: runtime, test, training)
EOF
}

# ---------------------------------------------------------------------------------------------
# Dependencies
# ---------------------------------------------------------------------------------------------
APT_UPDATED=0
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_apt_packages() {
  local missing=()
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them"
  say "installing Debian packages: ${missing[*]}"
  if [ "$APT_UPDATED" -eq 0 ]; then
    sudo_if_needed apt-get update -q >/dev/null
    APT_UPDATED=1
  fi
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null; then
    die "the .NET 10 SDK is needed (https://learn.microsoft.com/dotnet/core/install/linux-debian); install it and run again"
  fi
  if ! dotnet --list-sdks | grep -q '^10\.'; then
    die "the .NET 10 SDK is needed; found: $(dotnet --list-sdks | tr '\n' ' ')"
  fi
}

# What each kind of work needs from the OS. libgtk-3-0 carries the shared libraries that OpenCvSharp's
# native build links against; mosquitto is the real broker the messaging tests start; python3-jsonschema is the
# reference JSON Schema validator the payload schema tests run (any python3 on the PATH that has it will do).
deps_runtime() { ensure_dotnet; ensure_apt_packages libgtk-3-0 libgomp1; }
deps_test() { deps_runtime; ensure_apt_packages mosquitto mosquitto-clients openssl; ensure_jsonschema; }
ensure_jsonschema() {
  python3 -c 'import jsonschema' 2>/dev/null || /usr/bin/python3 -c 'import jsonschema' 2>/dev/null || ensure_apt_packages python3-jsonschema
}
deps_training() { ensure_apt_packages python3-torch python3-onnx python3-numpy python3-pil; }

# ---------------------------------------------------------------------------------------------
# Build helpers
# ---------------------------------------------------------------------------------------------
project_of_tool() {
  case "$1" in
    edge-runtime) echo "runtime/EdgeRuntime.Host/EdgeRuntime.Host.csproj" ;;
    edge-models) echo "models/tools/EdgeModels.Cli/EdgeModels.Cli.csproj" ;;
    edgectl) echo "runtime/EdgeRuntime.Fleet.Cli/EdgeRuntime.Fleet.Cli.csproj" ;;
    *) die "unknown tool '$1' (known: edge-runtime, edge-models, edgectl)" ;;
  esac
}

build_project() {
  local project="$1"
  [ -f "$project" ] || die "$(basename "$project" .csproj) is not part of this checkout yet ($project)"
  say "building $(basename "$project" .csproj) ($CONFIGURATION)"
  local log; log="$(mktemp)"
  if ! dotnet build "$project" -c "$CONFIGURATION" -nologo -v quiet > "$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    die "the build of $(basename "$project" .csproj) failed"
  fi
  rm -f "$log"
}

run_tool() {
  local name="$1"; shift
  local project; project="$(project_of_tool "$name")"
  build_project "$project"
  dotnet run --project "$project" -c "$CONFIGURATION" --no-build -- "$@"
}

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------
cmd_run() {
  deps_runtime
  say "starting edge-runtime on the embedded default (Ctrl-C stops it cleanly)"
  run_tool edge-runtime run "$@"
}

cmd_test() {
  deps_test
  say "restoring and building $SOLUTION ($CONFIGURATION)"
  dotnet build "$SOLUTION" -c "$CONFIGURATION" -nologo -v quiet -clp:NoSummary
  local log; log="$(mktemp)"
  say "running the test suites"
  set +e
  # The console logger at "minimal" prints each failed test's message and stack (quiet alone names the test only).
  dotnet test "$SOLUTION" -c "$CONFIGURATION" --no-build -nologo -v quiet --logger "console;verbosity=minimal" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  # One closing line for the whole run, summed over the test assemblies.
  awk '
    /(Passed|Failed)!  *- *Failed: / {
      gsub(/,/, ""); for (i = 1; i <= NF; i++) {
        if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
      }
    }
    END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
  rm -f "$log"
  return "$rc"
}

cmd_bench() {
  deps_test
  local project="tests/EdgeRuntime.Benchmarks/EdgeRuntime.Benchmarks.csproj"
  build_project "$project"
  dotnet run --project "$project" -c "$CONFIGURATION" --no-build -- "$@"
}

cmd_publish() {
  ensure_dotnet
  local rid="${1:-linux-arm64}"
  local out="artifacts/publish/$rid"
  say "publishing edge-runtime and edge-models for $rid to $out"
  # RuntimeIdentifier as a property (not -r) keeps the lock files' RuntimeIdentifiers, so a locked restore works.
  dotnet publish runtime/EdgeRuntime.Host/EdgeRuntime.Host.csproj -c Release -p:RuntimeIdentifier="$rid" --self-contained true \
    -o "$out/edge-runtime" -nologo -v quiet
  dotnet publish models/tools/EdgeModels.Cli/EdgeModels.Cli.csproj -c Release -p:RuntimeIdentifier="$rid" --self-contained true \
    -o "$out/edge-models" -nologo -v quiet
  say "published to $out"
}

cmd_deps() {
  [ $# -eq 0 ] && set -- runtime test
  for group in "$@"; do
    case "$group" in
      runtime) deps_runtime ;;
      test) deps_test ;;
      training) deps_training ;;
      *) die "unknown dependency group '$group' (runtime, test, training)" ;;
    esac
  done
  say "dependencies are in place"
}

main() {
  local command="${1:-}"
  [ -n "$command" ] || { usage; exit 2; }
  shift
  case "$command" in
    run) cmd_run "$@" ;;
    test) cmd_test "$@" ;;
    bench) cmd_bench "$@" ;;
    publish) cmd_publish "$@" ;;
    tool) [ $# -ge 1 ] || die "tool needs a NAME (edge-runtime, edge-models, edgectl)"; deps_runtime; run_tool "$@" ;;
    deps) cmd_deps "$@" ;;
    -h|--help|help) usage ;;
    *) usage; die "unknown command '$command'" ;;
  esac
}

main "$@"
