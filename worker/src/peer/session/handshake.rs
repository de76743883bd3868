//! The session handshake: Noise `NN` (fresh X25519 ephemeral keys on both sides,
//! ChaCha20-Poly1305, BLAKE2s, from the `snow` crate) whose first message carries a hello
//! naming the chain, the caller's account, the account it means to reach (the audience)
//! and the vocabulary fingerprint. The Noise handshake hash covers that hello and both
//! ephemeral keys; each side then signs it with its account's K1 key (one signature and
//! one verification each way), the caller first, so a server spends no signature work on
//! a caller that has not proven its key. A captured session is useless anywhere else: its
//! keys come from ephemerals nobody else holds, and the signatures name this audience.
//!
//! Flights: `BTS1` + hello (plain, hashed), verdict + Noise reply, caller's signature
//! (encrypted), verdict + server's signature (encrypted).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use chain_client::Signature;
use sha2::{Digest, Sha256};
use snow::{Builder, HandshakeState};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use super::record::{read_raw, write_raw, Channel, WireBytes, MAX_RECORD};
use super::SessionError;
use crate::peer::identity::Identity;
use crate::peer::keys::KeyCache;

/// First bytes of a session connection (an h2c connection starts with `PRI `).
pub const MAGIC: &[u8; 4] = b"BTS1";
const PATTERN: &str = "Noise_NN_25519_AESGCM_BLAKE2s";
const PROLOGUE: &[u8] = b"bittensor-peer-session-v1";
const HELLO_VERSION: u8 = 1;
/// Longest account name (EOSIO names have at most 13 characters).
const MAX_ACCOUNT: usize = 13;
/// Longest vocabulary fingerprint.
const MAX_VOCAB: usize = 64;

/// Why the server ends a handshake (one byte on the wire, then a reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on.
    Accept = 0,
    /// The hello does not parse.
    Malformed = 1,
    /// Another chain.
    Chain = 2,
    /// The caller means another account; the reason is this server's account.
    Audience = 3,
    /// Another vocabulary; the reason is this server's fingerprint.
    Vocabulary = 4,
    /// The caller is not in the metagraph.
    NotSubscribed = 5,
    /// Too many handshakes from the caller's address (or in flight); retry later.
    Busy = 6,
    /// The account has as many sessions open as it may.
    TooManySessions = 7,
    /// The binding signature is not the account's on-chain key.
    BadSignature = 8,
}

impl Verdict {
    fn from_u8(b: u8) -> Verdict {
        match b {
            0 => Verdict::Accept,
            2 => Verdict::Chain,
            3 => Verdict::Audience,
            4 => Verdict::Vocabulary,
            5 => Verdict::NotSubscribed,
            6 => Verdict::Busy,
            7 => Verdict::TooManySessions,
            8 => Verdict::BadSignature,
            _ => Verdict::Malformed,
        }
    }
}

/// What the caller announces in the first flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// The chain both accounts live on.
    pub chain_id: [u8; 32],
    /// The calling account.
    pub initiator: String,
    /// The account the caller means to reach.
    pub audience: String,
    /// The caller's vocabulary fingerprint.
    pub vocab: String,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.push(s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

fn get_str<'a>(bytes: &mut &'a [u8], max: usize) -> Result<&'a str, SessionError> {
    let (&len, rest) = bytes
        .split_first()
        .ok_or_else(|| SessionError::Protocol("hello truncated".into()))?;
    let len = len as usize;
    if len == 0 || len > max || rest.len() < len {
        return Err(SessionError::Protocol("hello field of a bad length".into()));
    }
    let s = std::str::from_utf8(&rest[..len])
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| SessionError::Protocol("hello field is not printable".into()))?;
    *bytes = &rest[len..];
    Ok(s)
}

impl Hello {
    /// Wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![HELLO_VERSION];
        out.extend_from_slice(&self.chain_id);
        put_str(&mut out, &self.initiator);
        put_str(&mut out, &self.audience);
        put_str(&mut out, &self.vocab);
        out
    }

    /// Reads the wire form (bounded fields, no trailing bytes).
    pub fn decode(mut bytes: &[u8]) -> Result<Self, SessionError> {
        if bytes.len() < 33 || bytes[0] != HELLO_VERSION {
            return Err(SessionError::Protocol("hello of another version".into()));
        }
        let chain_id: [u8; 32] = bytes[1..33].try_into().expect("32 bytes");
        bytes = &bytes[33..];
        let initiator = get_str(&mut bytes, MAX_ACCOUNT)?.to_string();
        let audience = get_str(&mut bytes, MAX_ACCOUNT)?.to_string();
        let vocab = get_str(&mut bytes, MAX_VOCAB)?.to_string();
        if !bytes.is_empty() {
            return Err(SessionError::Protocol("trailing bytes after hello".into()));
        }
        Ok(Hello {
            chain_id,
            initiator,
            audience,
            vocab,
        })
    }
}

#[derive(Clone, Copy)]
enum Role {
    Initiator = 1,
    Responder = 2,
}

/// What each side signs: the role and the Noise handshake hash.
fn binding(role: Role, handshake_hash: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(PROLOGUE);
    h.update([role as u8]);
    h.update(handshake_hash);
    h.finalize().into()
}

fn noise(initiator: bool) -> Result<HandshakeState, SessionError> {
    let params = PATTERN
        .parse()
        .map_err(|e: snow::Error| SessionError::Crypto(e.to_string()))?;
    let b = Builder::new(params).prologue(PROLOGUE)?;
    Ok(if initiator {
        b.build_initiator()?
    } else {
        b.build_responder()?
    })
}

/// The rest of a server's reply if its verdict byte says go on, else its refusal.
fn accepted(reply: &[u8]) -> Result<&[u8], SessionError> {
    let (&verdict, rest) = reply
        .split_first()
        .ok_or_else(|| SessionError::Protocol("empty verdict".into()))?;
    if verdict != Verdict::Accept as u8 {
        return Err(SessionError::Refused {
            verdict: Verdict::from_u8(verdict),
            reason: String::from_utf8_lossy(&rest[..rest.len().min(300)]).into_owned(),
        });
    }
    Ok(rest)
}

fn parse_signature(bytes: &[u8]) -> Option<Signature> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// Opens a session to `audience` over `stream` as `me`; the server must prove it holds a key
/// the chain lists for `audience` (and must not be this node itself).
pub async fn initiate<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    me: &Identity,
    audience: &str,
    keys: &KeyCache,
    max_message: usize,
    bytes: Arc<WireBytes>,
) -> Result<Channel<S>, SessionError> {
    let mut hs = noise(true)?;
    let hello = Hello {
        chain_id: me.chain_id,
        initiator: me.account.clone(),
        audience: audience.to_string(),
        vocab: me.vocab.clone(),
    };
    let mut buf = vec![0u8; MAX_RECORD];
    let n = hs.write_message(&hello.encode(), &mut buf)?;
    let mut first = MAGIC.to_vec();
    first.extend_from_slice(&(n as u16).to_be_bytes());
    first.extend_from_slice(&buf[..n]);
    tokio::io::AsyncWriteExt::write_all(&mut stream, &first).await?;
    let reply = read_raw(&mut stream).await?;
    bytes.sent.fetch_add(first.len() as u64, Ordering::Relaxed);
    bytes
        .received
        .fetch_add(reply.len() as u64 + 2, Ordering::Relaxed);
    let rest = accepted(&reply)?;
    hs.read_message(rest, &mut buf)
        .map_err(|_| SessionError::Forged)?;
    let hash = hs.get_handshake_hash().to_vec();
    let transport = hs.into_transport_mode()?;
    let mine = me.sign_digest(&binding(Role::Initiator, &hash))?;
    let mut channel = Channel::new(stream, transport, max_message, bytes);
    channel.send(mine.to_string().as_bytes()).await?;
    let answer = channel.recv().await?;
    let rest = accepted(&answer)?;
    let theirs = parse_signature(rest).ok_or_else(|| {
        SessionError::Protocol("server's binding signature does not parse".into())
    })?;
    // A server that is this node itself refused the hello already (audience mismatch);
    // accounts may share a key, so the key alone says nothing about whose server this is.
    let digest = binding(Role::Responder, &hash);
    match keys
        .accepts(audience, |ks| ks.iter().any(|k| theirs.verify(&digest, k)))
        .await
    {
        Ok(true) => Ok(channel),
        Ok(false) => Err(SessionError::Impostor(audience.to_string())),
        Err(why) => Err(SessionError::UnknownAccount(audience.to_string(), why)),
    }
}

/// The cheap checks a server makes on a hello before any key work (subscription, per-account
/// session count); `Err` ends the handshake with that verdict and reason.
pub type Admit<'a> = &'a (dyn Fn(&Hello) -> Result<(), (Verdict, String)> + Send + Sync);

async fn refuse<S: AsyncWrite + Unpin>(
    stream: &mut S,
    verdict: Verdict,
    reason: &str,
) -> SessionError {
    let mut out = vec![verdict as u8];
    out.extend_from_slice(reason.as_bytes());
    out.truncate(MAX_RECORD);
    let _ = write_raw(stream, &out).await;
    SessionError::Refused {
        verdict,
        reason: reason.to_string(),
    }
}

/// Answers a session handshake on `stream` (its first bytes are [`MAGIC`]) as `me`: cheap
/// checks first (`admit`, chain, audience, vocabulary), one DH, then the caller's signature
/// against its on-chain keys, then ours. Returns the channel and the verified hello.
pub async fn respond<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    me: &Identity,
    keys: &KeyCache,
    admit: Admit<'_>,
    max_message: usize,
    bytes: Arc<WireBytes>,
) -> Result<(Channel<S>, Hello), SessionError> {
    let mut magic = [0u8; 4];
    stream.read_exact(&mut magic).await?;
    if &magic != MAGIC {
        return Err(SessionError::Protocol("not a session".into()));
    }
    let first = read_raw(&mut stream).await?;
    // Noise NN's first message is the 32-byte ephemeral key, then the plain hello.
    let hello = match first.get(32..).map(Hello::decode) {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(refuse(&mut stream, Verdict::Malformed, &e.to_string()).await),
        None => return Err(refuse(&mut stream, Verdict::Malformed, "hello truncated").await),
    };
    if hello.chain_id != me.chain_id {
        let why = format!("another chain: this node is on {}", hex32(&me.chain_id));
        return Err(refuse(&mut stream, Verdict::Chain, &why).await);
    }
    if hello.audience != me.account {
        return Err(refuse(&mut stream, Verdict::Audience, &me.account).await);
    }
    if hello.vocab != me.vocab {
        return Err(refuse(&mut stream, Verdict::Vocabulary, &me.vocab).await);
    }
    if let Err((verdict, why)) = admit(&hello) {
        return Err(refuse(&mut stream, verdict, &why).await);
    }
    let mut hs = noise(false)?;
    let mut buf = vec![0u8; MAX_RECORD];
    hs.read_message(&first, &mut buf)
        .map_err(|_| SessionError::Forged)?;
    let n = hs.write_message(&[], &mut buf[1..])?;
    buf[0] = Verdict::Accept as u8;
    write_raw(&mut stream, &buf[..n + 1]).await?;
    let hash = hs.get_handshake_hash().to_vec();
    let transport = hs.into_transport_mode()?;
    let mut channel = Channel::new(stream, transport, max_message, bytes);
    let sig = channel.recv().await?;
    let digest = binding(Role::Initiator, &hash);
    let verified = match parse_signature(&sig) {
        Some(sig) => keys
            .accepts(&hello.initiator, |ks| {
                ks.iter().any(|k| sig.verify(&digest, k))
            })
            .await
            .unwrap_or(false),
        None => false,
    };
    if !verified {
        let why = format!(
            "the binding signature is not made with a key of {}'s on-chain active permission",
            hello.initiator
        );
        let mut out = vec![Verdict::BadSignature as u8];
        out.extend_from_slice(why.as_bytes());
        let _ = channel.send(&out).await;
        return Err(SessionError::Refused {
            verdict: Verdict::BadSignature,
            reason: why,
        });
    }
    let mine = me.sign_digest(&binding(Role::Responder, &hash))?;
    let mut out = vec![Verdict::Accept as u8];
    out.extend_from_slice(mine.to_string().as_bytes());
    channel.send(&out).await?;
    Ok((channel, hello))
}

fn hex32(b: &[u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_round_trips_and_refuses_bad_fields() {
        let h = Hello {
            chain_id: [7; 32],
            initiator: "alice".into(),
            audience: "bob".into(),
            vocab: "0123".into(),
        };
        assert_eq!(Hello::decode(&h.encode()).unwrap(), h);
        let mut long = h.encode();
        long.push(0);
        assert!(Hello::decode(&long).is_err());
        let mut bad = h.clone();
        bad.initiator = "a".repeat(14);
        assert!(Hello::decode(&bad.encode()).is_err());
        assert!(Hello::decode(&h.encode()[..40]).is_err());
    }
}
