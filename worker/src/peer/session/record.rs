//! Records on an established session: each logical message is cut into Noise transport
//! records (at most 65 535 bytes on the wire, a two-byte length before each), so the
//! per-direction Noise nonce is the sequence number: a replayed, reordered, dropped or
//! altered record fails authentication and ends the session. No nonce cache, no clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use snow::TransportState;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::SessionError;

/// Largest Noise message (the Noise specification's limit).
pub const MAX_RECORD: usize = 65_535;
/// Authentication tag added to every encrypted record.
pub const TAG: usize = 16;
/// Plaintext bytes one record carries after its continuation flag.
const CHUNK: usize = MAX_RECORD - TAG - 1;
const LAST: u8 = 1;
const MORE: u8 = 0;

/// Bytes sent and received on sessions (record framing and tags included), for the
/// bytes-per-step figures.
#[derive(Debug, Default)]
pub struct WireBytes {
    /// Bytes written to the socket.
    pub sent: AtomicU64,
    /// Bytes read from the socket.
    pub received: AtomicU64,
}

/// Writes one length-prefixed raw record.
pub async fn write_raw<S: AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
) -> Result<usize, SessionError> {
    let len = u16::try_from(bytes.len())
        .map_err(|_| SessionError::Protocol(format!("record of {} bytes", bytes.len())))?;
    let mut out = Vec::with_capacity(2 + bytes.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    stream.write_all(&out).await?;
    Ok(out.len())
}

/// Reads one length-prefixed raw record.
pub async fn read_raw<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Vec<u8>, SessionError> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    stream.read_exact(&mut buf).await?;
    Ok(buf)
}

/// An established session over `S`: encrypts and authenticates every message.
pub struct Channel<S> {
    stream: S,
    noise: TransportState,
    max_message: usize,
    bytes: Arc<WireBytes>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Channel<S> {
    /// A channel over `stream` after a completed handshake; messages above `max_message`
    /// bytes are refused on both sides.
    pub fn new(
        stream: S,
        noise: TransportState,
        max_message: usize,
        bytes: Arc<WireBytes>,
    ) -> Self {
        Channel {
            stream,
            noise,
            max_message,
            bytes,
        }
    }

    /// Sends one message (cut into records).
    pub async fn send(&mut self, message: &[u8]) -> Result<(), SessionError> {
        if message.len() > self.max_message {
            return Err(SessionError::TooLarge {
                got: message.len(),
                limit: self.max_message,
            });
        }
        let mut chunks = message.chunks(CHUNK).peekable();
        let mut out = Vec::with_capacity(message.len() + (message.len() / CHUNK + 1) * 19);
        let mut plain = Vec::with_capacity(CHUNK + 1);
        let mut cipher = vec![0u8; MAX_RECORD];
        loop {
            let chunk = chunks.next().unwrap_or(&[]);
            let last = chunks.peek().is_none();
            plain.clear();
            plain.push(if last { LAST } else { MORE });
            plain.extend_from_slice(chunk);
            let n = self.noise.write_message(&plain, &mut cipher)?;
            out.extend_from_slice(&(n as u16).to_be_bytes());
            out.extend_from_slice(&cipher[..n]);
            if last {
                break;
            }
        }
        self.stream.write_all(&out).await?;
        self.bytes
            .sent
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Receives one message; any record that fails authentication ends the session.
    pub async fn recv(&mut self) -> Result<Vec<u8>, SessionError> {
        let mut message = Vec::new();
        let mut plain = vec![0u8; MAX_RECORD];
        loop {
            let record = read_raw(&mut self.stream).await?;
            self.bytes
                .received
                .fetch_add(record.len() as u64 + 2, Ordering::Relaxed);
            let n = self
                .noise
                .read_message(&record, &mut plain)
                .map_err(|_| SessionError::Forged)?;
            let (&flag, data) = plain[..n]
                .split_first()
                .ok_or_else(|| SessionError::Protocol("empty record".into()))?;
            if message.len() + data.len() > self.max_message {
                return Err(SessionError::TooLarge {
                    got: message.len() + data.len(),
                    limit: self.max_message,
                });
            }
            message.extend_from_slice(data);
            match flag {
                LAST => return Ok(message),
                MORE => continue,
                f => return Err(SessionError::Protocol(format!("record flag {f}"))),
            }
        }
    }

    /// The socket under the session (tests use it to replay captured bytes).
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }
}
