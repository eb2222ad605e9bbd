//! One accepted connection: hyper serves it (HTTP/1.1 or HTTP/2), and a watchdog
//! closes it when it waits too long for a request head (header read timeout) or,
//! between requests, for the next one (idle timeout).
//!
//! The watchdog sees the connection through [`Activity`]: the socket reports bytes
//! read, the service reports each exchange from its head to the last byte of its
//! answer ([`InFlight`]). Invariant: a connection with no exchange in flight always
//! has a deadline — `head_since + header_read_timeout` once bytes of a head (or,
//! for the first request, the accept) started the clock, else `idle_since +
//! idle_timeout`; a busy connection has none (the body read timeout and the request
//! deadline bound it instead).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::ConnectionLimits;
use crate::transport::body::{TimedBody, TrackedBody};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No exchange in flight. `head_since`: when the clock of the next head started.
    Waiting {
        idle_since: Instant,
        head_since: Option<Instant>,
    },
    Busy {
        in_flight: usize,
    },
}

/// Why the watchdog closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    HeaderRead,
    Idle,
    /// Idle while another connection waited for a place under the cap.
    Crowded,
}

/// What the watchdog knows about one connection.
pub(crate) struct Activity {
    phase: Mutex<Phase>,
    /// Woken when a deadline appears or moves.
    changed: Notify,
    limits: ConnectionLimits,
}

impl Activity {
    /// A connection just accepted: its first head is timed from now.
    pub(crate) fn new(limits: ConnectionLimits) -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Self {
            phase: Mutex::new(Phase::Waiting {
                idle_since: now,
                head_since: Some(now),
            }),
            changed: Notify::new(),
            limits,
        })
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        // A poisoned lock only means a panic elsewhere; the phase itself is a plain value.
        self.phase
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Bytes arrived: if the connection was idle, a head has begun.
    fn saw_bytes(&self) {
        let mut phase = self.phase();
        if let Phase::Waiting {
            head_since: head_since @ None,
            ..
        } = &mut *phase
        {
            *head_since = Some(Instant::now());
            drop(phase);
            self.changed.notify_one();
        }
    }

    /// A head has been read: the connection is busy until the answer is written.
    pub(crate) fn begin(self: &Arc<Self>) -> InFlight {
        let mut phase = self.phase();
        *phase = match *phase {
            Phase::Waiting { .. } => Phase::Busy { in_flight: 1 },
            Phase::Busy { in_flight } => Phase::Busy {
                in_flight: in_flight + 1,
            },
        };
        InFlight(self.clone())
    }

    fn end(&self) {
        let mut phase = self.phase();
        match *phase {
            Phase::Busy { in_flight } if in_flight > 1 => {
                *phase = Phase::Busy {
                    in_flight: in_flight - 1,
                }
            }
            _ => {
                *phase = Phase::Waiting {
                    idle_since: Instant::now(),
                    head_since: None,
                };
                drop(phase);
                self.changed.notify_one();
            }
        }
    }

    /// Whether the connection sits between requests with nothing of a next one yet.
    fn is_idle(&self) -> bool {
        matches!(
            *self.phase(),
            Phase::Waiting {
                head_since: None,
                ..
            }
        )
    }

    fn deadline(&self) -> Option<(Instant, Expiry)> {
        match *self.phase() {
            Phase::Waiting {
                head_since: Some(since),
                ..
            } => Some((since + self.limits.header_read_timeout, Expiry::HeaderRead)),
            Phase::Waiting { idle_since, .. } => {
                Some((idle_since + self.limits.idle_timeout, Expiry::Idle))
            }
            Phase::Busy { .. } => None,
        }
    }

    /// Completes when the connection has passed its deadline, or when it is idle
    /// while `crowded` says that another connection waits for a place.
    pub(crate) async fn expired(&self, crowded: &mut watch::Receiver<bool>) -> Expiry {
        loop {
            if *crowded.borrow_and_update() && self.is_idle() {
                return Expiry::Crowded;
            }
            let deadline = self.deadline();
            if let Some((at, why)) = deadline
                && at <= Instant::now()
            {
                return why;
            }
            let sleep = async {
                match deadline {
                    Some((at, _)) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = sleep => {}
                () = self.changed.notified() => {}
                // The sender lives as long as the server: an error cannot repeat.
                _ = crowded.changed() => {}
            }
        }
    }
}

/// One exchange in flight on a connection, from its head until its answer is
/// written (dropped with the answer's body).
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// The socket, reporting every read to the connection's [`Activity`].
struct WatchedIo {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.saw_bytes();
        }
        polled
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The service hyper calls for each request of one connection: it gives the request
/// the peer's address (`ConnectInfo<SocketAddr>`, as axum's own server does) and its
/// timed body, and marks the exchange in flight until its answer is written.
#[derive(Clone)]
pub(crate) struct ConnectionService {
    pub(crate) router: Router,
    pub(crate) peer: SocketAddr,
    pub(crate) activity: Arc<Activity>,
    pub(crate) body_read_timeout: Duration,
}

type ServiceFuture =
    Pin<Box<dyn Future<Output = Result<Response<TrackedBody<Body>>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<TrackedBody<Body>>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_flight = self.activity.begin();
        let mut request =
            request.map(|body| Body::new(TimedBody::new(body, self.body_read_timeout)));
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let router = self.router.clone();
        Box::pin(async move {
            let response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok(response.map(|body| TrackedBody::new(body, in_flight)))
        })
    }
}

/// Serves one connection until the client or the server ends it. `closing` turns
/// true when the server shuts down: the connection then finishes the exchanges it
/// has and closes. `crowded` is true while another connection waits for a place.
/// `_permit` is this connection's place under the cap, given back when this returns.
pub(crate) async fn serve(
    accepted: Accepted,
    router: Router,
    limits: ConnectionLimits,
    mut closing: watch::Receiver<bool>,
    mut crowded: watch::Receiver<bool>,
) {
    let Accepted {
        stream,
        peer,
        permit: _permit,
    } = accepted;
    let activity = Activity::new(limits);
    let io = TokioIo::new(WatchedIo {
        stream,
        activity: activity.clone(),
    });
    let service = ConnectionService {
        router,
        peer,
        activity: activity.clone(),
        body_read_timeout: limits.body_read_timeout,
    };
    let builder = auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            changed = closing.changed(), if !shutting_down => {
                if changed.is_err() || *closing.borrow() {
                    shutting_down = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
            why = activity.expired(&mut crowded) => {
                tracing::debug!(%peer, ?why, "closing a connection that waited too long");
                return;
            }
        }
    }
}

/// A connection with its place under the cap.
pub(crate) struct Accepted {
    pub(crate) stream: TcpStream,
    pub(crate) peer: SocketAddr,
    pub(crate) permit: OwnedSemaphorePermit,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            ..ConnectionLimits::default()
        }
    }

    fn uncrowded() -> watch::Receiver<bool> {
        // The sender is leaked so the receiver never sees it closed.
        let (sender, receiver) = watch::channel(false);
        std::mem::forget(sender);
        receiver
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_head_is_timed_from_the_accept() {
        let activity = Activity::new(limits());
        let started = Instant::now();
        assert_eq!(activity.expired(&mut uncrowded()).await, Expiry::HeaderRead);
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_connection_has_no_deadline_and_then_idles_until_the_idle_timeout() {
        let activity = Activity::new(limits());
        let exchange = activity.begin();
        let watchdog = tokio::spawn({
            let activity = activity.clone();
            async move { (activity.expired(&mut uncrowded()).await, Instant::now()) }
        });
        tokio::time::sleep(Duration::from_secs(300)).await;
        assert!(
            !watchdog.is_finished(),
            "a busy connection is never expired"
        );
        let answered = Instant::now();
        drop(exchange);
        let (why, at) = watchdog.await.unwrap();
        assert_eq!(
            (why, at - answered),
            (Expiry::Idle, Duration::from_secs(60))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_of_a_next_head_start_the_header_clock() {
        let activity = Activity::new(limits());
        drop(activity.begin());
        tokio::time::sleep(Duration::from_secs(5)).await;
        let first_byte = Instant::now();
        activity.saw_bytes();
        assert_eq!(activity.expired(&mut uncrowded()).await, Expiry::HeaderRead);
        assert_eq!(first_byte.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_stays_busy_until_its_last_exchange_ends() {
        let activity = Activity::new(limits());
        let (first, second) = (activity.begin(), activity.begin());
        drop(first);
        assert_eq!(activity.deadline(), None);
        drop(second);
        assert!(activity.is_idle());
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_gives_its_place_up_when_another_waits() {
        let activity = Activity::new(limits());
        let exchange = activity.begin();
        let (crowding, mut crowded) = watch::channel(true);
        let watchdog = tokio::spawn({
            let activity = activity.clone();
            async move { activity.expired(&mut crowded).await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!watchdog.is_finished(), "a busy connection keeps its place");
        drop(exchange);
        assert_eq!(watchdog.await.unwrap(), Expiry::Crowded);
        drop(crowding);
    }
}
