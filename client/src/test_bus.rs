//! A D-Bus session bus of a test's own (`dbus-daemon`, package `dbus-daemon`), optionally with
//! gnome-keyring (package `gnome-keyring`) as the Secret Service on it: the bus starts it when
//! it is first asked for, with a new login keyring unlocked by a password on its standard
//! input, in a home folder of the test's own. Nothing on the user's own bus is touched.
//!
//! When a program is missing the test is skipped with a message saying so; with `CI` set it
//! fails instead.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

pub struct PrivateBus {
    daemon: Child,
    /// Where to connect, as `unix:path=…`.
    pub address: String,
    _dir: tempfile::TempDir,
}

impl PrivateBus {
    /// A bus where no service runs.
    pub fn start() -> Option<Self> {
        Self::launch(false)
    }

    /// A bus where gnome-keyring answers as `org.freedesktop.secrets`, its default collection
    /// (`login`) unlocked.
    pub fn with_keyring() -> Option<Self> {
        if !installed("gnome-keyring-daemon", "gnome-keyring") {
            return None;
        }
        Self::launch(true)
    }

    fn launch(keyring: bool) -> Option<Self> {
        if !installed("dbus-daemon", "dbus-daemon") {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let services = dir.path().join("services");
        let runtime = dir.path().join("run");
        for folder in [&services, &runtime] {
            std::fs::create_dir(folder).expect("a folder for the bus");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).expect("private");
        }
        if keyring {
            // `--unlock` reads the password of the new login keyring from standard input.
            std::fs::write(
                services.join("org.freedesktop.secrets.service"),
                "[D-BUS Service]\nName=org.freedesktop.secrets\nExec=/bin/sh -c \"printf kith-test | exec \
                 gnome-keyring-daemon --unlock --components=secrets --foreground\"\n",
            )
            .expect("write the keyring's service file");
        }
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:path={}</listen><auth>EXTERNAL</auth>\
                 <servicedir>{}</servicedir>\
                 <policy context=\"default\"><allow send_destination=\"*\"/><allow eavesdrop=\"true\"/>\
                 <allow own=\"*\"/></policy></busconfig>\n",
                dir.path().join("bus").display(),
                services.display(),
            ),
        )
        .expect("write the bus configuration");
        // What the bus starts inherits this: a home and data folders of the test's own.
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address"])
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        let mut address = String::new();
        let stdout = daemon.stdout.take().expect("the daemon's output");
        std::io::BufReader::new(stdout).read_line(&mut address).expect("the bus address");
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "the daemon printed its address: {address:?}");
        Some(Self { daemon, address, _dir: dir })
    }

    /// Locks the keyring's default collection, as the desktop does when the screen locks:
    /// unlocking it again would ask the user for the password.
    #[cfg(all(unix, not(target_os = "macos")))]
    pub async fn lock_keyring(&self) {
        use zbus::zvariant::OwnedObjectPath;
        let connection = zbus::connection::Builder::address(self.address.as_str())
            .expect("the bus address")
            .build()
            .await
            .expect("connect to the test bus");
        let service = Some("org.freedesktop.secrets");
        let interface = Some("org.freedesktop.Secret.Service");
        let reply = connection
            .call_method(service, "/org/freedesktop/secrets", interface, "ReadAlias", &("default",))
            .await
            .expect("ReadAlias");
        let collection: OwnedObjectPath = reply.body().deserialize().expect("a collection");
        let reply = connection
            .call_method(service, "/org/freedesktop/secrets", interface, "Lock", &(vec![collection],))
            .await
            .expect("Lock");
        let (locked, prompt): (Vec<OwnedObjectPath>, OwnedObjectPath) =
            reply.body().deserialize().expect("locked");
        assert_eq!((locked.len(), prompt.as_str()), (1, "/"), "locked without a prompt");
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        // gnome-keyring leaves with its bus.
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// Whether `program` (from the Debian package `package`) can be run; says so when it cannot,
/// and fails the test in CI.
fn installed(program: &str, package: &str) -> bool {
    if Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok() {
        return true;
    }
    if std::env::var("CI").is_ok() {
        panic!("{program} is not installed: CI must run this test (apt-get install {package})");
    }
    eprintln!("SKIPPED: {program} is not installed (apt-get install {package})");
    false
}
