//! Routes an action to its handler: decodes the arguments, rejects unknown actions, and ignores
//! notifications from other contracts (`code != receiver`).

use crate::codec::{from_bytes, Pack};
use crate::error::{ContractError, Result};
use crate::host::Host;
use crate::name::Name;
use crate::{metagraph, token, vocab};

/// Decodes `data` as `T` and runs `handler`.
fn run<H: Host, T: Pack>(
    host: &mut H,
    data: &[u8],
    handler: fn(&mut H, T) -> Result<()>,
) -> Result<()> {
    handler(host, from_bytes(data)?)
}

/// Runs action `action` of contract `code` on `receiver`'s tables.
pub fn dispatch<H: Host>(
    host: &mut H,
    receiver: Name,
    code: Name,
    action: Name,
    data: &[u8],
) -> Result<()> {
    if code != receiver {
        // A notification (e.g. a transfer of another token naming us): nothing to do.
        return Ok(());
    }
    const CREATE: u64 = Name::new("create").0;
    const ISSUE: u64 = Name::new("issue").0;
    const RETIRE: u64 = Name::new("retire").0;
    const TRANSFER: u64 = Name::new("transfer").0;
    const OPEN: u64 = Name::new("open").0;
    const CLOSE: u64 = Name::new("close").0;
    const SUBSCRIBE: u64 = Name::new("subscribe").0;
    const UNSUBSCRIBE: u64 = Name::new("unsubscribe").0;
    const EMIT: u64 = Name::new("emit").0;
    const SETPARAMS: u64 = Name::new("setparams").0;
    const SETTLE: u64 = Name::new("settle").0;
    const EVICT: u64 = Name::new("evict").0;
    const SETVOCAB: u64 = Name::new("setvocab").0;
    match action.0 {
        CREATE => run(host, data, token::create),
        ISSUE => run(host, data, metagraph::issue),
        RETIRE => run(host, data, token::retire),
        TRANSFER => run(host, data, token::transfer),
        OPEN => run(host, data, token::open),
        CLOSE => run(host, data, metagraph::close),
        SUBSCRIBE => run(host, data, metagraph::subscribe),
        UNSUBSCRIBE => run(host, data, metagraph::unsubscribe),
        EMIT => run(host, data, metagraph::emit),
        SETPARAMS => run(host, data, metagraph::setparams),
        SETTLE => run(host, data, metagraph::settle),
        EVICT => run(host, data, metagraph::evict),
        SETVOCAB => run(host, data, vocab::setvocab),
        _ => Err(ContractError::new("unknown action")),
    }
}
