//! One actor per WebSocket connection: the client's subscriptions, replay of durable events after a
//! reconnect, and forwarding of the broadcaster's live messages.
//!
//! Exactly-once order per book: on subscribe the session first subscribes to the broadcaster, then reads
//! the stored events after the client's `after_seq`, writes them, and only then lets its mailbox (where
//! live messages waited) run again — `ctx.wait` holds the mailbox. Live events whose seq was already sent
//! are skipped; a live event past the next seq (one lost on the way from another node) is preceded by
//! the missing ones read from the database, the mailbox held meanwhile; a text delta that does not
//! continue what the client has asks the broadcaster for a fresh snapshot (see [`super::gaps`]).
//! The mailbox is small and bounded: a client too slow to read fills it, the broadcaster
//! drops it, and the session closes with the reason instead of buffering without limit.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::web;
use actix_web_actors::ws;
use buko_actors::{
    Deliver, ProgressBroadcaster, ProgressMessage, Register, Subscribe, SubscriberId, Topic,
    Unregister, Unsubscribe,
};
use serde::Deserialize;
use serde_json::json;

use super::auth_watch::Credential;
use super::gaps::BookCursor;
use super::registry::Disconnect;
use crate::db::{self, models::User, repo};
use crate::state::AppState;

mod forward;

const HEARTBEAT: Duration = Duration::from_secs(10);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Live messages waiting for this session; when full the broadcaster drops the session.
pub const MAILBOX: usize = 256;
const MAX_BOOKS_PER_SESSION: usize = 32;
/// Stored events replayed on one subscribe at most; past it the client gets a `resync` message (the
/// book's status and latest seq) and reloads the rest over HTTP, so a subscribe costs a bounded amount.
pub const REPLAY_CAP: i64 = 500;
/// Subscribe requests one socket may make per minute (each costs queries and a replay).
pub const SUBSCRIBES_PER_MINUTE: u32 = 30;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    Subscribe {
        book_id: String,
        #[serde(default)]
        after_seq: i64,
    },
    Unsubscribe {
        book_id: String,
    },
    Ping,
}

pub struct WsSession {
    state: web::Data<AppState>,
    broadcaster: Addr<ProgressBroadcaster>,
    user: User,
    id: u64,
    heartbeat: Instant,
    subscriber: Option<SubscriberId>,
    /// Book id → what the client has of it (highest event seq, text of the chunk in progress).
    books: HashMap<String, BookCursor>,
    /// What the socket was opened with (re-checked by `auth_watch`).
    credential: Credential,
    /// Subscribe requests in the current minute (see [`SUBSCRIBES_PER_MINUTE`]).
    subscribes: (Instant, u32),
}

impl WsSession {
    pub fn new(state: web::Data<AppState>, user: User, credential: Credential) -> Self {
        let broadcaster = state.broadcaster.clone();
        let id = state.ws_registry.next_id();
        WsSession {
            state,
            broadcaster,
            user,
            id,
            heartbeat: Instant::now(),
            subscriber: None,
            books: HashMap::new(),
            credential,
            subscribes: (Instant::now(), 0),
        }
    }

    fn send_error(ctx: &mut ws::WebsocketContext<Self>, code: &str, message: &str) {
        ctx.text(json!({"type": "error", "code": code, "message": message}).to_string());
    }

    fn on_client_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let msg: ClientMessage = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                return Self::send_error(ctx, "bad_message", &format!("unreadable message: {e}"));
            }
        };
        match msg {
            ClientMessage::Ping => ctx.text(r#"{"type":"pong"}"#),
            ClientMessage::Unsubscribe { book_id } => {
                if self.books.remove(&book_id).is_some() {
                    if let Some(id) = self.subscriber {
                        self.broadcaster.do_send(Unsubscribe {
                            id,
                            topic: Topic::Book(book_id),
                        });
                    }
                }
            }
            ClientMessage::Subscribe { book_id, after_seq } => {
                self.subscribe(book_id, after_seq.max(0), ctx)
            }
        }
    }

    fn subscribe(&mut self, book_id: String, after: i64, ctx: &mut ws::WebsocketContext<Self>) {
        let Some(sub_id) = self.subscriber else {
            return Self::send_error(ctx, "unavailable", "progress is not available right now");
        };
        // Already subscribed on this socket: live messages flow already, a second replay would only
        // repeat what was sent.
        if self.books.contains_key(&book_id) {
            return;
        }
        if self.subscribes.0.elapsed() >= Duration::from_secs(60) {
            self.subscribes = (Instant::now(), 0);
        }
        self.subscribes.1 += 1;
        if self.subscribes.1 > SUBSCRIBES_PER_MINUTE {
            return Self::send_error(
                ctx,
                "rate_limited",
                "too many subscribe requests; wait a minute",
            );
        }
        if uuid::Uuid::parse_str(&book_id).is_err() {
            return Self::send_error(ctx, "not_found", "no such book");
        }
        if self.books.len() >= MAX_BOOKS_PER_SESSION {
            return Self::send_error(
                ctx,
                "too_many_subscriptions",
                "too many books on one connection",
            );
        }
        let pool = self.state.db.clone();
        let broadcaster = self.broadcaster.clone();
        let (uid, admin) = (self.user.id.clone(), self.user.is_admin());
        let book = book_id.clone();
        let work = async move {
            let owned = {
                let (book, uid) = (book.clone(), uid.clone());
                db::run(&pool, move |c| repo::books::find_for(c, &book, &uid, admin)).await
            };
            let status = match owned {
                Ok(Some(b)) => b.status,
                Ok(None) => return Err(("not_found", "no such book".to_string())),
                Err(e) => return Err(("unavailable", e.to_string())),
            };
            // Live first: from here on every new message waits in the mailbox while we replay.
            let live = broadcaster
                .send(Subscribe {
                    id: sub_id,
                    topic: Topic::Book(book.clone()),
                })
                .await
                .unwrap_or(false);
            if !live {
                return Err(("unavailable", "progress is not available right now".into()));
            }
            let b = book.clone();
            let (rows, latest) = db::run(&pool, move |c| {
                let rows = repo::events::list_after(c, &b, after, REPLAY_CAP)?;
                let latest = repo::events::last_seq(c, &b)?;
                Ok((rows, latest))
            })
            .await
            .map_err(|e| ("unavailable", e.to_string()))?;
            let full = rows.len() as i64 >= REPLAY_CAP;
            let mut frames = Vec::with_capacity(rows.len() + 1);
            let mut last = after;
            for row in rows {
                last = row.seq;
                let msg = ProgressMessage::from_event(row.to_book_event());
                if let Ok(s) = serde_json::to_string(&msg) {
                    frames.push(s);
                }
            }
            if full && latest > last {
                // More than the cap: the client reloads the book's state instead of a longer replay.
                frames.push(
                    json!({"type": "resync", "book_id": book, "status": status, "last_seq": latest})
                        .to_string(),
                );
                last = latest;
            }
            Ok((frames, last))
        };
        ctx.wait(work.into_actor(self).map(move |res, act, ctx| match res {
            Ok((frames, last)) => {
                for f in frames {
                    ctx.text(f);
                }
                let cursor = act
                    .books
                    .entry(book_id)
                    .or_insert_with(|| BookCursor::new(last));
                cursor.last_seq = cursor.last_seq.max(last);
            }
            Err((code, message)) => {
                // A failure after the live subscription (the replay) must not leave it behind.
                if let (Some(id), false) = (act.subscriber, act.books.contains_key(&book_id)) {
                    act.broadcaster.do_send(Unsubscribe {
                        id,
                        topic: Topic::Book(book_id.clone()),
                    });
                }
                if code == "unavailable" {
                    log::warn!(target: "buko::ws", "subscribe failed: {message}");
                }
                let shown = if code == "not_found" {
                    "no such book"
                } else {
                    "try again later"
                };
                Self::send_error(ctx, code, shown);
            }
        }));
    }

    fn close(ctx: &mut ws::WebsocketContext<Self>, code: ws::CloseCode, reason: &str) {
        ctx.close(Some(ws::CloseReason {
            code,
            description: Some(reason.to_string()),
        }));
        ctx.stop();
    }
}

impl Actor for WsSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        self.state
            .ws_registry
            .add(&self.user.id, self.id, ctx.address().recipient());
        self.state
            .ws_auth
            .add(self.id, self.credential.clone(), ctx.address().recipient());
        // Online users (shared across nodes through Redis): seen now and at every heartbeat.
        actix::spawn(self.state.presence.touch(self.user.id.to_string()));
        ctx.run_interval(HEARTBEAT, |act, ctx| {
            if act.heartbeat.elapsed() > CLIENT_TIMEOUT {
                Self::close(ctx, ws::CloseCode::Away, "heartbeat timeout");
            } else {
                ctx.ping(b"");
                actix::spawn(act.state.presence.touch(act.user.id.to_string()));
            }
        });
        let recipient = ctx.address().recipient();
        let broadcaster = self.broadcaster.clone();
        let admin = self.user.is_admin();
        // Held with `wait`: no client message is handled before the session can subscribe.
        ctx.wait(
            async move {
                let id = broadcaster.send(Register { recipient }).await.ok()?;
                broadcaster
                    .send(Subscribe {
                        id,
                        topic: Topic::All,
                    })
                    .await
                    .ok()?;
                // Admins also get the dashboard's live figures (`stats` messages).
                if admin {
                    broadcaster
                        .send(Subscribe {
                            id,
                            topic: Topic::Admin,
                        })
                        .await
                        .ok()?;
                }
                Some(id)
            }
            .into_actor(self)
            .map(|id, act, _| act.subscriber = id),
        );
    }

    fn stopping(&mut self, _: &mut Self::Context) -> Running {
        if let Some(id) = self.subscriber.take() {
            self.broadcaster.do_send(Unregister { id });
        }
        self.state.ws_registry.remove(&self.user.id, self.id);
        self.state.ws_auth.remove(self.id);
        Running::Stop
    }
}

impl Handler<Deliver> for WsSession {
    type Result = ();
    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        match msg {
            Deliver::Message(out) => {
                metrics::counter!("buko_ws_messages_total", "direction" => "out").increment(1);
                self.forward(&out.message, &out.json, ctx)
            }
            Deliver::Dropped { reason } => {
                metrics::counter!("buko_ws_slow_clients_closed_total").increment(1);
                // The broadcaster already forgot us; don't unregister a second time.
                self.subscriber = None;
                Self::close(ctx, ws::CloseCode::Again, &reason);
            }
        }
    }
}

impl Handler<Disconnect> for WsSession {
    type Result = ();
    fn handle(&mut self, msg: Disconnect, ctx: &mut Self::Context) {
        let code = if msg.restart {
            ws::CloseCode::Restart
        } else {
            ws::CloseCode::Policy
        };
        Self::close(ctx, code, &msg.reason);
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for WsSession {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        let msg = match item {
            Ok(m) => m,
            Err(e) => {
                // Oversized or malformed frames: close with the reason rather than drop silently.
                return Self::close(ctx, ws::CloseCode::Protocol, &e.to_string());
            }
        };
        self.heartbeat = Instant::now();
        metrics::counter!("buko_ws_messages_total", "direction" => "in").increment(1);
        match msg {
            ws::Message::Ping(b) => ctx.pong(&b),
            ws::Message::Pong(_) => {}
            ws::Message::Text(t) => self.on_client_text(&t, ctx),
            ws::Message::Binary(_) => Self::send_error(ctx, "bad_message", "send JSON text frames"),
            ws::Message::Close(reason) => {
                ctx.close(reason);
                ctx.stop();
            }
            ws::Message::Continuation(_) => {
                Self::send_error(ctx, "bad_message", "fragmented messages are not supported")
            }
            ws::Message::Nop => {}
        }
    }
}
