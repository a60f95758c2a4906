//! Credentials: account field rules, password hashing, bearer tokens and the failed-login
//! limiter.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use kith_shared::ErrorCode;
use kith_shared::api::limits;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A rule broken by an account field, with a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub code: ErrorCode,
    pub message: String,
}

fn field_error(code: ErrorCode, message: impl Into<String>) -> FieldError {
    FieldError { code, message: message.into() }
}

/// User names: 3-32 of `a-z 0-9 _ . -`, beginning with a letter. Upper case is folded, so
/// `Alice` and `alice` are one name. Returns the name as stored.
pub fn normalize_username(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim().to_lowercase();
    let len = name.chars().count();
    if !(limits::USERNAME_MIN..=limits::USERNAME_MAX).contains(&len) {
        return Err(field_error(
            ErrorCode::InvalidUsername,
            format!("a user name has {} to {} characters", limits::USERNAME_MIN, limits::USERNAME_MAX),
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(field_error(ErrorCode::InvalidUsername, "a user name begins with a letter"));
    }
    if let Some(bad) =
        name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-')))
    {
        return Err(field_error(
            ErrorCode::InvalidUsername,
            format!("a user name may hold only letters a-z, digits, '_', '.' and '-', not {bad:?}"),
        ));
    }
    Ok(name)
}

/// Display names: 1-64 characters after trimming, no control characters.
pub fn normalize_display_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(field_error(ErrorCode::InvalidDisplayName, "the display name is empty"));
    }
    if name.chars().count() > limits::DISPLAY_NAME_MAX {
        return Err(field_error(
            ErrorCode::InvalidDisplayName,
            format!("a display name has at most {} characters", limits::DISPLAY_NAME_MAX),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(field_error(
            ErrorCode::InvalidDisplayName,
            "a display name may not hold control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Passwords: 8-256 bytes, anything else allowed.
pub fn check_password(password: &str) -> Result<(), FieldError> {
    if password.len() < limits::PASSWORD_MIN {
        return Err(field_error(
            ErrorCode::InvalidPassword,
            format!("a password has at least {} characters", limits::PASSWORD_MIN),
        ));
    }
    if password.len() > limits::PASSWORD_MAX {
        return Err(field_error(
            ErrorCode::InvalidPassword,
            format!("a password has at most {} bytes", limits::PASSWORD_MAX),
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id and a random salt (slow: call from `spawn_blocking`).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default().hash_password(password.as_bytes())?.to_string())
}

/// Checks a password against a stored hash (slow: call from `spawn_blocking`).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
        .unwrap_or(false)
}

/// Runs password hashing on a few dedicated threads. Each argon2 hash takes about 19 MiB;
/// confining hashing to the same few threads lets the allocator reuse that memory, where
/// Tokio's blocking pool (up to hundreds of threads) would leave a copy in each thread's arena.
#[derive(Debug)]
pub struct Passwords {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

/// The hashing threads have stopped (the server is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("password hashing is not available")]
pub struct PasswordsStopped;

impl Passwords {
    /// Starts `threads` hashing threads; they end when this is dropped.
    pub fn new(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let queue = std::sync::Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("kith-passwords-{i}")).spawn(move || {
                loop {
                    let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(err) = spawned {
                tracing::error!(%err, "cannot start a password hashing thread");
            }
        }
        Self { jobs }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordsStopped> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .map_err(|_| PasswordsStopped)?;
        result.await.map_err(|_| PasswordsStopped)
    }

    /// [`hash_password`] on a hashing thread.
    pub async fn hash(&self, password: String) -> Result<String, PasswordsStopped> {
        match self.run(move || hash_password(&password)).await? {
            Ok(hash) => Ok(hash),
            Err(err) => {
                tracing::error!(%err, "argon2 failed");
                Err(PasswordsStopped)
            }
        }
    }

    /// [`verify_password`] on a hashing thread.
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, PasswordsStopped> {
        self.run(move || verify_password(&password, &stored)).await
    }
}

/// A fresh bearer token: 32 random bytes as 64 hex digits.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

/// What the database keeps of a token: its SHA-256, in hex. The token has 256 random bits,
/// so a fast hash is enough.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Counts failed attempts per key in a fixed window; a key over its limit is refused until
/// its window ends.
#[derive(Debug)]
pub struct FailureLimiter {
    window: Duration,
    entries: Mutex<HashMap<String, (Instant, u32)>>,
}

impl FailureLimiter {
    pub fn new(window: Duration) -> Self {
        Self { window, entries: Mutex::new(HashMap::new()) }
    }

    /// True when `key` has `limit` or more failures in the current window.
    pub fn is_blocked(&self, key: &str, limit: u32) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).is_some_and(|(start, count)| start.elapsed() < self.window && *count >= limit)
    }

    /// Records one failure for `key`.
    pub fn record_failure(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        // Forget finished windows now and then so the map cannot grow without bound.
        if entries.len() > 10_000 {
            entries.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = entries.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Forgets `key` (after a successful login).
    pub fn clear(&self, key: &str) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        assert_eq!(normalize_username("  Alice_1 ").as_deref(), Ok("alice_1"));
        for bad in ["ab", "1abc", "a'; DROP TABLE users;--", "al ice", "ålice", "a\u{0}bc", &"a".repeat(33)]
        {
            let err = normalize_username(bad).expect_err(bad);
            assert_eq!(err.code, ErrorCode::InvalidUsername, "{bad}");
        }
    }

    #[test]
    fn display_names_refuse_control_characters_and_length() {
        assert_eq!(normalize_display_name(" Alice Liddell ").as_deref(), Ok("Alice Liddell"));
        assert!(normalize_display_name("  ").is_err());
        assert!(normalize_display_name("a\u{7}b").is_err());
        assert!(normalize_display_name(&"é".repeat(65)).is_err());
        assert!(normalize_display_name(&"é".repeat(64)).is_ok());
    }

    #[test]
    fn passwords_hash_and_verify() {
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(257)).is_err());
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[tokio::test]
    async fn the_pool_hashes_and_verifies() {
        let pool = Passwords::new(2);
        let hash = pool.hash("pool password".to_owned()).await.expect("hash");
        assert!(pool.verify("pool password".to_owned(), hash.clone()).await.expect("verify"));
        assert!(!pool.verify("other password".to_owned(), hash).await.expect("verify"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token().expect("token");
        let b = new_token().expect("token");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn limiter_blocks_after_limit_and_clears() {
        let limiter = FailureLimiter::new(Duration::from_secs(60));
        for _ in 0..3 {
            assert!(!limiter.is_blocked("k", 3));
            limiter.record_failure("k");
        }
        assert!(limiter.is_blocked("k", 3));
        assert!(!limiter.is_blocked("other", 3));
        limiter.clear("k");
        assert!(!limiter.is_blocked("k", 3));
    }
}
