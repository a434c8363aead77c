#!/usr/bin/env bash
# Installs what is missing for mcusim on a Debian machine (run as root, or with sudo available):
#   - Debian packages: arm-none-eabi-gcc + newlib (to build kernels_c), qemu-system-arm and
#     llvm-16 (llvm-mca) and valgrind (callgrind_annotate) for the reference checks,
#     gdb-multiarch for the --gdb tests, make, and
#     python3-venv where Python lacks venv;
#   - a virtual environment .venv with mcusim installed in editable mode plus its test tools;
#   - the kernels_c programs (make -C kernels_c).
# Running it again only does what is still missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm llvm-16 valgrind make \
        gdb-multiarch; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt+=("$pkg")
done
if ! command -v python3 >/dev/null; then
    need_apt+=(python3 python3-venv)
elif ! python3 -c "import venv, ensurepip" 2>/dev/null; then
    need_apt+=(python3-venv)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing Debian packages: ${need_apt[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${need_apt[@]}" >/dev/null
fi

# Reinstalled (which also compiles the native hot path) only when what the install builds
# from changed since the last time.
stamp=.venv/.mcusim-installed
cat pyproject.toml setup.py sim/accounting/hotpath/*.[ch] isa/native/*.[ch] \
    sim/core/native/*.c > .venv-stamp.tmp
if [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ] || ! cmp -s .venv-stamp.tmp "$stamp"; then
    echo "setup: installing mcusim and its Python dependencies into .venv" >&2
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".[test]"
    mv .venv-stamp.tmp "$stamp"
fi
rm -f .venv-stamp.tmp

make -C kernels_c -j"$(nproc)" -s --no-print-directory
