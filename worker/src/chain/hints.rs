//! What an operator should do about a refusal at start: the chain's message names the
//! symptom (`no balance object found`), the node's error adds the fix.

/// The fix for a subscribe refused with `message`, when the refusal is one an operator
/// meets while setting up a node on a new chain.
pub fn subscribe_fix(message: &str, account: &str, contract: &str, stake: &str) -> Option<String> {
    let m = message.to_lowercase();
    if m.contains("no balance object found") || m.contains("overdrawn balance") {
        return Some(format!(
            "{account} holds less than chain.stake ({stake}) of {contract}'s token: have the \
             contract's operator transfer BIT to {account} (docs/deploy.md, workers), or lower chain.stake"
        ));
    }
    if m.contains("missing authority")
        || m.contains("keys do not satisfy")
        || m.contains("unsatisfied_authorization")
    {
        return Some(format!(
            "the key in node.key_file (or BITTENSOR_WORKER_KEY) is not {account}'s active key"
        ));
    }
    if m.contains("ram") && (m.contains("exhausted") || m.contains("insufficient")) {
        return Some(format!(
            "{account} has too little RAM for its rows (about 1 KB): buy some, e.g. cleos system buyram PAYER {account} --bytes 8192"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_refusals_name_their_fix() {
        let fix = subscribe_fix(
            "transaction rejected: no balance object found",
            "alice",
            "bitnetwork",
            "10.0000 BIT",
        )
        .unwrap();
        assert!(
            fix.contains("transfer BIT to alice") && fix.contains("10.0000 BIT"),
            "{fix}"
        );
        let fix = subscribe_fix(
            "Error 3090003: Provided keys do not satisfy declared authorizations",
            "alice",
            "c",
            "1 BIT",
        )
        .unwrap();
        assert!(fix.contains("node.key_file"), "{fix}");
        let fix = subscribe_fix(
            "RAM exhausted (stake or buy more, then retry): alice",
            "alice",
            "c",
            "1 BIT",
        )
        .unwrap();
        assert!(fix.contains("buyram"), "{fix}");
        assert_eq!(
            subscribe_fix("edge target not subscribed", "alice", "c", "1 BIT"),
            None
        );
    }
}
