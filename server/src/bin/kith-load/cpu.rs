//! CPU time of processes, from `/proc`: each node's, this generator's, and the shared
//! components' (the database server and NATS), found by their command names.

use std::collections::BTreeMap;

/// CPU seconds (user and system, all threads) of the process `pid` (a number, or `self`).
pub fn seconds_of(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces): utime and
    // stime are the 12th and 13th, in clock ticks of 1/100 s on Linux.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// A shared component whose processes this machine runs.
#[derive(Debug, Clone)]
pub enum Shared {
    /// PostgreSQL: the server's background processes and the connections to `database`
    /// (connections to other databases, say tests running beside, are left out).
    Postgres { database: String },
    /// MySQL or MariaDB: one process for everything.
    Mariadb,
    /// `nats-server` listening on `port`.
    Nats { port: String },
}

impl Shared {
    /// The component behind a `--database` URL; none for SQLite (inside the server).
    pub fn database(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        match scheme {
            "postgres" | "postgresql" => {
                let path = rest.split_once('/').map_or("", |(_, path)| path);
                let database = path.split('?').next().unwrap_or_default();
                Some(Self::Postgres { database: database.to_owned() })
            }
            "mysql" | "mariadb" => Some(Self::Mariadb),
            _ => None,
        }
    }

    /// The component behind a `--nats` URL.
    pub fn nats(url: &str) -> Self {
        let authority = url.split_once("://").map_or(url, |(_, rest)| rest);
        let authority = authority.split('/').next().unwrap_or_default();
        let port = authority.rsplit_once(':').map_or("4222", |(_, port)| port);
        Self::Nats { port: port.to_owned() }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Postgres { .. } => "PostgreSQL",
            Self::Mariadb => "MariaDB",
            Self::Nats { .. } => "NATS",
        }
    }

    /// Whether a process with this command name and command line is part of the component.
    fn owns(&self, comm: &str, args: &[String]) -> bool {
        match self {
            Self::Postgres { database } => {
                // A connection's process title is `postgres: [cluster: ]user database host(port) state`;
                // background processes' titles name no peer address.
                let line = args.join(" ");
                comm == "postgres" && (!line.contains('(') || args.iter().any(|a| a == database))
            }
            Self::Mariadb => comm == "mariadbd" || comm == "mysqld",
            Self::Nats { port } => {
                let named = args.iter().any(|a| a.starts_with("-p") || a.starts_with("--port"));
                comm == "nats-server"
                    && (args.iter().any(|a| a == port || a.ends_with(&format!(":{port}")))
                        || (!named && port == "4222"))
            }
        }
    }

    /// CPU seconds of each of the component's processes now; `None` when none runs here.
    pub fn sample(&self) -> Option<Sample> {
        let mut by_pid = BTreeMap::new();
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
            let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else { continue };
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { continue };
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .flat_map(|arg| {
                    String::from_utf8_lossy(arg).split(' ').map(str::to_owned).collect::<Vec<_>>()
                })
                .filter(|a| !a.is_empty())
                .collect();
            if self.owns(comm.trim(), &args)
                && let Some(seconds) = seconds_of(&pid.to_string())
            {
                by_pid.insert(pid, seconds);
            }
        }
        (!by_pid.is_empty()).then_some(Sample(by_pid))
    }
}

/// CPU seconds of a component's processes at one moment, by process id.
#[derive(Debug, Clone)]
pub struct Sample(BTreeMap<u32, f64>);

impl Sample {
    /// CPU seconds the component used from `self` to `later`: a process that started in
    /// between counts whole; one that ended in between is lost (its time is gone from /proc).
    pub fn until(&self, later: &Sample) -> f64 {
        later.0.iter().map(|(pid, after)| after - self.0.get(pid).copied().unwrap_or(0.0)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split(' ').filter(|a| !a.is_empty()).map(str::to_owned).collect()
    }

    #[test]
    fn postgres_counts_background_processes_and_the_runs_connections_only() {
        let pg = Shared::database("postgres://postgres@127.0.0.1:5432/kith_load?sslmode=disable").unwrap();
        assert!(pg.owns("postgres", &args("postgres: 15/main: walwriter")));
        assert!(pg.owns("postgres", &args("/usr/lib/postgresql/15/bin/postgres -D /var/lib/x")));
        assert!(pg.owns("postgres", &args("postgres: 15/main: postgres kith_load 127.0.0.1(4711) idle")));
        assert!(!pg.owns("postgres", &args("postgres: 15/main: postgres test 127.0.0.1(4712) idle")));
        assert!(!pg.owns("bash", &args("bash")));
    }

    #[test]
    fn nats_is_found_by_its_port() {
        let nats = Shared::nats("nats://127.0.0.1:4222");
        assert!(nats.owns("nats-server", &args("/usr/sbin/nats-server -a 127.0.0.1 -p 4222 -js")));
        assert!(nats.owns("nats-server", &args("nats-server")));
        assert!(!nats.owns("nats-server", &args("nats-server -p 41234")));
        assert!(Shared::database("sqlite://kith.db").is_none());
        assert!(matches!(Shared::database("mysql://root@127.0.0.1:3306/test"), Some(Shared::Mariadb)));
    }

    #[test]
    fn a_sample_counts_new_processes_whole_and_ended_ones_not() {
        let before = Sample(BTreeMap::from([(1, 1.0), (2, 5.0)]));
        let after = Sample(BTreeMap::from([(1, 1.5), (3, 0.25)]));
        assert_eq!(before.until(&after), 0.75);
    }
}
