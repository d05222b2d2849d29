//! Binary entry point of the management tier. Behaviour lives in the library.
//!
//! `management-api` serves; `management-api resync` rebuilds every link record in Redis from SQL.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    redirector::telemetry::init();
    let config = management_api::Config::from_source(&shared::config::Env)?; // before any port opens
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => {
            let app = management_api::App::bind(config).await?;
            tracing::info!(addr = %app.local_addr(), "management API listening");
            app.run(redirector::shutdown_signal()).await
        }
        Some("resync") => {
            let n_links = management_api::app::resync(&config)
                .await
                .context("resync failed")?;
            println!("resynced {n_links} link records");
            Ok(())
        }
        Some(other) => anyhow::bail!("unknown command {other:?}; expected `serve` or `resync`"),
    }
}
