//! A minimal HTTP/1.1 client: one keep-alive hyper connection per [`Conn`], so the
//! load generator knows exactly how many connections it holds.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, IF_NONE_MATCH};
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// A request the harness sends: everything is owned so workloads can build them
/// ahead of time and clone them cheaply.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: Method,
    pub path: Arc<str>,
    pub body: Option<Bytes>,
    pub if_none_match: Option<HeaderValue>,
    /// An `Idempotency-Key` to send (a write row measuring what keeping answers costs).
    pub idempotency_key: Option<HeaderValue>,
    /// An `If-Match` to send (a compare-and-swap write row).
    pub if_match: Option<HeaderValue>,
}

impl Req {
    pub fn get(path: impl Into<Arc<str>>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            body: None,
            if_none_match: None,
            idempotency_key: None,
            if_match: None,
        }
    }

    /// A POST without a body (activate, rollback).
    pub fn post_empty(path: impl Into<Arc<str>>) -> Self {
        Self {
            method: Method::POST,
            ..Self::get(path)
        }
    }

    pub fn post(path: impl Into<Arc<str>>, body: &Value) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            body: Some(Bytes::from(body.to_string())),
            if_none_match: None,
            idempotency_key: None,
            if_match: None,
        }
    }
}

/// What came back: status, headers and the whole body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("answer is not JSON: {e}"))
    }

    /// The JSON body of a 2xx answer, or an error naming the request.
    pub fn expect_json(self, what: &str) -> Result<Value, String> {
        if !self.status.is_success() {
            return Err(format!(
                "{what}: {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            ));
        }
        self.json()
    }
}

/// One keep-alive HTTP/1.1 connection to one server.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    authorization: Option<HeaderValue>,
}

impl Conn {
    pub async fn open(addr: SocketAddr, token: Option<&str>) -> Result<Self, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("set TCP_NODELAY: {e}"))?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {addr}: {e}"))?;
        tokio::spawn(connection);
        let authorization = token
            .map(|t| HeaderValue::from_str(&format!("Bearer {t}")))
            .transpose()
            .map_err(|e| format!("token is not a header value: {e}"))?;
        Ok(Self {
            sender,
            authorization,
        })
    }

    pub async fn send(&mut self, req: &Req) -> Result<Answer, String> {
        let mut builder = Request::builder()
            .method(req.method.clone())
            .uri(&*req.path)
            .header(HOST, "127.0.0.1");
        if let Some(auth) = &self.authorization {
            builder = builder.header(AUTHORIZATION, auth.clone());
        }
        if let Some(tag) = &req.if_none_match {
            builder = builder.header(IF_NONE_MATCH, tag.clone());
        }
        if let Some(key) = &req.idempotency_key {
            builder = builder.header("idempotency-key", key.clone());
        }
        if let Some(tag) = &req.if_match {
            builder = builder.header("if-match", tag.clone());
        }
        let body = match &req.body {
            Some(body) => {
                builder = builder.header(CONTENT_TYPE, "application/json");
                Full::new(body.clone())
            }
            None => Full::new(Bytes::new()),
        };
        let request = builder
            .body(body)
            .map_err(|e| format!("building {} {}: {e}", req.method, req.path))?;
        self.sender
            .ready()
            .await
            .map_err(|e| format!("connection lost: {e}"))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("{} {}: {e}", req.method, req.path))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("reading the answer to {} {}: {e}", req.method, req.path))?
            .to_bytes();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}
