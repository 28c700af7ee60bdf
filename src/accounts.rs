//! Accounts: the rules for an e-mail address and a password, and password hashing (argon2id, on the
//! blocking pool). Used by the sign-up and sign-in pages, the sign-in check, the CLI and the load tool;
//! it knows no route.

use actix_web::web;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::error::AppError;

pub fn valid_email(email: &str) -> bool {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub fn strong_enough(password: &str, email: &str) -> bool {
    let n = password.chars().count();
    (10..=256).contains(&n)
        && !password.eq_ignore_ascii_case(email.trim())
        && password
            .chars()
            .any(|c| c != password.chars().next().unwrap_or(' '))
}

/// Argon2id hash in PHC format (run on the blocking pool: it costs tens of milliseconds by design).
pub async fn hash_password(password: String) -> Result<String, AppError> {
    web::block(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}

pub async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    web::block(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| e.to_string())?;
        Ok::<bool, String>(
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
        )
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}
