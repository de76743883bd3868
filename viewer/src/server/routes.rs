//! Routes: `GET /` (the page and its files) and `GET /api/state` (the JSON snapshot).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tracing::debug;

use super::assets::lookup;
use crate::poller::{read, SharedSnapshot};

/// Answers one request from the embedded files or the current snapshot.
pub fn respond(shared: &SharedSnapshot, method: &Method, path: &str) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, kind: &str, body: Bytes| {
        Response::builder()
            .status(status)
            .header(CONTENT_TYPE, kind)
            .header(CACHE_CONTROL, "no-store")
            .body(Full::new(body))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
    };
    if method != Method::GET && method != Method::HEAD {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            Bytes::from_static(b"only GET\n"),
        );
    }
    if path == "/api/state" {
        return match serde_json::to_vec(&read(shared)) {
            Ok(json) => reply(StatusCode::OK, "application/json", Bytes::from(json)),
            Err(e) => reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                Bytes::from(format!("cannot encode state: {e}\n")),
            ),
        };
    }
    match lookup(path) {
        Some((text, kind)) => reply(StatusCode::OK, kind, Bytes::from_static(text.as_bytes())),
        None => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"not found\n"),
        ),
    }
}

/// Serves connections accepted on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, shared: SharedSnapshot) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let response = respond(&shared, req.method(), req.uri().path());
                async move { Ok::<_, Infallible>(response) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                debug!("connection from {peer}: {e}");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Snapshot;
    use http_body_util::BodyExt;
    use std::sync::{Arc, RwLock};

    async fn body(r: Response<Full<Bytes>>) -> String {
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn serves_page_state_and_404() {
        let shared: SharedSnapshot = Arc::new(RwLock::new(Snapshot {
            contract: "bittensor".into(),
            ..Snapshot::default()
        }));
        let page = respond(&shared, &Method::GET, "/");
        assert_eq!(page.status(), StatusCode::OK);
        assert!(body(page).await.contains("id=\"graph\""));
        let state = respond(&shared, &Method::GET, "/api/state");
        assert_eq!(state.status(), StatusCode::OK);
        let json: serde_json::Value = serde_json::from_str(&body(state).await).unwrap();
        assert_eq!(json["contract"], "bittensor");
        assert_eq!(
            respond(&shared, &Method::GET, "/x").status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            respond(&shared, &Method::POST, "/api/state").status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}
