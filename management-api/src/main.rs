//! Binary entry point of the management tier. Behaviour lives in the library; `--help` lists
//! the commands (serve, resync, admin).

use anyhow::Context;
use clap::Parser;
use management_api::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    redirector::telemetry::init();
    let config = management_api::Config::from_source(&shared::config::Env)?; // before any port opens
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = management_api::App::bind(config).await?;
            tracing::info!(addr = %app.local_addr(), "management API listening");
            app.run(redirector::shutdown_signal()).await
        }
        Command::Resync => {
            let n_links = management_api::app::resync(&config)
                .await
                .context("resync failed")?;
            println!("resynced {n_links} link records");
            Ok(())
        }
        Command::Admin(command) => management_api::cli::run_admin(&config, command).await,
    }
}
