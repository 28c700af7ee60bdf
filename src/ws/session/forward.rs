//! Live messages from the broadcaster to one socket: each checked against what the client already has
//! (the book's cursor, [`crate::ws::gaps`]): sent, skipped, trimmed, preceded by the events it missed
//! (read from the database), or answered by asking for a fresh snapshot.

use actix::prelude::*;
use actix_web_actors::ws;
use buko_actors::{ProgressMessage, Subscribe, Topic};

use super::{WsSession, REPLAY_CAP};
use crate::db::{self, repo};
use crate::ws::gaps::{DeltaStep, EventStep};

impl WsSession {
    pub(super) fn forward(
        &mut self,
        msg: &ProgressMessage,
        json: &str,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        match msg {
            ProgressMessage::Event {
                book_id,
                seq,
                kind,
                data,
                at,
            } => {
                let Some(cursor) = self.books.get_mut(book_id) else {
                    return;
                };
                match cursor.on_event(*seq) {
                    EventStep::Skip => {}
                    EventStep::Send => {
                        cursor.sent_event(*seq, kind, data);
                        ctx.text(json.to_string());
                        crate::metrics::record_event_lag("session", *at, book_id, *seq);
                    }
                    EventStep::Refill { after } => {
                        self.refill(book_id.clone(), after, msg.clone(), json.to_string(), ctx)
                    }
                }
            }
            ProgressMessage::Delta {
                book_id,
                chunk_seq,
                offset,
                text,
            } => {
                let Some(cursor) = self.books.get_mut(book_id) else {
                    return;
                };
                match cursor.on_delta(*chunk_seq, *offset, text) {
                    DeltaStep::Send => ctx.text(json.to_string()),
                    DeltaStep::Skip => {}
                    DeltaStep::Trim { offset, text } => {
                        let trimmed = ProgressMessage::Delta {
                            book_id: book_id.clone(),
                            chunk_seq: *chunk_seq,
                            offset,
                            text,
                        };
                        if let Ok(s) = serde_json::to_string(&trimmed) {
                            ctx.text(s);
                        }
                    }
                    DeltaStep::Resync => {
                        metrics::counter!("buko_ws_text_resyncs_total").increment(1);
                        // Subscribing again is idempotent and answers with the chunk's snapshot.
                        if let Some(id) = self.subscriber {
                            self.broadcaster.do_send(Subscribe {
                                id,
                                topic: Topic::Book(book_id.clone()),
                            });
                        }
                    }
                }
            }
            ProgressMessage::Snapshot {
                book_id,
                chunk_seq,
                text,
            } => {
                if let Some(cursor) = self.books.get_mut(book_id) {
                    cursor.sent_snapshot(*chunk_seq, text);
                    ctx.text(json.to_string());
                }
            }
            ProgressMessage::Broadcast { .. } => ctx.text(json.to_string()),
            // Only admin sessions subscribe to the `admin` topic; the check keeps it that way.
            ProgressMessage::Stats { .. } if self.user.is_admin() => ctx.text(json.to_string()),
            ProgressMessage::Stats { .. } => {}
        }
    }

    /// Events after `after` never reached this node's broadcaster (a relay hiccup): read them from the
    /// database and send them, then `live`. The mailbox waits meanwhile, so nothing newer overtakes.
    fn refill(
        &mut self,
        book_id: String,
        after: i64,
        live: ProgressMessage,
        live_json: String,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        metrics::counter!("buko_ws_event_refills_total").increment(1);
        let pool = self.state.db.clone();
        let book = book_id.clone();
        let load = async move {
            let mut rows = Vec::new();
            let mut from = after;
            loop {
                let (b, f) = (book.clone(), from);
                let page = db::run(&pool, move |c| {
                    repo::events::list_after(c, &b, f, REPLAY_CAP)
                })
                .await?;
                let n = page.len() as i64;
                from = page.last().map_or(from, |r| r.seq);
                rows.extend(page);
                if n < REPLAY_CAP {
                    return Ok::<_, db::DbError>(rows);
                }
            }
        };
        ctx.wait(load.into_actor(self).map(move |res, act, ctx| {
            let rows = res.unwrap_or_else(|e| {
                log::warn!(target: "buko::ws", "could not refill missed events: {e}");
                Vec::new()
            });
            let Some(cursor) = act.books.get_mut(&book_id) else {
                return;
            };
            for row in rows {
                let msg = ProgressMessage::from_event(row.to_book_event());
                if let ProgressMessage::Event {
                    seq, kind, data, ..
                } = &msg
                {
                    if *seq > cursor.last_seq {
                        if let Ok(s) = serde_json::to_string(&msg) {
                            cursor.sent_event(*seq, kind, data);
                            ctx.text(s);
                        }
                    }
                }
            }
            if let ProgressMessage::Event {
                seq, kind, data, ..
            } = &live
            {
                if *seq > cursor.last_seq {
                    cursor.sent_event(*seq, kind, data);
                    ctx.text(live_json);
                }
            }
        }));
    }
}
