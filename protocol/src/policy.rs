//! Which addresses a node or viewer may dial: a chain row must never steer traffic anywhere.
//!
//! Any account can write any `address` into its `metagraph` row, and every worker and viewer
//! dials what the chain lists. So before dialling, both sides classify the address and ask
//! the configured [`AddressPolicy`]. The default allows public unicast addresses only;
//! loopback, link-local and private ranges must each be enabled by configuration (local
//! testnets do). Link-local (`169.254.0.0/16`, `fe80::/10`) is a class of its own so that a
//! testnet of network namespaces on a bridge with link-local addresses can be allowed
//! without also allowing RFC 1918 and carrier-grade NAT ranges.
//! Host names are refused: resolving them would let DNS, not the policy, pick the target.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::{Deserialize, Serialize};

/// What kind of address an IP is, as far as dialling it is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// Globally routable unicast: what a public network's nodes advertise.
    Public,
    /// `127.0.0.0/8` and `::1`: this host only.
    Loopback,
    /// `169.254.0.0/16` and `fe80::/10`: reachable on one link only (no router forwards it).
    LinkLocal,
    /// RFC 1918, carrier-grade NAT and IPv6 unique local ranges.
    Private,
    /// Never a peer: unspecified, multicast, broadcast, documentation, benchmarking, reserved.
    Forbidden(&'static str),
}

/// Sorts an IP into the class the policy decides on.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_unspecified() || a == 0 {
        AddressClass::Forbidden("unspecified or 'this network' address")
    } else if ip.is_broadcast() {
        AddressClass::Forbidden("broadcast address")
    } else if ip.is_multicast() {
        AddressClass::Forbidden("multicast address")
    } else if ip.is_documentation() {
        AddressClass::Forbidden("documentation address")
    } else if a == 198 && (b & 0xfe) == 18 {
        AddressClass::Forbidden("benchmarking address")
    } else if a >= 240 {
        AddressClass::Forbidden("reserved address")
    } else if a == 192 && b == 0 && c == 0 {
        AddressClass::Forbidden("IETF protocol assignment")
    } else if ip.is_link_local() {
        AddressClass::LinkLocal
    } else if ip.is_private() || (a == 100 && (b & 0xc0) == 64) {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_unspecified() {
        AddressClass::Forbidden("unspecified address")
    } else if ip.is_multicast() {
        AddressClass::Forbidden("multicast address")
    } else if first == 0x2001 && ip.segments()[1] == 0x0db8 {
        AddressClass::Forbidden("documentation address")
    } else if (first & 0xffc0) == 0xfe80 {
        AddressClass::LinkLocal
    } else if (first & 0xfe00) == 0xfc00 {
        AddressClass::Private
    } else if (first & 0xe000) == 0x2000 {
        AddressClass::Public
    } else {
        AddressClass::Forbidden("reserved address")
    }
}

/// Which address classes beyond public unicast may be dialled; the default is public only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressPolicy {
    /// Dial loopback addresses (a testnet on one host).
    #[serde(default)]
    pub allow_loopback: bool,
    /// Dial private-range addresses (a testnet on a private network).
    #[serde(default)]
    pub allow_private: bool,
    /// Dial link-local addresses (a testnet of network namespaces on one host's bridge).
    #[serde(default)]
    pub allow_link_local: bool,
}

/// Why an address was not dialled; shown to the operator as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The host is not an IP literal.
    NotAnIp(String),
    /// Port 0 cannot be dialled.
    ZeroPort,
    /// Loopback while the policy does not allow it.
    Loopback(IpAddr),
    /// Private range while the policy does not allow it.
    Private(IpAddr),
    /// Link-local while the policy does not allow it.
    LinkLocal(IpAddr),
    /// An address no peer can have.
    Forbidden(IpAddr, &'static str),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotAnIp(host) => {
                write!(
                    f,
                    "address {host:?} is not an IP literal (host names are not dialled)"
                )
            }
            Refusal::ZeroPort => write!(f, "port 0 cannot be dialled"),
            Refusal::Loopback(ip) => write!(
                f,
                "{ip} is a loopback address and the policy does not allow loopback (allow_loopback)"
            ),
            Refusal::Private(ip) => write!(
                f,
                "{ip} is a private-range address and the policy does not allow them (allow_private)"
            ),
            Refusal::LinkLocal(ip) => write!(
                f,
                "{ip} is a link-local address and the policy does not allow them (allow_link_local)"
            ),
            Refusal::Forbidden(ip, why) => write!(f, "{ip} is a {why}, never a peer"),
        }
    }
}

impl std::error::Error for Refusal {}

impl AddressPolicy {
    /// Public unicast only: what a node on a public network should use.
    pub const PUBLIC_ONLY: AddressPolicy = AddressPolicy {
        allow_loopback: false,
        allow_private: false,
        allow_link_local: false,
    };
    /// Loopback, link-local and private ranges too: for local testnets and test namespaces.
    pub const LOCAL_TESTNET: AddressPolicy = AddressPolicy {
        allow_loopback: true,
        allow_private: true,
        allow_link_local: true,
    };

    /// Whether `addr` may be dialled, and why not.
    pub fn check(&self, addr: SocketAddr) -> Result<(), Refusal> {
        if addr.port() == 0 {
            return Err(Refusal::ZeroPort);
        }
        let ip = addr.ip();
        match classify(ip) {
            AddressClass::Public => Ok(()),
            AddressClass::Loopback if self.allow_loopback => Ok(()),
            AddressClass::Loopback => Err(Refusal::Loopback(ip)),
            AddressClass::LinkLocal if self.allow_link_local => Ok(()),
            AddressClass::LinkLocal => Err(Refusal::LinkLocal(ip)),
            AddressClass::Private if self.allow_private => Ok(()),
            AddressClass::Private => Err(Refusal::Private(ip)),
            AddressClass::Forbidden(why) => Err(Refusal::Forbidden(ip, why)),
        }
    }

    /// Parses a chain row's `address` and `port` and checks them: the one gate before a dial.
    pub fn resolve(&self, host: &str, port: u16) -> Result<SocketAddr, Refusal> {
        let trimmed = host.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = trimmed
            .parse()
            .map_err(|_| Refusal::NotAnIp(host.to_string()))?;
        let addr = SocketAddr::new(ip, port);
        self.check(addr)?;
        Ok(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> AddressClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn classes_of_well_known_ranges() {
        assert_eq!(class("8.8.8.8"), AddressClass::Public);
        assert_eq!(class("2606:4700::1111"), AddressClass::Public);
        for s in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(class(s), AddressClass::Loopback, "{s}");
        }
        for s in [
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "100.64.0.1",
            "fd00::1",
            "::ffff:10.1.2.3",
        ] {
            assert_eq!(class(s), AddressClass::Private, "{s}");
        }
        for s in [
            "169.254.1.1",
            "169.254.77.10",
            "fe80::1",
            "::ffff:169.254.0.1",
        ] {
            assert_eq!(class(s), AddressClass::LinkLocal, "{s}");
        }
        assert_eq!(class("169.253.255.255"), AddressClass::Public);
        assert_eq!(class("169.255.0.1"), AddressClass::Public);
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(matches!(class(s), AddressClass::Forbidden(_)), "{s}");
        }
        assert_eq!(class("172.32.0.1"), AddressClass::Public);
        assert_eq!(class("100.128.0.1"), AddressClass::Public);
    }

    #[test]
    fn default_policy_refuses_loopback_and_private() {
        let p = AddressPolicy::default();
        assert_eq!(p, AddressPolicy::PUBLIC_ONLY);
        assert!(matches!(
            p.resolve("127.0.0.1", 7001),
            Err(Refusal::Loopback(_))
        ));
        assert!(matches!(
            p.resolve("192.168.0.10", 7001),
            Err(Refusal::Private(_))
        ));
        assert!(p.resolve("8.8.8.8", 7001).is_ok());
    }

    #[test]
    fn testnet_policy_allows_local_but_never_forbidden() {
        let p = AddressPolicy::LOCAL_TESTNET;
        assert!(p.resolve("127.0.0.1", 7001).is_ok());
        assert!(p.resolve("[::1]", 7001).is_ok());
        assert!(p.resolve("10.1.2.3", 7001).is_ok());
        assert!(matches!(
            p.resolve("0.0.0.0", 7001),
            Err(Refusal::Forbidden(..))
        ));
        assert!(matches!(
            p.resolve("224.0.0.1", 7001),
            Err(Refusal::Forbidden(..))
        ));
        assert_eq!(p.resolve("127.0.0.1", 0), Err(Refusal::ZeroPort));
    }

    #[test]
    fn link_local_needs_its_own_switch() {
        assert!(matches!(
            AddressPolicy::default().resolve("169.254.77.10", 7001),
            Err(Refusal::LinkLocal(_))
        ));
        // Allowing private ranges (or loopback) does not open link-local, and the other way round.
        let private = AddressPolicy {
            allow_loopback: true,
            allow_private: true,
            allow_link_local: false,
        };
        let msg = private
            .resolve("169.254.77.10", 7001)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("allow_link_local"), "{msg}");
        let link = AddressPolicy {
            allow_link_local: true,
            ..AddressPolicy::default()
        };
        assert!(link.resolve("169.254.77.10", 7001).is_ok());
        assert!(link.resolve("[fe80::1]", 7001).is_ok());
        assert!(matches!(
            link.resolve("10.0.0.1", 7001),
            Err(Refusal::Private(_))
        ));
        assert!(matches!(
            link.resolve("100.64.0.1", 7001),
            Err(Refusal::Private(_))
        ));
        assert!(matches!(
            link.resolve("127.0.0.1", 7001),
            Err(Refusal::Loopback(_))
        ));
        assert!(link.resolve("8.8.8.8", 7001).is_ok());
        assert_eq!(link.resolve("169.254.77.10", 0), Err(Refusal::ZeroPort));
        let parsed: AddressPolicy = serde_json::from_str(r#"{"allow_link_local":true}"#).unwrap();
        assert_eq!(parsed, link);
    }

    #[test]
    fn host_names_and_garbage_are_refused() {
        let p = AddressPolicy::LOCAL_TESTNET;
        for host in ["localhost", "example.com", "", "127.0.0.1:7001", "1.2.3"] {
            assert!(
                matches!(p.resolve(host, 7001), Err(Refusal::NotAnIp(_))),
                "{host}"
            );
        }
    }

    #[test]
    fn refusals_explain_the_setting() {
        let msg = AddressPolicy::default()
            .resolve("127.0.0.1", 1)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("allow_loopback"), "{msg}");
    }

    #[test]
    fn config_parses_strictly() {
        let p: AddressPolicy = serde_json::from_str(r#"{"allow_loopback":true}"#).unwrap();
        assert!(p.allow_loopback && !p.allow_private && !p.allow_link_local);
        assert!(serde_json::from_str::<AddressPolicy>(r#"{"allow_all":true}"#).is_err());
    }
}
