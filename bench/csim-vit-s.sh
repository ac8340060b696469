#!/usr/bin/env bash
# The C simulation of the paper's ViT-S on PASCAL-Context (configs/zcu104-vit-s-pascal.json),
# end to end: generate the project (golden vectors from the TypeScript reference at 1025
# tokens) into a temporary folder, compile the kernels and the testbench (g++, the ap_int
# shim), run the testbench (tasks A, B, A, then every other task once) against the golden
# vectors. Prints one line per stage with its wall seconds, and each testbench line with the
# seconds since the previous one (so a "run N" line carries that run's time). The folder is
# removed at exit, pass or fail. Both paper configs fit the ZCU104 by the estimate, so they
# generate without --allow-overfit (a config that does not fit is refused, exit 2).
#
# From the package folder (after `npm run build`; a config argument is relative to the cwd):
#   bash bench/csim-vit-s.sh                                 # or: make csim-vit-s
#   bash bench/csim-vit-s.sh configs/zcu104-vit-s-nyud.json  # another config
set -euo pipefail

CONFIG=$(realpath "${1:-$(dirname "$0")/../configs/zcu104-vit-s-pascal.json}")
cd "$(dirname "$0")/.."

tmp=$(mktemp -d "${TMPDIR:-/tmp}/m3vit-csim-vit-s.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out="$tmp/project"

# The stage's name, then its command; prints "<name>: <wall> s" when it succeeded.
stage() {
  local name=$1 t0=$EPOCHREALTIME
  shift
  "$@"
  echo "$name: $(elapsed "$t0") s"
}

# Seconds since $1 (an $EPOCHREALTIME), one decimal.
elapsed() {
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

# Each line of stdin, prefixed with the seconds since the previous line (or since $1).
stamp() {
  local last=$1 line
  while IFS= read -r line; do
    printf '  [+%6s s] %s\n' "$(elapsed "$last")" "$line"
    last=$EPOCHREALTIME
  done
}

# The csim binary the project's Makefile builds (csim-build/<headers>-<compiler>/csim).
csim_binary() {
  make -s --no-print-directory -C "$out" -f Makefile -f - print-csim-binary <<<'print-csim-binary: ; @echo $(CSIM_DIR)/csim'
}

run_csim() {
  local t0=$EPOCHREALTIME
  # Line-buffered, so that each testbench line is stamped when it is printed.
  stdbuf -oL make --no-print-directory -C "$out" csim | stamp "$t0"
}

echo "config: ${1:-configs/zcu104-vit-s-pascal.json}, machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
stage "generate (m3vit-gen)" node bin/m3vit-gen.js --config "$CONFIG" --out "$out" --quiet
stage "csim compile (make $(csim_binary))" make --no-print-directory -s -C "$out" "$(csim_binary)"
stage "csim run (make csim)" run_csim
