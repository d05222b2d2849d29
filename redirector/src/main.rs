//! Binary entry point for the redirect edge. Behaviour lives in the library.

fn main() -> anyhow::Result<()> {
    redirector::telemetry::init();
    let config = redirector::Config::from_source(&shared::config::Env)?; // before any port opens
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(worker_threads) = config.worker_threads {
        runtime.worker_threads(worker_threads);
    }
    runtime.enable_all().build()?.block_on(async {
        let server = redirector::Server::bind(config).await?;
        tracing::info!(addr = %server.local_addr(), "redirector listening");
        server.run(redirector::shutdown_signal()).await
    })
}
