//! Checking a sign-in so that the answer — status, body and time — is the same whether or not an
//! account has the e-mail: an unknown address is verified against a dummy hash with the same argon2
//! parameters, and failures are counted (and locked out) by address in `login_throttle`, for unknown
//! addresses too. A wrong password and an unknown e-mail both do one look-up, one argon2 verification
//! and one write.

use std::sync::OnceLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::Argon2;

use crate::db::models::User;
use crate::db::{self, repo};
use crate::error::AppError;
use crate::state::AppState;

/// What a sign-in attempt comes to.
pub enum SignIn {
    Ok(Box<User>),
    /// Wrong password or unknown e-mail: indistinguishable by design.
    Invalid,
    /// Too many failures for this address (whether or not it has an account).
    Locked,
    /// The right password for a disabled account.
    Disabled,
}

/// A hash of a random password made with the same parameters as real ones, so verifying against it
/// costs what a real verification costs.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let random = uuid::Uuid::new_v4().to_string();
        Argon2::default()
            .hash_password(random.as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Computes the dummy hash ahead of the first sign-in (else the first unknown e-mail is slower).
pub fn warm_up() {
    actix_web::rt::task::spawn_blocking(|| {
        dummy_hash();
    });
}

pub async fn check(state: &AppState, email: &str, password: &str) -> Result<SignIn, AppError> {
    let address = email.to_string();
    let (user, locked) = db::run(&state.db, move |c| {
        let user = repo::users::find_by_email(c, &address)?;
        let locked = repo::login_throttle::locked_until(c, &address)?;
        Ok((user, locked))
    })
    .await?;
    if locked.is_some() {
        return Ok(SignIn::Locked);
    }
    let hash = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_string(), |u| u.password_hash.clone());
    let verified = crate::accounts::verify_password(password.to_string(), hash).await?;
    match user {
        Some(user) if verified => {
            if user.disabled {
                return Ok(SignIn::Disabled);
            }
            let address = email.to_string();
            let id = user.id.clone();
            db::run(&state.db, move |c| {
                repo::login_throttle::clear(c, &address)?;
                repo::users::record_successful_login(c, &id)
            })
            .await?;
            Ok(SignIn::Ok(Box::new(user)))
        }
        _ => {
            record_failure(state, email).await?;
            Ok(SignIn::Invalid)
        }
    }
}

async fn record_failure(state: &AppState, email: &str) -> Result<(), AppError> {
    let max = state.settings.login_max_failures;
    let until = db::now() + chrono::Duration::seconds(state.settings.login_lockout_secs);
    for attempt in 0..2 {
        let address = email.to_string();
        let r = db::run(&state.db, move |c| {
            repo::login_throttle::record_failure(c, &address, max, until)
        })
        .await;
        match r {
            Ok(_) => return Ok(()),
            // Two first failures for one address at once: the loser counts again over the row.
            Err(e) if attempt == 0 && e.is_unique_violation() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
