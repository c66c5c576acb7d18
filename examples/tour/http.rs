//! Plumbing for the tour: real servers on 127.0.0.1:0 and a real HTTP client.
#![allow(dead_code)] // each tour stop uses a different part

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

/// The tour's error type.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Serves an axum router on 127.0.0.1:0 until the tour exits.
pub async fn serve(app: axum::Router) -> Result<SocketAddr, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

/// A response read to the end.
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

impl Reply {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request and reads the whole response.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &'static str,
) -> Result<Reply, Error> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes())?)
        .uri(format!("http://{addr}{target}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = client
        .request(req.body(Full::new(Bytes::from_static(body.as_bytes())))?)
        .await?;
    let (parts, body) = res.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// Prints a request and its response the way the tour shows them.
pub fn show(what: &str, method: &str, target: &str, reply: &Reply) {
    println!("  {what}");
    println!("    > {method} {target}");
    println!("    < {} {}", reply.status.as_u16(), reply.text());
}

/// Prints a section heading.
pub fn heading(title: &str) {
    println!("\n== {title} ==");
}
