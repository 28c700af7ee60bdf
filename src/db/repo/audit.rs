//! Audit log of security-relevant and admin actions (who, what, when, target).

use diesel::prelude::*;

use crate::db::models::AuditEntry;
use crate::db::schema::audit_log;
use crate::db::{new_id, now, DbConn, DbError};

pub fn record(
    conn: &mut DbConn,
    actor_id: Option<&str>,
    action: &str,
    target: (&str, &str),
    detail: serde_json::Value,
    ip: &str,
) -> Result<(), DbError> {
    let entry = AuditEntry {
        id: new_id(),
        actor_id: actor_id.map(str::to_string),
        action: action.to_string(),
        target_type: target.0.to_string(),
        target_id: target.1.to_string(),
        detail: detail.to_string(),
        ip: ip.to_string(),
        created_at: now(),
    };
    diesel::insert_into(audit_log::table)
        .values(&entry)
        .execute(conn)?;
    Ok(())
}

pub fn recent(conn: &mut DbConn, limit: i64) -> Result<Vec<AuditEntry>, DbError> {
    Ok(audit_log::table
        .order(audit_log::created_at.desc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)?)
}
