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
    let mut buf = vec![0u8; read_len(stream).await?];
    stream.read_exact(&mut buf).await?;
    Ok(buf)
}

/// Reads one length-prefixed raw record into `buf` (at least [`MAX_RECORD`] long, reused
/// across records); returns the record.
async fn read_raw_into<'b, S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &'b mut [u8],
) -> Result<&'b [u8], SessionError> {
    let record = &mut buf[..read_len(stream).await?];
    stream.read_exact(record).await?;
    Ok(record)
}

/// A record's two-byte length prefix.
async fn read_len<S: AsyncRead + Unpin>(stream: &mut S) -> Result<usize, SessionError> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    Ok(u16::from_be_bytes(len) as usize)
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
        loop {
            let chunk = chunks.next().unwrap_or(&[]);
            let last = chunks.peek().is_none();
            plain.clear();
            plain.push(if last { LAST } else { MORE });
            plain.extend_from_slice(chunk);
            // Encrypted straight after its length prefix, in the buffer that is written.
            let at = out.len();
            out.resize(at + 2 + plain.len() + TAG, 0);
            let n = self.noise.write_message(&plain, &mut out[at + 2..])?;
            out.truncate(at + 2 + n);
            out[at..at + 2].copy_from_slice(&(n as u16).to_be_bytes());
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
        // One buffer for every record of the message (read over, never cleared).
        let mut buf = vec![0u8; MAX_RECORD];
        loop {
            let record = read_raw_into(&mut self.stream, &mut buf).await?;
            self.bytes
                .received
                .fetch_add(record.len() as u64 + 2, Ordering::Relaxed);
            let n = self
                .noise
                .read_message(record, &mut plain)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two transport states that completed a Noise NN handshake with each other.
    fn pair() -> (TransportState, TransportState) {
        let params: snow::params::NoiseParams =
            "Noise_NN_25519_AESGCM_BLAKE2s".parse().expect("pattern");
        let mut a = snow::Builder::new(params.clone())
            .build_initiator()
            .expect("initiator");
        let mut b = snow::Builder::new(params)
            .build_responder()
            .expect("responder");
        let (mut m, mut p) = (vec![0u8; 1024], vec![0u8; 1024]);
        let n = a.write_message(&[], &mut m).expect("e");
        b.read_message(&m[..n], &mut p).expect("read e");
        let n = b.write_message(&[], &mut m).expect("e, ee");
        a.read_message(&m[..n], &mut p).expect("read e, ee");
        (
            a.into_transport_mode().expect("a"),
            b.into_transport_mode().expect("b"),
        )
    }

    #[tokio::test]
    async fn messages_of_many_records_round_trip_and_an_altered_record_ends_the_session() {
        let (a, b) = pair();
        let (x, y) = tokio::io::duplex(1 << 20);
        let mut tx = Channel::new(x, a, 1 << 20, Arc::default());
        let mut rx = Channel::new(y, b, 1 << 20, Arc::default());
        // Empty, one record, exactly one record's worth, and several records.
        for len in [0, 10, CHUNK, CHUNK + 1, 3 * CHUNK + 17, 300_000] {
            let msg: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            tx.send(&msg).await.unwrap();
            assert_eq!(rx.recv().await.unwrap(), msg, "{len} bytes");
        }
        assert!(matches!(
            tx.send(&vec![0u8; (1 << 20) + 1]).await,
            Err(SessionError::TooLarge { .. })
        ));
        // One byte of the second record flipped on the way: the receiver refuses it.
        let (a, b) = pair();
        let (x, mut y) = tokio::io::duplex(1 << 20);
        let mut tx = Channel::new(x, a, 1 << 20, Arc::default());
        tx.send(&vec![5u8; 2 * CHUNK]).await.unwrap();
        drop(tx);
        let mut sent = Vec::new();
        y.read_to_end(&mut sent).await.unwrap();
        assert_eq!(sent.len(), 2 * (2 + MAX_RECORD), "two full records");
        let second = 2 + MAX_RECORD + 2;
        sent[second + 9] ^= 1;
        let (mut p, q) = tokio::io::duplex(1 << 20);
        p.write_all(&sent).await.unwrap();
        let mut rx = Channel::new(q, b, 1 << 20, Arc::default());
        assert!(matches!(rx.recv().await, Err(SessionError::Forged)));
    }
}
