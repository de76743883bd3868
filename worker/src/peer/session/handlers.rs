//! Message kinds as plug-ins: a handler is a function from a decoded request (the caller's
//! verified account, the request id, the body, this session's memory) to an answer body or
//! a refusal. Each kind has its own per-account rate, checked before the body is read.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use super::message::{Answer, Kind, Request, Status};
use crate::peer::ratelimit::RateLimiter;

/// State one session keeps between its requests (bounded by each kind that uses it), keyed
/// by type so each kind keeps its own.
#[derive(Default)]
pub struct SessionMemory {
    slots: HashMap<TypeId, Box<dyn Any + Send>>,
}

impl SessionMemory {
    /// This session's `T`, created empty on first use.
    pub fn get<T: Default + Send + 'static>(&mut self) -> &mut T {
        self.slots
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut::<T>()
            .expect("slot holds its own type")
    }
}

/// One call as a handler sees it.
pub struct Call<'a> {
    /// The caller's verified account.
    pub account: &'a str,
    /// The caller's id for this request.
    pub id: u32,
    /// This session's memory.
    pub memory: &'a mut SessionMemory,
}

/// A refusal: status and a one-line reason.
pub type Refusal = (Status, String);

/// A kind's handler (runs on the blocking pool: it may do model work).
pub type Handler = Arc<dyn Fn(&mut Call<'_>, &[u8]) -> Result<Vec<u8>, Refusal> + Send + Sync>;

/// A wait before a kind's handler runs (a fetch held until there is something new to
/// answer), on the runtime so a held request takes no thread; `None`: answer at once. Each
/// kind bounds its own waits.
pub type Hold =
    Arc<dyn Fn(&[u8]) -> Option<Pin<Box<dyn Future<Output = ()> + Send>>> + Send + Sync>;

struct Entry {
    handler: Handler,
    limit: RateLimiter,
    hold: Option<Hold>,
}

/// The kinds a server answers.
#[derive(Default)]
pub struct Handlers {
    entries: HashMap<Kind, Entry>,
}

impl Handlers {
    /// No kinds yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `kind` with `handler`, at most `rate` per second per account (bursts of `burst`).
    pub fn register(&mut self, kind: Kind, rate: f64, burst: f64, handler: Handler) {
        self.entries.insert(
            kind,
            Entry {
                handler,
                limit: RateLimiter::new(rate, burst),
                hold: None,
            },
        );
    }

    /// The same, each request first waiting as `hold` says.
    pub fn register_held(
        &mut self,
        kind: Kind,
        rate: f64,
        burst: f64,
        handler: Handler,
        hold: Hold,
    ) {
        self.register(kind, rate, burst, handler);
        if let Some(e) = self.entries.get_mut(&kind) {
            e.hold = Some(hold);
        }
    }

    /// What `req` waits for before its handler runs, if anything.
    pub fn hold(&self, req: &Request) -> Option<Pin<Box<dyn Future<Output = ()> + Send>>> {
        (self.entries.get(&req.kind)?.hold.as_ref()?)(&req.body)
    }

    /// The cheap refusals (unknown kind, over the rate), before any work on the body.
    pub fn precheck(&self, account: &str, req: &Request) -> Option<Answer> {
        let Some(e) = self.entries.get(&req.kind) else {
            return Some(Answer::refused(
                req.id,
                Status::UnknownKind,
                format!("no handler for request kind {}", req.kind),
            ));
        };
        if !e.limit.allow(&account.to_string(), Instant::now()) {
            return Some(Answer::refused(
                req.id,
                Status::RateLimited,
                format!(
                    "rate limit of kind {} exceeded for account {account}",
                    req.kind
                ),
            ));
        }
        None
    }

    /// Runs the handler of `req.kind`.
    pub fn dispatch(&self, account: &str, req: &Request, memory: &mut SessionMemory) -> Answer {
        let Some(e) = self.entries.get(&req.kind) else {
            return Answer::refused(req.id, Status::UnknownKind, "no handler");
        };
        let mut call = Call {
            account,
            id: req.id,
            memory,
        };
        match (e.handler)(&mut call, &req.body) {
            Ok(body) => Answer {
                id: req.id,
                status: Status::Ok,
                body,
            },
            Err((status, why)) => Answer::refused(req.id, status, why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_kind_plugs_in_with_its_own_memory_and_rate() {
        let mut h = Handlers::new();
        h.register(
            42,
            0.0,
            2.0,
            Arc::new(|call, body| {
                let seen: &mut Vec<u8> = call.memory.get();
                seen.extend_from_slice(body);
                Ok(seen.clone())
            }),
        );
        let mut mem = SessionMemory::default();
        let req = |id| Request {
            kind: 42,
            id,
            body: vec![id as u8],
        };
        assert!(h.precheck("bob", &req(1)).is_none());
        assert_eq!(h.dispatch("bob", &req(1), &mut mem).body, vec![1]);
        assert!(h.precheck("bob", &req(2)).is_none());
        assert_eq!(h.dispatch("bob", &req(2), &mut mem).body, vec![1, 2]);
        assert_eq!(
            h.precheck("bob", &req(3)).map(|a| a.status),
            Some(Status::RateLimited)
        );
        assert!(h.precheck("carol", &req(3)).is_none());
        let unknown = Request {
            kind: 9,
            id: 4,
            body: vec![],
        };
        assert_eq!(
            h.precheck("bob", &unknown).map(|a| a.status),
            Some(Status::UnknownKind)
        );
    }
}
