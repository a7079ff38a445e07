# shellcheck shell=bash
# Shared environment for every project script: where the toolchain lives and how the
# Pulumi engine is told to stay offline. Sourced, never executed.
#
# Everything heavy is cached outside the repo so fresh clones (CI) reuse it.

: "${AIWB_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/ai-workbench}"
AIWB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Pinned toolchain versions. The npm SDK (@pulumi/pulumi in package.json) is pinned to
# the same version as the CLI built here.
AIWB_NODE_VERSION=24.21.0
AIWB_NODE_MIN_MAJOR=24
AIWB_PULUMI_VERSION=3.259.0
AIWB_PG_MAJOR=15

AIWB_BIN="$AIWB_CACHE/bin"
AIWB_NODE_HOME="$AIWB_CACHE/node/$AIWB_NODE_VERSION"
AIWB_PG_BINDIR="${AIWB_PG_BINDIR:-/usr/lib/postgresql/$AIWB_PG_MAJOR/bin}"

export AIWB_CACHE AIWB_ROOT AIWB_BIN

# Python venv holding dbt, keyed by the pinned requirements so a version bump builds a
# fresh venv instead of mutating the old one.
aiwb_venv_dir() {
  local sum
  sum=$(sha256sum "$AIWB_ROOT/dbt/requirements.txt" | cut -c1-12)
  echo "$AIWB_CACHE/venv/dbt-$sum"
}

# Node: the system one when it is new enough, otherwise the cached Node 24.
aiwb_system_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || return 1
  [ "$major" -ge "$AIWB_NODE_MIN_MAJOR" ]
}

aiwb_path() {
  local p="$AIWB_BIN"
  if [ -x "$AIWB_NODE_HOME/bin/node" ]; then p="$AIWB_NODE_HOME/bin:$p"; fi
  p="$p:$(aiwb_venv_dir)/bin:$AIWB_ROOT/node_modules/.bin"
  echo "$p"
}

export PATH="$(aiwb_path):$PATH"

# Pulumi: no update checks, no plugin downloads (there is nowhere to download from),
# state and plugins in the cache.
export PULUMI_HOME="$AIWB_CACHE/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=false
export AIWB_STATE_DIR="$AIWB_CACHE/pulumi-state"
export AIWB_PASSPHRASE_FILE="$AIWB_CACHE/local-stack.passphrase"

# Local PostgreSQL defaults (the Supabase CLI's port convention).
export AIWB_PG_PORT="${AIWB_PG_PORT:-54322}"
export AIWB_PG_BINDIR

aiwb_step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
aiwb_info() { printf '    %s\n' "$*"; }
aiwb_die() {
  printf '\033[31merror:\033[0m %s\n' "$1" >&2
  [ -n "${2:-}" ] && printf '  fix: %s\n' "$2" >&2
  exit 1
}
