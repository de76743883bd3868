//! Asks every subscribed worker for its status at once, each with the client's timeout.

use serde::Serialize;

use super::status::{parse_status, WorkerStatus};
use crate::http_client::JsonClient;

/// One worker's answer, or why it is shown as down.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerReport {
    /// The node's account (from the metagraph).
    pub name: String,
    /// The status URL asked.
    pub url: String,
    /// Whether it answered with a JSON object.
    pub up: bool,
    /// Why it is down, when it is.
    pub error: Option<String>,
    /// What it reported.
    pub status: WorkerStatus,
}

/// The status URL of a worker serving on `address:port` (IPv6 literals bracketed).
pub fn status_url(address: &str, port: u16) -> String {
    let host = address
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/');
    if host.contains(':') && !host.starts_with('[') {
        format!("http://[{host}]:{port}/status")
    } else {
        format!("http://{host}:{port}/status")
    }
}

/// Fetches `(name, address, port)` workers concurrently; order of the answer follows the input.
pub async fn fetch_all(
    client: &JsonClient,
    workers: &[(String, String, u16)],
) -> Vec<WorkerReport> {
    let tasks: Vec<_> = workers
        .iter()
        .map(|(name, address, port)| {
            let client = client.clone();
            let name = name.clone();
            let url = status_url(address, *port);
            tokio::spawn(async move {
                let outcome = client
                    .get(&url)
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|v| parse_status(&v));
                match outcome {
                    Ok(status) => WorkerReport {
                        name,
                        url,
                        up: true,
                        error: None,
                        status,
                    },
                    Err(error) => WorkerReport {
                        name,
                        url,
                        up: false,
                        error: Some(error),
                        status: WorkerStatus::default(),
                    },
                }
            })
        })
        .collect();
    let mut reports = Vec::with_capacity(tasks.len());
    for (task, (name, address, port)) in tasks.into_iter().zip(workers) {
        reports.push(task.await.unwrap_or_else(|e| WorkerReport {
            name: name.clone(),
            url: status_url(address, *port),
            up: false,
            error: Some(format!("status task failed: {e}")),
            status: WorkerStatus::default(),
        }));
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_status_urls() {
        assert_eq!(
            status_url("127.0.0.1", 9001),
            "http://127.0.0.1:9001/status"
        );
        assert_eq!(status_url("http://host/", 80), "http://host:80/status");
        assert_eq!(status_url("::1", 5), "http://[::1]:5/status");
    }

    #[tokio::test]
    async fn unreachable_worker_is_down_not_an_error() {
        // Bind then drop a listener: the port is free and nothing answers there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = JsonClient::new(std::time::Duration::from_secs(2));
        let reports = fetch_all(&client, &[("alice".into(), "127.0.0.1".into(), port)]).await;
        assert_eq!(reports.len(), 1);
        assert!(!reports[0].up);
        assert!(reports[0].error.as_deref().unwrap_or("").contains("failed"));
    }
}
