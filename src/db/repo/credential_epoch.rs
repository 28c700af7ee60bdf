//! The credential epoch: a counter moved, in the same transaction, by every change that ends a
//! credential (session deleted, API key revoked, user disabled). The WebSocket credential watch reads
//! it to learn, in one small query, whether any socket's credential may have ended since it last looked.

use diesel::prelude::*;

use crate::db::schema::credential_epoch;
use crate::db::{DbConn, DbError};

/// The current epoch.
pub fn current(conn: &mut DbConn) -> Result<i64, DbError> {
    Ok(credential_epoch::table
        .find(1)
        .select(credential_epoch::epoch)
        .first(conn)?)
}

/// Moves the epoch on (call inside the transaction that ends the credential).
pub fn bump(conn: &mut DbConn) -> Result<(), DbError> {
    diesel::update(credential_epoch::table.find(1))
        .set(credential_epoch::epoch.eq(credential_epoch::epoch + 1))
        .execute(conn)?;
    Ok(())
}

/// Runs `change` (which returns how many credentials it ended) and moves the epoch in the same
/// transaction when it ended any.
pub fn ending<T>(
    conn: &mut DbConn,
    change: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
    ended: impl Fn(&T) -> bool,
) -> Result<T, DbError> {
    crate::db::write_tx(conn, |c| {
        let r = change(c)?;
        if ended(&r) {
            bump(c)?;
        }
        Ok(r)
    })
}
