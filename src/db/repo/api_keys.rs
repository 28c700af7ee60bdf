//! API keys: only a SHA-256 of the key is stored; the key itself is shown once at creation. The prefix
//! (not secret) identifies a key in listings and narrows the lookup.

use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::models::{ApiKey, User};
use crate::db::schema::{api_keys, users};
use crate::db::{new_id, now, DbConn, DbError};
use crate::secret::Secret;

const KEY_PREFIX: &str = "buko_";
/// Characters of the key kept in clear as its public prefix (`buko_` + 8 hex).
const PREFIX_LEN: usize = KEY_PREFIX.len() + 8;
/// How stale `last_used_at` may be before a request refreshes it.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Creates a key for the user and returns it (the only time it exists in clear) with its row.
pub fn create(conn: &mut DbConn, user_id: &str, name: &str) -> Result<(Secret, ApiKey), DbError> {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let key = format!("{KEY_PREFIX}{}", hex::encode(bytes));
    let row = ApiKey {
        id: new_id(),
        user_id: user_id.to_string(),
        name: name.trim().chars().take(100).collect(),
        prefix: key[..PREFIX_LEN].to_string(),
        key_hash: hash_key(&key),
        rate_limit_per_minute: None,
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
    };
    diesel::insert_into(api_keys::table)
        .values(&row)
        .execute(conn)?;
    Ok((Secret::new(key), row))
}

/// The active (not revoked, owner not disabled) key and its user, if the presented key is valid.
/// Marks the key used.
pub fn authenticate(conn: &mut DbConn, presented: &str) -> Result<Option<(ApiKey, User)>, DbError> {
    if presented.len() < PREFIX_LEN || !presented.starts_with(KEY_PREFIX) || !presented.is_ascii() {
        return Ok(None);
    }
    let found: Option<(ApiKey, User)> = api_keys::table
        .inner_join(users::table)
        .filter(api_keys::prefix.eq(&presented[..PREFIX_LEN]))
        .filter(api_keys::revoked_at.is_null())
        .select((ApiKey::as_select(), User::as_select()))
        .first(conn)
        .optional()?;
    let Some((key, user)) = found else {
        return Ok(None);
    };
    if !constant_time_eq(key.key_hash.as_bytes(), hash_key(presented).as_bytes()) || user.disabled {
        return Ok(None);
    }
    // "Last used" to the minute: writing it on every request made each API call a commit, queued behind
    // the books' writes under load (measured in the load test).
    let t = now();
    if key
        .last_used_at
        .is_none_or(|last| t - last >= chrono::TimeDelta::seconds(LAST_USED_RESOLUTION_SECS))
    {
        diesel::update(api_keys::table.find(&key.id))
            .set(api_keys::last_used_at.eq(Some(t)))
            .execute(conn)?;
    }
    Ok(Some((key, user)))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn list_for_user(conn: &mut DbConn, user_id: &str) -> Result<Vec<ApiKey>, DbError> {
    Ok(api_keys::table
        .filter(api_keys::user_id.eq(user_id))
        .order(api_keys::created_at.desc())
        .select(ApiKey::as_select())
        .load(conn)?)
}

/// Revokes the user's key with this prefix; false when there is none (or it is someone else's).
pub fn revoke(conn: &mut DbConn, user_id: &str, prefix: &str) -> Result<bool, DbError> {
    let n = super::credential_epoch::ending(
        conn,
        |c| {
            Ok(diesel::update(
                api_keys::table
                    .filter(api_keys::user_id.eq(user_id))
                    .filter(api_keys::prefix.eq(prefix))
                    .filter(api_keys::revoked_at.is_null()),
            )
            .set(api_keys::revoked_at.eq(Some(now())))
            .execute(c)?)
        },
        |n| *n > 0,
    )?;
    Ok(n > 0)
}

/// Which of the key ids still authenticate (not revoked, owner not disabled): one query for a node's
/// WebSocket sessions opened with API keys.
pub fn active_ids(conn: &mut DbConn, ids: &[String]) -> Result<Vec<String>, DbError> {
    Ok(api_keys::table
        .inner_join(users::table)
        .filter(api_keys::id.eq_any(ids))
        .filter(api_keys::revoked_at.is_null())
        .filter(users::disabled.eq(false))
        .select(api_keys::id)
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_not_the_key() {
        let h = hash_key("buko_abc");
        assert_eq!(h, hash_key("buko_abc"));
        assert!(!h.contains("abc"));
        assert!(constant_time_eq(b"ab", b"ab"));
        assert!(!constant_time_eq(b"ab", b"ac"));
    }
}
