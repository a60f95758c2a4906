//! `kith-server [--config PATH]`: starts the server and runs until SIGINT or SIGTERM.
//! SIGHUP reloads the TLS certificate and key.

use anyhow::Context;
use kith_server::Server;
use kith_server::config::Config;
use std::path::PathBuf;

const USAGE: &str = "usage: kith-server [--config PATH]\n\n\
Reads PATH (default: ./server.conf if it exists) and then KITH_* environment variables,\n\
e.g. KITH_HTTP_PORT=0 KITH_DATABASE_URL=postgres://... kith-server";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    let config_path = parse_args()?;
    let config = Config::load(config_path.as_deref(), std::env::vars())?;
    let server = Server::start(config).await.context("starting kith-server")?;
    println!("kith-server: HTTP on {}, socket on {}", server.http_addr, server.socket_addr);
    run_until_signal(&server).await;
    server.shutdown().await;
    Ok(())
}

fn parse_args() -> anyhow::Result<Option<PathBuf>> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => {
                path = Some(PathBuf::from(args.next().context("--config needs a path")?));
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown argument '{other}'\n{USAGE}"),
        }
    }
    let default = PathBuf::from("server.conf");
    Ok(path.or_else(|| default.exists().then_some(default)))
}

/// Waits for SIGINT or SIGTERM; on SIGHUP reloads the TLS certificate and carries on.
async fn run_until_signal(server: &Server) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hangup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup()))
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return,
                _ = term.recv() => return,
                _ = hangup.recv() => {
                    // Logged either way; a failure keeps the certificate in use.
                    if let Ok(None) = server.reload_tls() {
                        tracing::info!("SIGHUP: no TLS certificate to reload");
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = server;
        let _ = tokio::signal::ctrl_c().await;
    }
}
