//! `kith-server [--config PATH] [serve]`: starts the server and runs until SIGINT or SIGTERM.
//! `kith-server user|online|stats ...`: the operator's commands on the configured database
//! (see `kith_server::admin` and docs/operations.md, "Administration").
//! SIGHUP reloads the TLS certificate and key.

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use kith_server::Server;
use kith_server::admin::{self, Admin, OwnedGroups};
use kith_server::config::Config;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

/// The Kith server, and the operator's commands on its database.
///
/// Without a command it runs the server. The configuration is read from --config PATH (default:
/// ./server.conf if it exists) and then from KITH_* environment variables, e.g.
/// KITH_HTTP_PORT=0 KITH_DATABASE_URL=postgres://... kith-server. The other commands work on
/// the configured database whether or not the server is running; a running server applies
/// their effects within SESSION_CHECK_SECS.
#[derive(Debug, Parser)]
#[command(name = "kith-server", version)]
struct Cli {
    /// The configuration file (default: ./server.conf if it exists).
    #[arg(short, long, value_name = "PATH", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (what kith-server does without a command).
    Serve,
    /// Create, change, disable, enable, delete or list accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Who is connected to the running server(s).
    Online,
    /// Counts of accounts, groups, messages and uploads, and the database's size.
    Stats,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account.
    Add {
        /// 3-32 of a-z 0-9 _ . - beginning with a letter.
        username: String,
        /// The name others see (default: the user name).
        #[arg(long, value_name = "NAME")]
        display_name: Option<String>,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set a new password; the account's sessions end and its sockets are closed.
    Passwd {
        username: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Refuse the account's logins (account_disabled) and close its sessions.
    Disable { username: String },
    /// Let a disabled account log in again.
    Enable { username: String },
    /// Delete an account: its sessions, friendships, requests, group memberships, uploads and
    /// avatar go; its messages stay in history.
    Delete {
        username: String,
        /// What becomes of the groups the account owns; required when it owns any.
        #[arg(long, value_enum, value_name = "RULE")]
        owned_groups: Option<OwnedGroupsArg>,
    },
    /// List every account.
    List,
}

/// Where the password comes from: never from the command line, which others can see in `ps`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct PasswordSource {
    /// Read the password from the first line of standard input (not echoed on a terminal).
    #[arg(long)]
    password_stdin: bool,
    /// Make up a random 20-character password and print it.
    #[arg(long)]
    generate_password: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OwnedGroupsArg {
    /// Give each group to its longest-standing admin, else its longest-standing member
    /// (a group with no one else in it is dissolved).
    HandOver,
    /// Dissolve each group.
    Dissolve,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let serving = matches!(cli.command, None | Some(Command::Serve));
    let default_filter = if serving { "info,sqlx=warn" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();

    let default = PathBuf::from("server.conf");
    let config_path = cli.config.or_else(|| default.exists().then_some(default));
    let config = Config::load(config_path.as_deref(), std::env::vars())?;
    match cli.command {
        None | Some(Command::Serve) => serve(config).await,
        Some(command) => {
            let admin = Admin::open(config).await.context("opening the database")?;
            let result = run(&admin, command).await;
            admin.close().await;
            result
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let server = Server::start(config).await.context("starting kith-server")?;
    match server.metrics_addr {
        None => println!("kith-server: HTTP on {}, socket on {}", server.http_addr, server.socket_addr),
        Some(metrics) => println!(
            "kith-server: HTTP on {}, socket on {}, metrics on {metrics}",
            server.http_addr, server.socket_addr
        ),
    }
    run_until_signal(&server).await;
    server.shutdown().await;
    Ok(())
}

async fn run(admin: &Admin, command: Command) -> anyhow::Result<()> {
    match command {
        // `main` runs the server itself.
        Command::Serve => {}
        Command::Online => print!("{}", admin::online_table(&admin.online().await?)),
        Command::Stats => print!("{}", admin::stats_text(&admin.stats().await?)),
        Command::User(UserCommand::List) => print!("{}", admin::users_table(&admin.users().await?)),
        Command::User(UserCommand::Add { username, display_name, password }) => {
            let (password, generated) = password.read()?;
            let id = admin.add_user(&username, display_name.as_deref(), password.clone()).await?;
            println!("created account {} (id {id})", username.trim().to_lowercase());
            if generated {
                println!("password: {password}");
            }
        }
        Command::User(UserCommand::Passwd { username, password }) => {
            let (password, generated) = password.read()?;
            let ended = admin.set_password(&username, password.clone()).await?;
            println!("new password set for {username}; {ended} session(s) ended");
            if generated {
                println!("password: {password}");
            }
        }
        Command::User(UserCommand::Disable { username }) => {
            let ended = admin.disable(&username).await?;
            println!("disabled {username}; {ended} session(s) ended");
        }
        Command::User(UserCommand::Enable { username }) => {
            admin.enable(&username).await?;
            println!("enabled {username}");
        }
        Command::User(UserCommand::Delete { username, owned_groups }) => {
            let rule = owned_groups.map(|rule| match rule {
                OwnedGroupsArg::HandOver => OwnedGroups::HandOver,
                OwnedGroupsArg::Dissolve => OwnedGroups::Dissolve,
            });
            let deleted = admin.delete_user(&username, rule).await?;
            println!("deleted {username} (id {})", deleted.id);
            for (group, owner) in &deleted.handed_over {
                println!("group #{group} handed over to user id {owner}");
            }
            for group in &deleted.dissolved {
                println!("group #{group} dissolved");
            }
            println!("{} upload(s) removed", deleted.uploads_removed);
        }
    }
    Ok(())
}

impl PasswordSource {
    /// The password, and whether it was generated (and so must be shown).
    fn read(&self) -> anyhow::Result<(String, bool)> {
        if self.generate_password {
            return Ok((admin::generate_password().context("no randomness for a password")?, true));
        }
        let stdin = std::io::stdin();
        let terminal = stdin.is_terminal();
        if terminal {
            eprint!("password: ");
            let _ = std::io::stderr().flush();
            set_echo(false);
        }
        let mut line = String::new();
        let read = stdin.lock().read_line(&mut line);
        if terminal {
            set_echo(true);
            eprintln!();
        }
        read.context("reading the password from standard input")?;
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        anyhow::ensure!(!password.is_empty(), "no password on standard input");
        Ok((password.to_owned(), false))
    }
}

/// Turns the terminal's echo off or on with stty(1), best effort.
fn set_echo(on: bool) {
    let _ = std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status();
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
