//! Binary entry point for the redirect edge. Behaviour lives in the library.

fn main() -> anyhow::Result<()> {
    redirector::telemetry::init();
    let config = redirector::Config::from_source(&shared::config::Env)?; // before any port opens
    // Connections are served by the server's own worker threads; this runtime runs the click
    // writer, the invalidation subscriber and shutdown.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let server = redirector::Server::bind(config).await?;
            tracing::info!(addr = %server.local_addr(), "redirector listening");
            server.run(redirector::shutdown_signal()).await
        })
}
