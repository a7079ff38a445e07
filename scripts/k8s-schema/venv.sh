# shellcheck shell=bash
# The venv holding kubernetes-validate, keyed by requirements.txt (sourced by
# scripts/bootstrap and scripts/k8s-schema/validate after scripts/lib/env.sh).
aiwb_k8s_schema_venv() {
  local sum
  sum=$(sha256sum "$AIWB_ROOT/scripts/k8s-schema/requirements.txt" | cut -c1-12)
  echo "$AIWB_CACHE/venv/k8s-schema-$sum"
}
