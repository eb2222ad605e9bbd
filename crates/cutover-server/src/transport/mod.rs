//! The server's own accept loop over hyper (in place of `axum::serve`, which sets no
//! timer and no cap): every connection gets a header read timeout, a body read
//! timeout and an idle timeout ([`connection`]), at most `max_connections` are
//! served at once, and shutdown stops accepting, lets each connection finish what it
//! has, and drops what is left after the grace period. The whole-request deadline
//! for handlers is a router layer (`http::deadline`), not a transport matter.

pub mod body;
mod connection;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use crate::config::ConnectionLimits;
use crate::transport::connection::Accepted;

/// Serves `router` on `listener` until `stop` completes, then closes connections as
/// their exchanges finish, waiting at most `grace` before dropping the rest.
///
/// A connection beyond `limits.max_connections` is accepted but not read until a
/// place frees up (the ones after it wait in the kernel's listen backlog, costing
/// this process nothing); while one waits, idle keep-alive connections give their
/// places up.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()>,
    grace: Duration,
) {
    let places = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (crowded, crowded_watch) = watch::channel(false);
    let (closing, closing_watch) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = accept(&listener, &places, &crowded) => accepted,
        };
        // Finished connections leave the set here, so it never holds more than the cap.
        while connections.try_join_next().is_some() {}
        connections.spawn(connection::serve(
            accepted,
            router.clone(),
            limits,
            closing_watch.clone(),
            crowded_watch.clone(),
        ));
    }
    drop(listener);
    crowded.send_replace(false);
    closing.send_replace(true);
    let finished = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, finished).await.is_err() {
        tracing::warn!("shutdown grace period over; dropping remaining connections");
        connections.abort_all();
    }
}

/// The next connection, once it has a place under the cap.
async fn accept(
    listener: &TcpListener,
    places: &Arc<Semaphore>,
    crowded: &watch::Sender<bool>,
) -> Accepted {
    let (stream, peer) = loop {
        match listener.accept().await {
            Ok(accepted) => break accepted,
            Err(error) => pause_after(error).await,
        }
    };
    let permit = match places.clone().try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => wait_for_place(places, crowded).await,
    };
    Accepted {
        stream,
        peer,
        permit,
    }
}

async fn wait_for_place(
    places: &Arc<Semaphore>,
    crowded: &watch::Sender<bool>,
) -> OwnedSemaphorePermit {
    crowded.send_replace(true);
    let permit = places
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    crowded.send_replace(false);
    permit
}

/// What to do after a failed accept: a connection that failed before we took it is
/// skipped at once; anything else (out of file descriptors, say) is logged and
/// retried after a second, as `axum::serve` does, rather than spinning.
async fn pause_after(error: io::Error) {
    let connection_error = matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    );
    if !connection_error {
        tracing::error!(%error, "cannot accept a connection; retrying in 1 s");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// Handlers see the peer's address as `ConnectInfo<SocketAddr>`, exactly where
    /// `into_make_service_with_connect_info` would have put it.
    #[tokio::test]
    async fn handlers_see_the_peer_address() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            router,
            ConnectionLimits::default(),
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(1),
        ));
        let mut client = TcpStream::connect(addr).await.unwrap();
        let local = client.local_addr().unwrap();
        client
            .write_all(b"GET /peer HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer.ends_with(&local.to_string()),
            "{answer} (client {local})"
        );
        stop.send(()).unwrap();
        server.await.unwrap();
    }
}
