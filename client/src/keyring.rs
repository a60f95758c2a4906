//! The OS keyring: a freedesktop Secret Service (`org.freedesktop.secrets`, as gnome-keyring,
//! KeePassXC or KWallet provide it) on the session bus, holding one secret per server and user.
//!
//! Only the part of the Secret Service API that staying signed in needs: a "plain" session
//! (the secret travels over the user's own bus), items in the default collection (alias
//! `default`) with the attributes `application=kith`, `server=<host_port>` and
//! `username=<name>`, created with *replace*, found with `SearchItems` and removed with
//! `Item.Delete`.
//!
//! Nothing here ever asks the user anything: when there is no default collection, or the
//! collection or an item is locked and unlocking it would show a prompt, the keyring counts as
//! unavailable ([`KeyringError::Locked`]) and the caller keeps the secret elsewhere. Every
//! operation ends within [`ANSWER`]; a bus or service that misbehaves gives an error, never a
//! panic. The operations run in the order they were asked for, so a token forgotten at log out
//! cannot come back after the next login kept a new one.

use std::sync::Arc;
use std::time::Duration;

/// How long one operation (connecting, and every call it makes) may take. The service may be
/// started for the first call.
pub const ANSWER: Duration = Duration::from_secs(3);

/// Where secrets are kept, or that none are. Clones share one queue of operations.
#[derive(Debug, Clone, Default)]
pub struct Keyring(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    bus: Bus,
    /// Taken for each operation, so they happen one after the other, in order.
    order: tokio::sync::Mutex<()>,
}

#[derive(Debug, Clone, Default)]
enum Bus {
    /// No keyring: every operation says so at once.
    #[default]
    None,
    /// The user's session bus.
    Session,
    /// The bus at this address (tests start a bus of their own).
    #[cfg_attr(not(test), allow(dead_code))]
    Address(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// No keyring is used here (none was asked for, or the platform has no Secret Service).
    #[error("no keyring is used")]
    None,
    /// There is no default collection, or it (or the item) is locked and unlocking it would
    /// ask the user.
    #[error("the keyring is locked, or has no default collection")]
    Locked,
    /// There is no session bus, or no Secret Service runs on it.
    #[error("there is no keyring on the session bus: {0}")]
    Absent(String),
    /// No answer within [`ANSWER`].
    #[error("the keyring did not answer in time")]
    Timeout,
    /// The service answered with an error, or with something the API does not say.
    #[error("the keyring cannot be used: {0}")]
    Service(String),
    /// The secret kept is not a token this client wrote.
    #[error("the secret kept in the keyring is not text")]
    NotText,
}

impl Keyring {
    /// The Secret Service on the user's session bus.
    pub fn session() -> Self {
        Self(Arc::new(Inner { bus: Bus::Session, ..Inner::default() }))
    }

    /// The Secret Service on the bus at `address` (a D-Bus address such as `unix:path=…`).
    #[cfg(test)]
    pub fn at(address: &str) -> Self {
        Self(Arc::new(Inner { bus: Bus::Address(address.to_owned()), ..Inner::default() }))
    }

    /// Keeps `secret` for `username` on `server`, replacing what was kept for that user there
    /// (other users' secrets on the same server stay).
    pub async fn store(&self, server: &str, username: &str, secret: &str) -> Result<(), KeyringError> {
        self.run(async |service| service::store(service, server, username, secret).await).await
    }

    /// The secret kept for `username` on `server`, if there is one.
    pub async fn find(&self, server: &str, username: &str) -> Result<Option<String>, KeyringError> {
        self.run(async |service| service::find(service, server, username).await).await
    }

    /// Forgets the secret kept for `username` on `server` (nothing happens when there is none).
    pub async fn forget(&self, server: &str, username: &str) -> Result<(), KeyringError> {
        self.run(async |service| service::forget(service, server, username).await).await
    }

    /// Runs one operation on the service, after those asked for before it, within [`ANSWER`].
    async fn run<T>(
        &self,
        operation: impl AsyncFnOnce(&service::Service) -> Result<T, KeyringError>,
    ) -> Result<T, KeyringError> {
        let _turn = self.0.order.lock().await;
        let address = match &self.0.bus {
            Bus::None => return Err(KeyringError::None),
            Bus::Session => None,
            Bus::Address(address) => Some(address.as_str()),
        };
        let work = async {
            let service = service::Service::open(address).await?;
            let result = operation(&service).await;
            service.close().await;
            result
        };
        tokio::time::timeout(ANSWER, work).await.unwrap_or(Err(KeyringError::Timeout))
    }
}

/// The Secret Service calls.
#[cfg(all(unix, not(target_os = "macos")))]
mod service {
    use super::KeyringError;
    use std::collections::HashMap;
    use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

    const NAME: &str = "org.freedesktop.secrets";
    const PATH: &str = "/org/freedesktop/secrets";
    const SERVICE: &str = "org.freedesktop.Secret.Service";
    const COLLECTION: &str = "org.freedesktop.Secret.Collection";
    const ITEM: &str = "org.freedesktop.Secret.Item";
    const SESSION: &str = "org.freedesktop.Secret.Session";
    /// The object path that stands for "none" (no collection, no prompt needed).
    const NONE: &str = "/";

    /// A secret as the API carries it: session, parameters, value, content type.
    type Secret = (OwnedObjectPath, Vec<u8>, Vec<u8>, String);

    impl From<zbus::Error> for KeyringError {
        fn from(err: zbus::Error) -> Self {
            match &err {
                zbus::Error::MethodError(name, _, _)
                    if matches!(
                        name.as_str(),
                        "org.freedesktop.DBus.Error.ServiceUnknown"
                            | "org.freedesktop.DBus.Error.NameHasNoOwner"
                    ) =>
                {
                    KeyringError::Absent(err.to_string())
                }
                _ => KeyringError::Service(err.to_string()),
            }
        }
    }

    impl From<zbus::zvariant::Error> for KeyringError {
        fn from(err: zbus::zvariant::Error) -> Self {
            KeyringError::Service(err.to_string())
        }
    }

    /// A connection to the service with an open session.
    pub struct Service {
        connection: zbus::Connection,
        session: OwnedObjectPath,
    }

    impl Service {
        /// Connects to the session bus (or the bus at `address`) and opens a plain session.
        pub async fn open(address: Option<&str>) -> Result<Self, KeyringError> {
            let connected = match address {
                Some(address) => match zbus::connection::Builder::address(address) {
                    Ok(builder) => builder.build().await,
                    Err(err) => Err(err),
                },
                None => zbus::Connection::session().await,
            };
            let connection = connected.map_err(|err| KeyringError::Absent(err.to_string()))?;
            let reply = connection
                .call_method(Some(NAME), PATH, Some(SERVICE), "OpenSession", &("plain", Value::from("")))
                .await?;
            let (_, session): (OwnedValue, OwnedObjectPath) = reply.body().deserialize()?;
            Ok(Self { connection, session })
        }

        /// Closes the session (the service drops it with the connection anyway).
        pub async fn close(&self) {
            if let Err(err) = self.call(&self.session, SESSION, "Close", &()).await {
                tracing::debug!(%err, "cannot close the keyring session");
            }
        }

        async fn call<B>(
            &self,
            path: &str,
            interface: &str,
            method: &str,
            body: &B,
        ) -> Result<zbus::Message, KeyringError>
        where
            B: serde::Serialize + zbus::zvariant::DynamicType,
        {
            Ok(self.connection.call_method(Some(NAME), path, Some(interface), method, body).await?)
        }

        /// The items whose attributes include `attributes`: (unlocked, locked).
        async fn search(
            &self,
            attributes: &HashMap<&str, &str>,
        ) -> Result<(Vec<OwnedObjectPath>, Vec<OwnedObjectPath>), KeyringError> {
            let reply = self.call(PATH, SERVICE, "SearchItems", &(attributes,)).await?;
            Ok(reply.body().deserialize()?)
        }

        /// Unlocks `objects` where that needs no prompt; [`KeyringError::Locked`] where it would.
        async fn unlock(&self, objects: &[OwnedObjectPath]) -> Result<(), KeyringError> {
            if objects.is_empty() {
                return Ok(());
            }
            let reply = self.call(PATH, SERVICE, "Unlock", &(objects,)).await?;
            let (_, prompt): (Vec<OwnedObjectPath>, OwnedObjectPath) = reply.body().deserialize()?;
            if prompt.as_str() == NONE { Ok(()) } else { Err(KeyringError::Locked) }
        }

        async fn delete(&self, item: &OwnedObjectPath) -> Result<(), KeyringError> {
            let reply = self.call(item, ITEM, "Delete", &()).await?;
            let prompt: OwnedObjectPath = reply.body().deserialize()?;
            if prompt.as_str() == NONE { Ok(()) } else { Err(KeyringError::Locked) }
        }
    }

    fn attributes<'a>(server: &'a str, username: &'a str) -> HashMap<&'a str, &'a str> {
        HashMap::from([("application", "kith"), ("server", server), ("username", username)])
    }

    pub async fn store(
        service: &Service,
        server: &str,
        username: &str,
        secret: &str,
    ) -> Result<(), KeyringError> {
        let reply = service.call(PATH, SERVICE, "ReadAlias", &("default",)).await?;
        let collection: OwnedObjectPath = reply.body().deserialize()?;
        if collection.as_str() == NONE {
            // Making one would ask the user for a password.
            return Err(KeyringError::Locked);
        }
        service.unlock(std::slice::from_ref(&collection)).await?;
        let label = format!("Kith: {username} on {server}");
        let properties: HashMap<&str, Value<'_>> = HashMap::from([
            ("org.freedesktop.Secret.Item.Label", Value::from(label)),
            ("org.freedesktop.Secret.Item.Attributes", Value::from(attributes(server, username))),
        ]);
        let secret: Secret = (
            service.session.clone(),
            Vec::new(),
            secret.as_bytes().to_vec(),
            "text/plain; charset=utf8".into(),
        );
        let reply = service.call(&collection, COLLECTION, "CreateItem", &(properties, secret, true)).await?;
        // *Replace*: the item with the same attributes (this user on this server) is updated.
        let (item, _prompt): (OwnedObjectPath, OwnedObjectPath) = reply.body().deserialize()?;
        if item.as_str() == NONE {
            return Err(KeyringError::Locked);
        }
        Ok(())
    }

    pub async fn find(
        service: &Service,
        server: &str,
        username: &str,
    ) -> Result<Option<String>, KeyringError> {
        let (unlocked, locked) = service.search(&attributes(server, username)).await?;
        let item = match (unlocked.into_iter().next(), locked.into_iter().next()) {
            (Some(item), _) => item,
            (None, Some(item)) => {
                service.unlock(std::slice::from_ref(&item)).await?;
                item
            }
            (None, None) => return Ok(None),
        };
        let reply = service.call(&item, ITEM, "GetSecret", &(&service.session,)).await?;
        let (secret,): (Secret,) = reply.body().deserialize()?;
        String::from_utf8(secret.2).map(Some).map_err(|_| KeyringError::NotText)
    }

    pub async fn forget(service: &Service, server: &str, username: &str) -> Result<(), KeyringError> {
        let (unlocked, locked) = service.search(&attributes(server, username)).await?;
        for item in &unlocked {
            service.delete(item).await?;
        }
        service.unlock(&locked).await?;
        for item in &locked {
            service.delete(item).await?;
        }
        Ok(())
    }
}

/// Where there is no Secret Service: no service is ever opened.
#[cfg(not(all(unix, not(target_os = "macos"))))]
mod service {
    use super::KeyringError;

    pub enum Service {}

    impl Service {
        pub async fn open(_address: Option<&str>) -> Result<Self, KeyringError> {
            Err(KeyringError::None)
        }

        pub async fn close(&self) {
            match *self {}
        }
    }

    pub async fn store(service: &Service, _: &str, _: &str, _: &str) -> Result<(), KeyringError> {
        match *service {}
    }

    pub async fn find(service: &Service, _: &str, _: &str) -> Result<Option<String>, KeyringError> {
        match *service {}
    }

    pub async fn forget(service: &Service, _: &str, _: &str) -> Result<(), KeyringError> {
        match *service {}
    }
}
