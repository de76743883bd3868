//! Asks every subscribed worker for its status at once, each with the client's timeout.
//! An address the policy refuses is never dialled, and a worker answering under another
//! account's name is shown as down: its row points at a node that is not its own.

use bittensor_protocol::status::WorkerStatus;
use serde::Serialize;

use super::client::{status_url, StatusClient};

/// One worker's answer, or why it is shown as down.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerReport {
    /// The node's account (from the metagraph).
    pub name: String,
    /// The status URL asked, or the chain row's address when it was not dialled.
    pub url: String,
    /// Whether it answered with a valid status of its own.
    pub up: bool,
    /// Why it is down, when it is.
    pub error: Option<String>,
    /// What it reported, when it is up.
    #[serde(skip)]
    pub status: Option<WorkerStatus>,
}

impl WorkerReport {
    fn down(name: &str, url: String, error: String) -> Self {
        WorkerReport {
            name: name.to_string(),
            url,
            up: false,
            error: Some(error),
            status: None,
        }
    }
}

/// Fetches one worker: the policy gate, the status, and the identity check.
async fn fetch_one(client: StatusClient, name: String, address: String, port: u16) -> WorkerReport {
    let addr = match client.resolve(&address, port) {
        Ok(addr) => addr,
        Err(e) => return WorkerReport::down(&name, format!("{address}:{port}"), e.to_string()),
    };
    let url = status_url(addr);
    match client.status(addr).await {
        Ok(status) if status.identity != name => {
            let error = format!(
                "{url} answers as `{}`, not `{name}`: the chain row points at another node",
                status.identity
            );
            WorkerReport::down(&name, url, error)
        }
        Ok(status) => WorkerReport {
            name,
            url,
            up: true,
            error: None,
            status: Some(status),
        },
        Err(e) => WorkerReport::down(&name, url, e.to_string()),
    }
}

/// Fetches `(name, address, port)` workers concurrently; order of the answer follows the input.
pub async fn fetch_all(
    client: &StatusClient,
    workers: &[(String, String, u16)],
) -> Vec<WorkerReport> {
    let tasks: Vec<_> = workers
        .iter()
        .map(|(name, address, port)| {
            tokio::spawn(fetch_one(
                client.clone(),
                name.clone(),
                address.clone(),
                *port,
            ))
        })
        .collect();
    let mut reports = Vec::with_capacity(tasks.len());
    for (task, (name, address, port)) in tasks.into_iter().zip(workers) {
        reports.push(task.await.unwrap_or_else(|e| {
            WorkerReport::down(
                name,
                format!("{address}:{port}"),
                format!("status task failed: {e}"),
            )
        }));
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use bittensor_protocol::policy::AddressPolicy;
    use std::time::Duration;

    fn client(policy: AddressPolicy) -> StatusClient {
        StatusClient::new(Duration::from_secs(2), policy)
    }

    /// A bound loopback listener nobody accepts on, and whether anything connected to it.
    struct Trap(std::net::TcpListener);

    impl Trap {
        fn new() -> Self {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.set_nonblocking(true).unwrap();
            Trap(l)
        }
        fn port(&self) -> u16 {
            self.0.local_addr().unwrap().port()
        }
        fn dialled(&self) -> bool {
            self.0.accept().is_ok()
        }
    }

    #[tokio::test]
    async fn the_default_policy_never_dials_loopback_or_private_rows() {
        let trap = Trap::new();
        let rows = [
            ("alice".to_string(), "127.0.0.1".to_string(), trap.port()),
            ("bob".to_string(), "10.1.2.3".to_string(), 7001),
            ("carol".to_string(), "localhost".to_string(), trap.port()),
            ("dave".to_string(), "0.0.0.0".to_string(), trap.port()),
        ];
        let reports = fetch_all(&client(AddressPolicy::default()), &rows).await;
        assert!(!trap.dialled(), "a refused address was dialled");
        let errors: Vec<&str> = reports
            .iter()
            .map(|r| r.error.as_deref().unwrap_or(""))
            .collect();
        assert!(reports.iter().all(|r| !r.up && r.status.is_none()));
        assert!(errors[0].contains("allow_loopback"), "{}", errors[0]);
        assert!(errors[1].contains("allow_private"), "{}", errors[1]);
        assert!(errors[2].contains("not an IP literal"), "{}", errors[2]);
        assert!(errors[3].contains("never a peer"), "{}", errors[3]);
        assert!(
            errors.iter().all(|e| e.starts_with("not dialled")),
            "{errors:?}"
        );

        // Loopback allowed for a local testnet: private ranges still are not.
        let testnet = AddressPolicy {
            allow_loopback: true,
            allow_private: false,
            allow_link_local: false,
        };
        let reports = fetch_all(&client(testnet), &rows[1..2]).await;
        assert!(reports[0]
            .error
            .as_deref()
            .unwrap()
            .contains("allow_private"));
    }

    #[tokio::test]
    async fn an_allowed_but_unreachable_worker_is_down_not_an_error() {
        let port = Trap::new().port(); // dropped: nothing listens there any more
        let policy = AddressPolicy {
            allow_loopback: true,
            allow_private: false,
            allow_link_local: false,
        };
        let reports = fetch_all(
            &client(policy),
            &[("alice".into(), "127.0.0.1".into(), port)],
        )
        .await;
        assert_eq!(reports.len(), 1);
        assert!(!reports[0].up);
        assert_eq!(reports[0].url, format!("http://127.0.0.1:{port}/status"));
        assert!(reports[0].error.as_deref().unwrap_or("").contains("failed"));
    }

    #[test]
    fn status_urls_bracket_ipv6() {
        assert_eq!(
            status_url("127.0.0.1:9001".parse().unwrap()),
            "http://127.0.0.1:9001/status"
        );
        assert_eq!(
            status_url("[::1]:5".parse().unwrap()),
            "http://[::1]:5/status"
        );
    }
}
