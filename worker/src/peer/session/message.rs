//! The typed envelope a session carries: a request names its kind and a per-session id
//! (the caller's sequence, so a later request can refer to an earlier one); an answer
//! repeats the id with a status. What a kind's body means is the business of its
//! handler ([`super::handlers`]), so a new kind plugs in without touching the session code.

use super::SessionError;

/// A request kind (one byte on the wire).
pub type Kind = u8;

/// Ask for the embeddings of word ids.
pub const FORWARD: Kind = 1;
// Kind 2 was the gradient of a forward (the retired gated peer model); it is not reused.
/// Ask the node to write its embeddings to its export directory (its own account only).
pub const EXPORT: Kind = 3;
/// Ask for the sparse updates the node published after a sequence number.
pub const UPDATES: Kind = 4;

/// How a request went (one byte on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Answered; the body is the kind's answer.
    Ok = 0,
    /// The body does not decode or is unusable (like HTTP 400).
    BadRequest = 1,
    /// The caller may not do this (like HTTP 403).
    Forbidden = 2,
    /// Over the account's rate for this kind (like HTTP 429).
    RateLimited = 3,
    /// A request naming something this session does not have.
    NotServed = 4,
    /// The node does not offer this now (like HTTP 503).
    Unavailable = 5,
    /// The node failed (like HTTP 500).
    Internal = 6,
    /// No handler for this kind.
    UnknownKind = 7,
    /// Values beyond the accepted range.
    OutOfRange = 8,
}

impl Status {
    fn from_u8(b: u8) -> Result<Self, SessionError> {
        Ok(match b {
            0 => Status::Ok,
            1 => Status::BadRequest,
            2 => Status::Forbidden,
            3 => Status::RateLimited,
            4 => Status::NotServed,
            5 => Status::Unavailable,
            6 => Status::Internal,
            7 => Status::UnknownKind,
            8 => Status::OutOfRange,
            b => return Err(SessionError::Protocol(format!("answer status {b}"))),
        })
    }
}

/// One request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// What is asked.
    pub kind: Kind,
    /// The caller's sequence number for it in this session.
    pub id: u32,
    /// The kind's body.
    pub body: Vec<u8>,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The id of the request it answers.
    pub id: u32,
    /// How it went.
    pub status: Status,
    /// The kind's answer when `Ok`, else a one-line reason.
    pub body: Vec<u8>,
}

impl Request {
    /// Wire form: kind, id (u32 LE), body.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + self.body.len());
        out.push(self.kind);
        out.extend_from_slice(&self.id.to_le_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// Reads the wire form.
    pub fn decode(mut bytes: Vec<u8>) -> Result<Self, SessionError> {
        if bytes.len() < 5 {
            return Err(SessionError::Protocol(
                "request shorter than its header".into(),
            ));
        }
        let kind = bytes[0];
        let id = u32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        bytes.drain(..5);
        Ok(Request {
            kind,
            id,
            body: bytes,
        })
    }
}

impl Answer {
    /// Wire form: id (u32 LE), status, body.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + self.body.len());
        out.extend_from_slice(&self.id.to_le_bytes());
        out.push(self.status as u8);
        out.extend_from_slice(&self.body);
        out
    }

    /// Reads the wire form.
    pub fn decode(mut bytes: Vec<u8>) -> Result<Self, SessionError> {
        if bytes.len() < 5 {
            return Err(SessionError::Protocol(
                "answer shorter than its header".into(),
            ));
        }
        let id = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let status = Status::from_u8(bytes[4])?;
        bytes.drain(..5);
        Ok(Answer {
            id,
            status,
            body: bytes,
        })
    }

    /// A refusal with a one-line reason.
    pub fn refused(id: u32, status: Status, reason: impl Into<String>) -> Self {
        Answer {
            id,
            status,
            body: reason.into().into_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_short_ones_are_refused() {
        let r = Request {
            kind: FORWARD,
            id: 7,
            body: vec![1, 2, 3],
        };
        assert_eq!(Request::decode(r.encode()).unwrap(), r);
        let a = Answer::refused(7, Status::RateLimited, "slow down");
        assert_eq!(Answer::decode(a.encode()).unwrap(), a);
        assert!(Request::decode(vec![1, 2]).is_err());
        assert!(Answer::decode(vec![0, 0, 0, 0, 99]).is_err());
    }
}
