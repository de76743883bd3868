//! Sessions to upstream peers, one per (address, account), opened on first use and kept:
//! the handshake's signatures are paid once per connection, not per request. A call that
//! fails or is cancelled drops its session (its state is unknown); the next call opens a
//! new one. Each session has an epoch, so a request can insist on the session of an earlier
//! forward.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpSocket, TcpStream};

use super::handshake::initiate;
use super::message::{Answer, Kind, Request};
use super::record::{Channel, WireBytes};
use super::SessionError;
use crate::peer::identity::Identity;
use crate::peer::keys::KeyCache;
use crate::sync::lock;

/// Most sessions kept open (one per upstream peer is the normal use).
const MAX_SESSIONS: usize = 256;

/// A request as sent: the session it went on and its id there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Which session (a new one gets a new epoch).
    pub epoch: u64,
    /// The request's id in it.
    pub id: u32,
}

struct Live {
    channel: Channel<TcpStream>,
    epoch: u64,
    next_id: u32,
}

type Slot = Arc<tokio::sync::Mutex<Option<Live>>>;

/// The sessions this node holds to others.
pub struct Sessions {
    identity: Arc<Identity>,
    keys: Arc<KeyCache>,
    max_message: usize,
    source: Option<IpAddr>,
    bytes: Arc<WireBytes>,
    epochs: AtomicU64,
    handshakes: AtomicU64,
    pool: Mutex<HashMap<(String, String), Slot>>,
}

impl Sessions {
    /// Sessions as `identity`, checking servers' keys through `keys`.
    pub fn new(identity: Arc<Identity>, keys: Arc<KeyCache>, max_message: usize) -> Self {
        Sessions {
            identity,
            keys,
            max_message,
            source: None,
            bytes: Arc::default(),
            epochs: AtomicU64::new(1),
            handshakes: AtomicU64::new(0),
            pool: Mutex::new(HashMap::new()),
        }
    }

    /// The same, dialling from the local address `ip` (a test or bench on several loopback
    /// addresses).
    pub fn from_address(mut self, ip: IpAddr) -> Self {
        self.source = Some(ip);
        self
    }

    /// Bytes sent and received on all sessions.
    pub fn bytes(&self) -> &Arc<WireBytes> {
        &self.bytes
    }

    /// Handshakes completed.
    pub fn handshakes(&self) -> u64 {
        self.handshakes.load(Ordering::Relaxed)
    }

    /// This node.
    pub fn identity(&self) -> &Arc<Identity> {
        &self.identity
    }

    fn slot(&self, addr: &str, account: &str) -> Slot {
        let mut pool = lock(&self.pool);
        let key = (addr.to_string(), account.to_string());
        if !pool.contains_key(&key) && pool.len() >= MAX_SESSIONS {
            let idle = pool
                .iter()
                .find(|(_, s)| Arc::strong_count(s) == 1)
                .map(|(k, _)| k.clone());
            if let Some(k) = idle {
                pool.remove(&k);
            }
        }
        pool.entry(key).or_default().clone()
    }

    /// Opens a new session to `account` at `addr`.
    pub async fn open(
        &self,
        addr: &str,
        account: &str,
    ) -> Result<Channel<TcpStream>, SessionError> {
        let target: SocketAddr = tokio::net::lookup_host(addr)
            .await?
            .next()
            .ok_or_else(|| SessionError::Protocol(format!("{addr} resolves to nothing")))?;
        let stream = match self.source {
            Some(ip) => {
                let socket = if target.is_ipv4() {
                    TcpSocket::new_v4()?
                } else {
                    TcpSocket::new_v6()?
                };
                socket.bind(SocketAddr::new(ip, 0))?;
                socket.connect(target).await?
            }
            None => TcpStream::connect(target).await?,
        };
        let _ = stream.set_nodelay(true);
        let channel = initiate(
            stream,
            &self.identity,
            account,
            &self.keys,
            self.max_message,
            self.bytes.clone(),
        )
        .await?;
        self.handshakes.fetch_add(1, Ordering::Relaxed);
        Ok(channel)
    }

    /// Sends a `kind` request with `body` to `account` at `addr` and waits for its answer;
    /// with `epoch`, only on that session (a request that refers to an earlier one).
    pub async fn call(
        &self,
        addr: &str,
        account: &str,
        kind: Kind,
        body: Vec<u8>,
        epoch: Option<u64>,
    ) -> Result<(Answer, Sent), SessionError> {
        let slot = self.slot(addr, account);
        let mut guard = slot.lock().await;
        // Taken out while in use: a failed or cancelled call leaves no half-used session.
        let mut live = match guard.take() {
            Some(l) if epoch.is_none_or(|e| e == l.epoch) => l,
            _ if epoch.is_some() => {
                return Err(SessionError::Protocol(
                    "the session of the forward is closed".into(),
                ))
            }
            _ => Live {
                channel: self.open(addr, account).await?,
                epoch: self.epochs.fetch_add(1, Ordering::Relaxed),
                next_id: 0,
            },
        };
        let id = live.next_id;
        live.next_id = live.next_id.wrapping_add(1);
        let req = Request { kind, id, body };
        live.channel.send(&req.encode()).await?;
        let answer = Answer::decode(live.channel.recv().await?)?;
        if answer.id != id {
            return Err(SessionError::Protocol(format!(
                "answer to request {} where {id} was asked",
                answer.id
            )));
        }
        let sent = Sent {
            epoch: live.epoch,
            id,
        };
        *guard = Some(live);
        Ok((answer, sent))
    }
}
