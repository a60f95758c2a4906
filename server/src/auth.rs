//! Credentials: account field rules, password hashing, bearer tokens and the failed-login
//! limiter.

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
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

/// A password hash could not be made.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("no random salt: {0}")]
    Random(#[from] getrandom::Error),
    #[error("argon2: {0}")]
    Argon2(#[from] argon2::Error),
    #[error("PHC string: {0}")]
    Phc(#[from] argon2::password_hash::Error),
    #[error("PHC string: {0}")]
    PhcField(#[from] argon2::password_hash::phc::Error),
}

/// Argon2id with the crate's default parameters (m=19456 KiB, t=2, p=1), as PHC strings.
///
/// A `Hasher` keeps the 19 MiB of argon2 blocks between hashes instead of allocating them for
/// each one: with glibc, a freed block that large raises the allocator's mmap threshold, after
/// which each hashing thread's arena kept copies of them (docs/performance.md, "Memory of
/// password hashing, continued"). Keep one `Hasher` per hashing thread; [`Passwords`] does.
#[derive(Debug, Default)]
pub struct Hasher {
    blocks: Vec<Block>,
}

impl Hasher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Hashes a password with a random 16-byte salt (slow: about 50 ms).
    pub fn hash(&mut self, password: &str) -> Result<String, HashError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt)?;
        let params = Params::default();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.run(&argon2, password.as_bytes(), &salt, &mut out)?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(Salt::new(&salt)?),
            hash: Some(Output::new(&out)?),
        };
        Ok(hash.to_string())
    }

    /// Checks a password against a stored PHC string, with the algorithm, version and
    /// parameters it names (slow). The outputs are compared in constant time.
    pub fn verify(&mut self, password: &str, stored: &str) -> bool {
        let Ok(hash) = PasswordHash::new(stored) else { return false };
        let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
        let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else { return false };
        let version = match hash.version.map(Version::try_from).transpose() {
            Ok(version) => version.unwrap_or_default(),
            Err(_) => return false,
        };
        // Sets the output length from the stored hash's.
        let Ok(params) = Params::try_from(&hash) else { return false };
        let argon2 = Argon2::new(algorithm, version, params);
        let mut out = [0u8; Output::MAX_LENGTH];
        let Some(out) = out.get_mut(..expected.len()) else { return false };
        if self.run(&argon2, password.as_bytes(), salt.as_ref(), out).is_err() {
            return false;
        }
        // `Output`'s equality is constant-time.
        Output::new(out).is_ok_and(|computed| computed == *expected)
    }

    /// Runs argon2 in the kept blocks (the default size; hashes with less memory use their
    /// beginning). A stored hash with more memory than the default (none made by this server)
    /// gets blocks of its own for that one call, so the kept buffer stays at the default size.
    fn run(
        &mut self,
        argon2: &Argon2<'_>,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> argon2::Result<()> {
        let count = argon2.params().block_count();
        let kept = Params::DEFAULT.block_count();
        if count > kept {
            let mut blocks = vec![Block::new(); count];
            return argon2.hash_password_into_with_memory(password, salt, out, &mut blocks[..]);
        }
        // Allocated once, at the default size, and never given back.
        if self.blocks.len() < kept {
            self.blocks = vec![Block::new(); kept];
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut self.blocks[..count])
    }
}

/// Runs password hashing on a few dedicated threads, each with its own [`Hasher`] (19 MiB of
/// argon2 blocks, allocated on its first hash and kept): the memory of hashing is at most the
/// number of threads times 19 MiB, however many logins. Tokio's blocking pool (up to hundreds
/// of threads) would leave a copy in each of its threads' allocator arenas.
#[derive(Debug)]
pub struct Passwords {
    jobs: std::sync::mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce(&mut Hasher) + Send>;

/// The hashing threads have stopped (the server is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("password hashing is not available")]
pub struct PasswordsStopped;

impl Passwords {
    /// Starts `threads` hashing threads; they end when this is dropped.
    pub fn new(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("kith-passwords-{i}")).spawn(move || {
                let mut hasher = Hasher::new();
                loop {
                    let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    match job {
                        Ok(job) => job(&mut hasher),
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
        work: impl FnOnce(&mut Hasher) -> T + Send + 'static,
    ) -> Result<T, PasswordsStopped> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |hasher: &mut Hasher| {
                let _ = done.send(work(hasher));
            }))
            .map_err(|_| PasswordsStopped)?;
        result.await.map_err(|_| PasswordsStopped)
    }

    /// [`Hasher::hash`] on a hashing thread.
    pub async fn hash(&self, password: String) -> Result<String, PasswordsStopped> {
        match self.run(move |hasher| hasher.hash(&password)).await? {
            Ok(hash) => Ok(hash),
            Err(err) => {
                tracing::error!(%err, "argon2 failed");
                Err(PasswordsStopped)
            }
        }
    }

    /// [`Hasher::verify`] on a hashing thread.
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, PasswordsStopped> {
        self.run(move |hasher| hasher.verify(&password, &stored)).await
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
        let mut hasher = Hasher::new();
        let hash = hasher.hash("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hasher.verify("correct horse", &hash));
        assert!(!hasher.verify("wrong horse", &hash));
        assert!(!hasher.verify("correct horse", "not a hash"));
        assert!(!hasher.verify("correct horse", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA"));
        assert!(!hasher.verify("correct horse", &hash.replacen("argon2id", "argon2x", 1)));
        // Same password, new salt, new hash.
        assert_ne!(hasher.hash("correct horse").expect("hash"), hash);
    }

    /// The kept blocks change nothing: hashes are the argon2 crate's own, both ways, whatever
    /// the buffer held before.
    #[test]
    fn hashes_match_the_argon2_crate_both_ways() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let reference = Argon2::default();
        let mut hasher = Hasher::new();
        for password in ["first password", "second password", "ünïcode pässword"] {
            let theirs = reference.hash_password(password.as_bytes()).expect("hash").to_string();
            assert!(hasher.verify(password, &theirs), "{theirs}");
            assert!(!hasher.verify("not it at all", &theirs));
            let ours = hasher.hash(password).expect("hash");
            let parsed = PasswordHash::new(&ours).expect("PHC string");
            assert!(reference.verify_password(password.as_bytes(), &parsed).is_ok(), "{ours}");
            assert!(reference.verify_password(b"not it at all", &parsed).is_err());
        }
    }

    /// Hashes stored with other parameters verify; one that needs more memory than the default
    /// does not make the kept buffer grow.
    #[test]
    fn other_parameters_verify_and_the_buffer_stays_bounded() {
        use argon2::PasswordHasher;
        let mut hasher = Hasher::new();
        for (m, t, p) in [(4096, 1, 1), (8192, 3, 2), (32768, 1, 1)] {
            let params = Params::new(m, t, p, None).expect("params");
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
            let stored = argon2.hash_password(b"other params").expect("hash").to_string();
            assert!(hasher.verify("other params", &stored), "{stored}");
            assert!(!hasher.verify("other param", &stored), "{stored}");
        }
        let argon2i =
            Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::new(4096, 1, 1, None).expect("params"));
        let stored = argon2i.hash_password(b"old style").expect("hash").to_string();
        assert!(hasher.verify("old style", &stored), "{stored}");
        assert!(!hasher.verify("old styles", &stored), "{stored}");
        assert_eq!(hasher.blocks.len(), Params::DEFAULT.block_count());
        hasher.hash("one more").expect("hash");
        assert_eq!(hasher.blocks.len(), Params::DEFAULT.block_count());
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
