//! The node's chain lifecycle steps: subscribe with retries at start, emit the latest
//! attribution (dropping targets that are no longer subscribed), unsubscribe at shutdown.
//! Each step only logs and reports failures: the node never crashes on a chain error.

use std::collections::HashSet;

use chain_client::client::PushReceipt;
use emission::{Edge, EdgeError};

use super::api::{ChainApi, ChainFailure, PeerRow};
use super::backoff::Backoff;
use super::return_flow;
use crate::attribution::Attribution;

/// Reads the contract's parameters, logs them (and any announced change) and refuses an
/// `emit_interval` whose back-off could outlast the chain's `max_idle` (the current one or an
/// announced one), naming both. A contract without the parameters passes, and so does a
/// chain that cannot be read now (logged; the subscribe that follows retries).
pub async fn check_chain_params(
    chain: &dyn ChainApi,
    emit_interval: std::time::Duration,
) -> Result<(), ChainFailure> {
    let params = match chain.params().await {
        Ok(Some(params)) => params,
        Ok(None) => return Ok(()),
        // An unreachable chain is the subscribe retries' business, not a reason to refuse.
        Err(e) => {
            tracing::warn!(error = %e, "could not read the chain's parameters; not checked");
            return Ok(());
        }
    };
    tracing::info!(
        emission_rate = params.emission_rate,
        max_self_weight = params.max_self_weight,
        max_idle = params.max_idle,
        "chain parameters"
    );
    if let Some(next) = params.next {
        tracing::info!(
            at_block = next.at,
            emission_rate = next.emission_rate,
            min_stake = next.min_stake,
            max_self_weight = next.max_self_weight,
            max_idle = next.max_idle,
            "parameter change announced"
        );
    }
    super::params::check_emit_interval(emit_interval, params.strictest_max_idle())
        .map_err(|e| ChainFailure::new(false, e))
}

/// Subscribes, retrying transient failures with backoff up to `attempts` times; a
/// rejection by the chain (e.g. not enough balance) is returned at once.
pub async fn subscribe_with_retry(
    chain: &dyn ChainApi,
    address: &str,
    port: u16,
    stake: u64,
    attempts: u32,
    mut backoff: Backoff,
) -> Result<(), ChainFailure> {
    let mut last = None;
    for attempt in 1..=attempts.max(1) {
        match chain.subscribe(address.to_string(), port, stake).await {
            Ok(()) => return Ok(()),
            Err(e) if e.transient => {
                let delay = backoff.next_delay();
                tracing::warn!(attempt, error = %e, ?delay, "subscribe failed, retrying");
                last = Some(e);
                tokio::time::sleep(delay).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or(ChainFailure::new(true, "subscribe: no attempt made")))
}

/// What one pushed emit returns: the rows read (for peer refresh), the edges pushed, and
/// the receipt to follow to irreversibility.
pub type Emitted = (Vec<PeerRow>, Vec<Edge<String>>, PushReceipt);

/// Reads the metagraph, builds the edge set from the current attribution with only
/// subscribed targets, and pushes `emit`.
pub async fn emit_latest(
    chain: &dyn ChainApi,
    me: &str,
    attribution: &Attribution,
    slot_names: &[Option<String>],
    rewrite: Option<&crate::node::hooks::EdgesHook>,
) -> Result<Emitted, ChainFailure> {
    let rows = chain.metagraph().await?;
    let subscribed: HashSet<&str> = rows.iter().map(|r| r.user.as_str()).collect();
    if !subscribed.contains(me) {
        return Err(ChainFailure::new(false, format!("{me} is not subscribed")));
    }
    let me_owned = me.to_string();
    let max_self = chain.max_self_weight().await?;
    // Credit to a peer whose forwards never come back out (a ring) is shared by the others.
    let discounts = return_flow::discounts(&rows, me, max_self);
    for (peer, f) in discounts.iter().filter(|(_, f)| **f < 1.0) {
        tracing::debug!(peer = %peer, factor = format!("{f:.3}"), "peer's credit discounted: little of what it is forwarded comes back out");
    }
    let edges = attribution
        .edges_discounted(
            &me_owned,
            slot_names,
            max_self,
            |id| subscribed.contains(id.as_str()),
            |id| discounts.get(id).copied().unwrap_or(1.0),
        )
        .map_err(|e| match e {
            // Peers may subscribe later: try again at the next emit.
            EdgeError::SelfWeightTooLarge { .. } => ChainFailure::new(
                true,
                format!("cannot emit yet: {e}, and no subscribed peer to attribute the rest to"),
            ),
            e => ChainFailure::new(false, format!("cannot build edge set: {e}")),
        })?;
    let edges = match rewrite {
        Some(f) => f(edges),
        None => edges,
    };
    let receipt = chain.emit(edges.clone()).await?;
    Ok((rows, edges, receipt))
}

/// Unsubscribes at shutdown, retrying transient failures a few times.
pub async fn unsubscribe_with_retry(
    chain: &dyn ChainApi,
    attempts: u32,
    mut backoff: Backoff,
) -> Result<(), ChainFailure> {
    let mut result = Ok(());
    for attempt in 1..=attempts.max(1) {
        result = chain.unsubscribe().await;
        match &result {
            Ok(()) => return Ok(()),
            Err(e) if e.transient => {
                tracing::warn!(attempt, error = %e, "unsubscribe failed, retrying");
                tokio::time::sleep(backoff.next_delay()).await;
            }
            Err(_) => return result,
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeChain;
    use super::*;
    use emission::fixed::WEIGHT_ONE;
    use std::time::Duration;

    fn backoff() -> Backoff {
        Backoff::new(Duration::from_millis(1), Duration::from_millis(4))
    }

    #[tokio::test]
    async fn a_worker_whose_backoff_outlasts_max_idle_refuses_naming_both() {
        use super::super::params::{Announced, ChainParams};
        let chain = FakeChain::new("me");
        // A contract without the parameters: nothing to check.
        check_chain_params(&chain, Duration::from_secs(60))
            .await
            .unwrap();
        let params = ChainParams {
            emission_rate: 10_000,
            max_self_weight: WEIGHT_ONE,
            max_idle: 1_000,
            next: None,
        };
        chain.set_params(params);
        check_chain_params(&chain, Duration::from_secs(5))
            .await
            .unwrap();
        // An announced shorter max_idle counts already.
        chain.set_params(ChainParams {
            next: Some(Announced {
                emission_rate: 10_000,
                min_stake: 1,
                max_self_weight: WEIGHT_ONE,
                max_idle: 640,
                at: 99,
            }),
            ..params
        });
        let err = check_chain_params(&chain, Duration::from_secs(15))
            .await
            .unwrap_err();
        assert!(!err.transient);
        assert!(err.message.contains("max_idle of 640 blocks"), "{err}");
        assert!(err.message.contains("emit_interval (15.0 s"), "{err}");
    }

    #[tokio::test]
    async fn subscribe_retries_transient_failures_only() {
        let chain = FakeChain::new("me");
        chain.fail_next(2, true);
        subscribe_with_retry(&chain, "127.0.0.1", 9, 5, 5, backoff())
            .await
            .unwrap();
        assert!(chain.is_subscribed("me"));
        let chain = FakeChain::new("me");
        chain.fail_next(1, false);
        let err = subscribe_with_retry(&chain, "127.0.0.1", 9, 5, 5, backoff())
            .await
            .unwrap_err();
        assert!(!err.transient);
        assert!(!chain.is_subscribed("me"));
    }

    #[tokio::test]
    async fn emit_drops_unsubscribed_targets_and_carries_the_latest_ema() {
        let chain = FakeChain::new("me");
        chain.add_user("a");
        subscribe_with_retry(&chain, "h", 1, 1, 1, backoff())
            .await
            .unwrap();
        let mut attr = Attribution::new(2, 0.0);
        attr.update(&[0.5, 0.25, 0.25]);
        let names = vec![Some("a".to_string()), Some("gone".to_string())];
        chain.fail_next(1, true);
        assert!(emit_latest(&chain, "me", &attr, &names, None)
            .await
            .is_err());
        attr.update(&[0.2, 0.8, 0.0]);
        let (_, edges, _) = emit_latest(&chain, "me", &attr, &names, None)
            .await
            .unwrap();
        assert_eq!(edges.len(), 2);
        assert_eq!(edges[1].to, "a");
        assert_eq!(edges[1].weight, 800_000);
        let pushed = chain.emits();
        assert_eq!(pushed.len(), 1);
        assert_eq!(pushed[0].iter().map(|e| e.weight).sum::<u32>(), WEIGHT_ONE);
    }

    #[tokio::test]
    async fn emits_fit_the_networks_max_self_weight() {
        let chain = FakeChain::new("me");
        chain.set_max_self_weight(500_000);
        subscribe_with_retry(&chain, "h", 1, 1, 1, backoff())
            .await
            .unwrap();
        let mut attr = Attribution::new(1, 0.0);
        attr.update(&[0.9, 0.1]);
        let names = vec![Some("a".to_string())];
        // Alone, the node cannot meet the cap: a transient refusal, nothing pushed.
        let err = emit_latest(&chain, "me", &attr, &names, None)
            .await
            .unwrap_err();
        assert!(
            err.transient && err.message.contains("max_self_weight"),
            "{err}"
        );
        assert_eq!(chain.emits().len(), 0);
        chain.add_user("a");
        let (_, edges, _) = emit_latest(&chain, "me", &attr, &names, None)
            .await
            .unwrap();
        assert!(edges[0].weight <= 500_000, "{edges:?}");
        assert_eq!(edges.len(), 2);
    }

    #[tokio::test]
    async fn emit_and_unsubscribe_lifecycle() {
        let chain = FakeChain::new("me");
        let attr = Attribution::new(1, 0.5);
        let err = emit_latest(&chain, "me", &attr, &[None], None)
            .await
            .unwrap_err();
        assert!(err.message.contains("not subscribed"));
        subscribe_with_retry(&chain, "h", 1, 1, 1, backoff())
            .await
            .unwrap();
        emit_latest(&chain, "me", &attr, &[None], None)
            .await
            .unwrap();
        chain.fail_next(1, true);
        unsubscribe_with_retry(&chain, 3, backoff()).await.unwrap();
        assert!(!chain.is_subscribed("me"));
    }
}
