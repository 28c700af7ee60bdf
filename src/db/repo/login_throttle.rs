//! Failed sign-ins counted by e-mail address (a SHA-256 of the normalized address), whether or not an
//! account has that address: the lockout answers the same for every e-mail, so it cannot be used to
//! learn which ones are registered.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::{login_throttle, users};
use crate::db::{now, DbConn, DbError};

/// The throttle key of an e-mail address.
pub fn key(email: &str) -> String {
    let normalized = super::users::normalize_email(email);
    hex::encode(Sha256::digest(normalized.as_bytes()))
}

/// When the e-mail address is locked until, if it is locked now.
pub fn locked_until(conn: &mut DbConn, email: &str) -> Result<Option<NaiveDateTime>, DbError> {
    let until: Option<Option<NaiveDateTime>> = login_throttle::table
        .find(key(email))
        .select(login_throttle::locked_until)
        .first(conn)
        .optional()?;
    let t = now();
    Ok(until.flatten().filter(|u| *u > t))
}

/// Counts a failure for the address; from `threshold` consecutive failures on, each failure locks the
/// address until `lock_until` (a successful sign-in or an operator's unlock clears the count).
/// Returns the failures so far.
pub fn record_failure(
    conn: &mut DbConn,
    email: &str,
    threshold: i32,
    lock_until: NaiveDateTime,
) -> Result<i32, DbError> {
    let email = super::users::normalize_email(email);
    let key = &key(&email);
    crate::db::write_tx(conn, |conn| {
        let failures: Option<i32> = login_throttle::table
            .find(key)
            .select(login_throttle::failures)
            .first(conn)
            .optional()?;
        let n = failures.unwrap_or(0) + 1;
        let stored = n;
        let locked = (n >= threshold).then_some(lock_until);
        if failures.is_some() {
            diesel::update(login_throttle::table.find(key))
                .set((
                    login_throttle::failures.eq(stored),
                    login_throttle::locked_until.eq(locked),
                    login_throttle::updated_at.eq(now()),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(login_throttle::table)
                .values((
                    login_throttle::email_hash.eq(key),
                    login_throttle::failures.eq(stored),
                    login_throttle::locked_until.eq(locked),
                    login_throttle::updated_at.eq(now()),
                ))
                .execute(conn)?;
        }
        // Mirrored on the account, if there is one, for the admin panel. The statement runs for every
        // address (matching no row for an unknown one), so both cases do the same work.
        diesel::update(users::table.filter(users::email.eq(email)))
            .set((
                users::failed_logins.eq(stored),
                users::locked_until.eq(locked),
            ))
            .execute(conn)?;
        Ok(n)
    })
}

/// Forgets the address's failures (a successful sign-in, an operator's unlock).
pub fn clear(conn: &mut DbConn, email: &str) -> Result<(), DbError> {
    diesel::delete(login_throttle::table.find(key(email))).execute(conn)?;
    Ok(())
}
