//! `kith`, the Kith desktop client: reads its arguments, sets up logging and runs the app
//! (the `kith_client` library).

const USAGE: &str = "usage: kith [--version | --help]\n\n\
The Kith desktop client. Without arguments it opens its window: enter your server's address\n\
(e.g. 127.0.0.1:8000), then log in or create an account. RUST_LOG=debug logs more.";

fn main() -> iced::Result {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("--version" | "-V") => {
            println!("kith {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Some("--help" | "-h") => {
            println!("{USAGE}");
            return Ok(());
        }
        Some(other) => {
            eprintln!("kith: unknown argument '{other}'\n{USAGE}");
            std::process::exit(2);
        }
    }
    // The app logs under its library's name, `kith_client`.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,kith_client=info")),
        )
        .init();
    kith_client::run()
}
