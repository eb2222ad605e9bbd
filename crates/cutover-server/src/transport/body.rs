//! The two bodies the transport wraps around each exchange: a request body that
//! fails once its read deadline passes (so a client trickling its body cannot hold a
//! handler), and a response body that keeps its connection counted as busy until
//! hyper has written the last byte.

use std::error::Error;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::transport::connection::InFlight;

/// The error a request body gives once its read deadline has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyReadTimeout {
    pub after: Duration,
}

impl fmt::Display for BodyReadTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} ms",
            self.after.as_millis()
        )
    }
}

impl Error for BodyReadTimeout {}

impl BodyReadTimeout {
    /// Finds a body read timeout in `error` or its sources (axum and
    /// http-body-util wrap body errors in their own).
    pub fn find(error: &(dyn Error + 'static)) -> Option<Self> {
        let mut current = Some(error);
        while let Some(error) = current {
            if let Some(timeout) = error.downcast_ref::<Self>() {
                return Some(*timeout);
            }
            current = error.source();
        }
        None
    }
}

/// A request body that must be read completely within `timeout` of the head.
pub struct TimedBody<B> {
    inner: B,
    deadline: Instant,
    timeout: Duration,
    /// Made the first time a read has to wait, so bodies that are already here
    /// (most of them) cost no timer.
    sleep: Option<Pin<Box<Sleep>>>,
    expired: bool,
}

impl<B> TimedBody<B> {
    pub fn new(inner: B, timeout: Duration) -> Self {
        Self {
            inner,
            deadline: Instant::now() + timeout,
            timeout,
            sleep: None,
            expired: false,
        }
    }
}

impl<B> Body for TimedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|result| result.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(sleep.as_mut().poll(cx));
        this.expired = true;
        Poll::Ready(Some(Err(Box::new(BodyReadTimeout {
            after: this.timeout,
        }))))
    }

    fn is_end_stream(&self) -> bool {
        self.expired || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that holds its connection's [`InFlight`] mark until hyper drops
/// it (after the last frame, or when the connection ends).
pub struct TrackedBody<B> {
    inner: B,
    _in_flight: InFlight,
}

impl<B> TrackedBody<B> {
    pub(crate) fn new(inner: B, in_flight: InFlight) -> Self {
        Self {
            inner,
            _in_flight: in_flight,
        }
    }
}

impl<B: Body + Unpin> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A body that never yields a frame, like a client that stopped sending.
    struct Stalled;

    impl Body for Stalled {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_at_its_deadline_and_axum_keeps_the_cause_findable() {
        let timeout = Duration::from_millis(500);
        let started = Instant::now();
        let body = axum::body::Body::new(TimedBody::new(Stalled, timeout));
        let error = axum::body::to_bytes(body, 1 << 20).await.unwrap_err();
        assert_eq!(started.elapsed(), timeout);
        assert_eq!(
            BodyReadTimeout::find(&error),
            Some(BodyReadTimeout { after: timeout })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_is_already_here_is_read_whole() {
        let inner = http_body_util::Full::new(Bytes::from_static(b"{}"));
        let body = TimedBody::new(inner, Duration::ZERO);
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"{}");
    }

    #[test]
    fn other_errors_are_not_timeouts() {
        let error = std::io::Error::other("reset");
        assert_eq!(BodyReadTimeout::find(&error), None);
    }
}
