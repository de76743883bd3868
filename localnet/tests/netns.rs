//! The network-namespace helpers of `scripts/lib.sh` that `scripts/run-testnet --producers`
//! uses as root: each worker host gets its own link-local address, reachable from the
//! host's bridge (where nodeos listens) and from the other hosts, and cut off from the
//! host's loopback; a set-up over an earlier run's leftovers starts clean; the tear-down
//! leaves nothing. Names and the /24 are this test's own, so a running testnet is never
//! touched. Needs root (CI runs as root); otherwise it says so and checks nothing.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};

/// This run's names: unique per process, so parallel runs on one machine do not collide.
struct Names {
    tag: u32,
}

impl Names {
    fn new() -> Names {
        Names {
            tag: std::process::id() % 1000,
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("BITTENSOR_NET_BRIDGE".into(), format!("btt{}br", self.tag)),
            ("BITTENSOR_NETNS_PREFIX".into(), format!("btt{}-", self.tag)),
            ("BITTENSOR_NET_VETH".into(), format!("btt{}v", self.tag)),
            ("BITTENSOR_NET_PREFIX".into(), self.prefix()),
        ]
    }

    /// `169.254.(100 + tag mod 100)`: never the `169.254.77` of run-testnet.
    fn prefix(&self) -> String {
        format!("169.254.{}", 100 + self.tag % 100)
    }

    fn host(&self) -> String {
        format!("{}.1", self.prefix())
    }

    fn addr(&self, i: u32) -> String {
        format!("{}.{}", self.prefix(), 10 + i)
    }

    fn netns(&self, i: u32) -> String {
        format!("btt{}-{i}", self.tag)
    }
}

/// Runs `script` in bash with `scripts/lib.sh` sourced and this run's names.
fn lib(names: &Names, script: &str) -> Output {
    let root = localnet::repo_root();
    Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -euo pipefail; source scripts/lib.sh; {script}"
        ))
        .current_dir(&root)
        .env("BITTENSOR_ROOT", &root)
        .envs(names.env())
        .stdin(Stdio::null())
        .output()
        .expect("bash runs")
}

fn ok(names: &Names, script: &str) -> String {
    let out = lib(names, script);
    assert!(
        out.status.success(),
        "{script}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn leftovers(names: &Names) -> Vec<String> {
    let mut lines: Vec<String> = ok(names, "bt_netns_leftovers")
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// Whether a TCP connection from inside namespace `ns` to `addr:port` succeeds.
fn connects_from(ns: &str, addr: &str, port: u16) -> bool {
    Command::new("ip")
        .args(["netns", "exec", ns, "bash", "-c"])
        .arg(format!("exec 3<>/dev/tcp/{addr}/{port}"))
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Tears down on drop, so a failed assertion leaves nothing behind either.
struct Guard<'a>(&'a Names);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let _ = lib(self.0, "bt_netns_teardown");
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn namespaces_are_separate_hosts_on_a_link_local_bridge_and_leave_nothing() {
    if !is_root() {
        eprintln!("skipped: network namespaces need root (run-testnet then uses loopback)");
        return;
    }
    let names = Names::new();
    let _guard = Guard(&names);
    ok(&names, "bt_netns_setup 2");
    let expected = {
        let mut e = vec![
            format!("link btt{}br", names.tag),
            format!("link btt{}v0", names.tag),
            format!("link btt{}v1", names.tag),
            format!("netns {}", names.netns(0)),
            format!("netns {}", names.netns(1)),
        ];
        e.sort();
        e
    };
    assert_eq!(leftovers(&names), expected, "what a set-up creates");

    // Host <- namespace 0: the connection arrives from the namespace's own address.
    let bridge = TcpListener::bind((names.host().as_str(), 0)).expect("listen on the bridge");
    let port = bridge.local_addr().expect("addr").port();
    assert!(connects_from(&names.netns(0), &names.host(), port));
    let (_, from) = bridge.accept().expect("accepted");
    assert_eq!(from.ip().to_string(), names.addr(0), "a host of its own");

    // Namespace 1 <- namespace 0, across the bridge.
    let mut server = Command::new("ip")
        .args(["netns", "exec", &names.netns(1), "python3", "-c"])
        .arg(format!(
            "import socket; s = socket.socket(); s.bind(('{}', 0)); s.listen(); \
             print(s.getsockname()[1], flush=True); c, a = s.accept(); print(a[0], flush=True)",
            names.addr(1)
        ))
        .stdout(Stdio::piped())
        .spawn()
        .expect("server in namespace 1");
    let mut out = BufReader::new(server.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("port");
    let port: u16 = line.trim().parse().expect("port number");
    assert!(connects_from(&names.netns(0), &names.addr(1), port));
    let mut rest = String::new();
    out.read_to_string(&mut rest).expect("peer address");
    assert_eq!(rest.trim(), names.addr(0), "namespace to namespace");
    assert!(server.wait().expect("server exits").success());

    // The host's loopback is not a namespace's: a worker reaches the chain only at the bridge.
    let lo = TcpListener::bind("127.0.0.1:0").expect("loopback listener");
    let lo_port = lo.local_addr().expect("addr").port();
    assert!(!connects_from(&names.netns(0), "127.0.0.1", lo_port));

    // A run killed before its tear-down: the next set-up starts clean, not doubled.
    ok(&names, "bt_netns_setup 2");
    assert_eq!(
        leftovers(&names),
        expected,
        "a second set-up over leftovers"
    );
    ok(&names, "bt_netns_teardown");
    assert!(leftovers(&names).is_empty(), "{:?}", leftovers(&names));

    // Only link-local prefixes are accepted (a chain row never holds another address).
    let out = Command::new("bash")
        .arg("-c")
        .arg("source scripts/lib.sh")
        .current_dir(localnet::repo_root())
        .env("BITTENSOR_ROOT", localnet::repo_root())
        .env("BITTENSOR_NET_PREFIX", "10.0.77")
        .output()
        .expect("bash runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be link-local"));
}
