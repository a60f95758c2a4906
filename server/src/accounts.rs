//! Accounts: register, log in and out, one's own profile and password. Logging in without
//! multi-device, logging out and changing the password end other sessions and kick their
//! sockets; a new display name is announced to everyone who shares a conversation. An account
//! the operator disabled (`crate::admin`) cannot log in.

use crate::app::App;
use crate::auth;
use crate::error::Refusal;
use crate::hub::KickWhich;
use crate::metrics::Login;
use crate::store::NewUser;
use crate::wire::profile_of;
use axum::http::StatusCode;
use kith_shared::api::{LoginResponse, UserProfile, limits};
use kith_shared::frame::KickReason;
use kith_shared::{ErrorCode, UserId};
use std::net::IpAddr;

/// Creates an account.
pub async fn register(
    app: &App,
    username: &str,
    display_name: &str,
    password: String,
) -> Result<UserProfile, Refusal> {
    let username = auth::normalize_username(username)?;
    let display_name = auth::normalize_display_name(display_name)?;
    auth::check_password(&password)?;
    let password_hash = app.passwords.hash(password).await.map_err(Refusal::internal)?;
    let new_user =
        NewUser { username: &username, display_name: &display_name, password_hash: &password_hash };
    let id = app.store.create_user(new_user).await.map_err(|err| {
        let message = format!("the user name '{username}' is taken");
        crate::error::on_unique(err, ErrorCode::UsernameTaken, &message)
    })?;
    Ok(UserProfile { id, username, display_name, avatar_url: None })
}

/// A hash to verify against when the account does not exist, so that the answer takes as
/// long as for a wrong password and does not tell which names exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$B5mI5x6B+Jt1FvNYKBeJFe2tU6mCQ3IiZ7XMuSbrPvI";

/// Checks the password and opens a session with a new bearer token. Without multi-device,
/// the account's other sessions end and their sockets are kicked.
pub async fn log_in(
    app: &App,
    username: &str,
    password: String,
    from: Option<IpAddr>,
) -> Result<LoginResponse, Refusal> {
    let username = username.trim().to_lowercase();
    let account_key = format!("user:{username}");
    let address_key = from.map(|ip| format!("addr:{ip}"));
    let config = &app.config;
    if app.login_failures.is_blocked(&account_key, config.login_failures_per_account)
        || address_key
            .as_deref()
            .is_some_and(|key| app.login_failures.is_blocked(key, config.login_failures_per_address))
    {
        app.metrics.login(Login::RateLimited);
        return Err(Refusal::new(
            ErrorCode::RateLimited,
            "too many failed logins; wait a minute and try again",
        ));
    }
    // A name no account can have (too long, a character outside the rules, such as the NUL
    // that PostgreSQL cannot even compare) is not looked up: the answer is the same.
    let user = match auth::normalize_username(&username) {
        Ok(name) => app.store.user_by_username(&name).await?,
        Err(_) => None,
    };
    let stored = user.as_ref().map_or(DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let verified = password.len() <= limits::PASSWORD_MAX
        && app.passwords.verify(password, stored).await.map_err(Refusal::internal)?;
    let Some(user) = user.filter(|_| verified) else {
        app.login_failures.record_failure(&account_key);
        if let Some(key) = &address_key {
            app.login_failures.record_failure(key);
        }
        app.metrics.login(Login::WrongCredentials);
        return Err(Refusal::new(ErrorCode::WrongCredentials, "wrong user name or password"));
    };
    app.login_failures.clear(&account_key);
    // Told only to someone who knows the password, so that it does not reveal the account.
    if user.disabled {
        app.metrics.login(Login::Disabled);
        return Err(Refusal::new(
            ErrorCode::AccountDisabled,
            "this account is disabled; ask the server's operator",
        ));
    }

    let token = auth::new_token().map_err(Refusal::internal)?;
    let token_hash = auth::token_hash(&token);
    if config.multi_device {
        app.store.create_session(&token_hash, user.id).await?;
    } else {
        app.store.create_only_session(&token_hash, user.id).await?;
        // A login of the same account at the same instant may have ended this session
        // already; then the other one is the session left, and this one kicks nothing.
        if app.store.session_user(&token_hash).await?.is_some() {
            app.hub.kick(
                user.id,
                KickWhich::Replaced(&token_hash),
                KickReason::LoggedInElsewhere,
                "this account logged in elsewhere",
            );
        }
    }
    app.metrics.login(Login::Ok);
    Ok(LoginResponse { token, user: profile_of(&user) })
}

/// Revokes the session; its socket is closed.
pub async fn log_out(app: &App, user_id: UserId, token_hash: &str) -> Result<(), Refusal> {
    app.store.delete_session(token_hash).await?;
    app.hub.kick(user_id, KickWhich::Token(token_hash), KickReason::LoggedOut, "logged out");
    Ok(())
}

/// The caller's own profile.
pub async fn me(app: &App, user_id: UserId) -> Result<UserProfile, Refusal> {
    app.profile(user_id).await.ok_or_else(|| Refusal::not_found("no such account"))
}

/// Changes the display name (when given) and tells everyone who shares a conversation.
pub async fn update_profile(
    app: &App,
    user_id: UserId,
    display_name: Option<&str>,
) -> Result<UserProfile, Refusal> {
    if let Some(name) = display_name {
        let name = auth::normalize_display_name(name)?;
        app.store.set_display_name(user_id, &name).await?;
        crate::presence::announce_profile(app, user_id).await;
    }
    me(app, user_id).await
}

/// Changes the password; every other session of the account ends.
pub async fn change_password(
    app: &App,
    user_id: UserId,
    token_hash: &str,
    old: String,
    new: String,
) -> Result<(), Refusal> {
    auth::check_password(&new)?;
    let user = app.store.user_by_id(user_id).await?.ok_or_else(|| Refusal::not_found("no such account"))?;
    if old.len() > limits::PASSWORD_MAX
        || !app.passwords.verify(old, user.password_hash).await.map_err(Refusal::internal)?
    {
        // The caller is logged in: 403, so that a client does not take it for a lost session.
        return Err(Refusal::new(ErrorCode::WrongCredentials, "the old password is wrong")
            .with_status(StatusCode::FORBIDDEN));
    }
    let hash = app.passwords.hash(new).await.map_err(Refusal::internal)?;
    app.store.set_password_hash(user_id, &hash).await?;
    app.store.delete_other_sessions(user_id, token_hash).await?;
    app.hub.kick(user_id, KickWhich::AllBut(token_hash), KickReason::LoggedOut, "the password was changed");
    Ok(())
}
