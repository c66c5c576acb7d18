//! The safeguard tour: every layer at work on a real HTTP server on 127.0.0.1.
//!
//! Run it with `cargo run --example tour`. It starts its servers on ephemeral ports, sends real
//! requests, prints what the client sees (and what the logs hold), and exits by itself.

mod authz;
mod csv;
mod detect;
mod errors;
mod http;
mod log;
mod policy;
mod redact;
mod stack;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), http::Error> {
    println!("safeguard tour: one policy, several layers, real HTTP on 127.0.0.1");
    policy::run().await?;
    detect::run().await?;
    authz::run().await?;
    redact::run().await?;
    csv::run().await?;
    errors::run().await?;
    log::run().await?;
    stack::run().await?;
    println!("\nTour finished.");
    Ok(())
}
