#!/bin/sh
# Temporary: spte-inspect ($SPTE_INSPECT_BIN) with --system-map
# "$SPTE_SYSTEM_MAP", for fixtures of kernels before 6.0 whose kallsyms
# VMCOREINFO does not locate, until kallsyms are found in the kernel image
# itself (kernel-7x's branch).  tests/meson.build uses it only for a fixture
# directory that holds a System.map; delete both once that lands.
exec "$SPTE_INSPECT_BIN" --system-map "$SPTE_SYSTEM_MAP" "$@"
