//! Users: create, look up, login bookkeeping (failed attempts and lockout), session revocation.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::User;
use crate::db::schema::users;
use crate::db::{new_id, now, DbConn, DbError};

pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: String,
    pub role: &'a str,
    pub locale: Option<&'a str>,
}

/// Inserts a user; a taken e-mail surfaces as a unique violation (`DbError::is_unique_violation`).
pub fn create(conn: &mut DbConn, new: NewUser<'_>) -> Result<User, DbError> {
    let t = now();
    let user = User {
        id: new_id().into(),
        email: normalize_email(new.email),
        password_hash: new.password_hash,
        display_name: String::new(),
        role: new.role.to_string(),
        plan: "free".into(),
        locale: new.locale.map(str::to_string),
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        session_version: 0,
        created_at: t,
        updated_at: t,
    };
    diesel::insert_into(users::table)
        .values(&user)
        .execute(conn)?;
    Ok(user)
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::email.eq(normalize_email(email)))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<User>, DbError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Records a failed login; after `threshold` consecutive failures the account is locked until `until`.
pub fn record_failed_login(
    conn: &mut DbConn,
    id: &str,
    threshold: i32,
    lock_until: NaiveDateTime,
) -> Result<(), DbError> {
    crate::db::write_tx(conn, |conn| {
        let failed: i32 = users::table
            .find(id)
            .select(users::failed_logins)
            .first(conn)?;
        let failed = failed + 1;
        let locked = (failed >= threshold).then_some(lock_until);
        diesel::update(users::table.find(id))
            .set((
                users::failed_logins.eq(failed),
                users::locked_until.eq(locked),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

pub fn record_successful_login(conn: &mut DbConn, id: &str) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<NaiveDateTime>),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_locale(conn: &mut DbConn, id: &str, locale: &str) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((users::locale.eq(Some(locale)), users::updated_at.eq(now())))
        .execute(conn)?;
    Ok(())
}

pub fn set_disabled(conn: &mut DbConn, id: &str, disabled: bool) -> Result<(), DbError> {
    // Disabling ends the user's sessions and keys: the credential watch must look again.
    super::credential_epoch::ending(
        conn,
        |c| {
            diesel::update(users::table.find(id))
                .set((
                    users::disabled.eq(disabled),
                    users::session_version.eq(users::session_version + 1),
                    users::updated_at.eq(now()),
                ))
                .execute(c)?;
            Ok(())
        },
        |_| disabled,
    )
}

/// Invalidates every session of the user (cookies carry the version they were issued under).
pub fn revoke_sessions(conn: &mut DbConn, id: &str) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((
            users::session_version.eq(users::session_version + 1),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The name printed as the author of the user's books.
pub fn set_display_name(conn: &mut DbConn, id: &str, name: &str) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((users::display_name.eq(name), users::updated_at.eq(now())))
        .execute(conn)?;
    Ok(())
}
