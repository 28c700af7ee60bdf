//! The authorization matrix: every route of the pages, the admin panel, the API, the WebSocket and the
//! operations endpoints, asked by an anonymous visitor, the owner of a book (A), another user (B) and an
//! admin. A row says what each must get; one test walks the table. Add a row with every new route.
//!
//! Forms are sent with the asker's own valid CSRF token and API calls with the asker's own key, so a
//! refusal here is an authorization decision, never a CSRF or authentication accident. "Allowed" means
//! the request got past authorization: 2xx, a redirect that is not to the login page, or a 400 / 409 /
//! 422 about the content (e.g. approving a finished book).

use awc::http::Method;
use serde_json::{json, Value};

use crate::admin::{admin, book, member, Member};
use crate::helpers::{csrf_in, spawn_app, Client, Response, TestApp};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    Allowed,
    /// 303 to `/login?next=…`.
    Login,
    Unauthorized,
    Forbidden,
    NotFound,
}
use Want::*;

#[derive(Clone, Copy)]
enum Kind {
    Page,
    /// A CSRF-protected form post with these fields.
    Form(&'static [(&'static str, &'static str)]),
    /// JSON with the asker's `X-API-Key` (none for the anonymous asker).
    Api(Option<fn() -> Value>),
    /// A WebSocket upgrade with the asker's session cookie.
    Ws,
}

struct Row {
    method: Method,
    path: &'static str,
    kind: Kind,
    /// anonymous, owner A, other user B, admin
    want: [Want; 4],
}

fn row(method: Method, path: &'static str, kind: Kind, want: [Want; 4]) -> Row {
    Row {
        method,
        path,
        kind,
        want,
    }
}

const ALL: [Want; 4] = [Allowed; 4];
const SIGNED_IN: [Want; 4] = [Login, Allowed, Allowed, Allowed];
const OWNER: [Want; 4] = [Login, Allowed, NotFound, Allowed];
const ADMIN: [Want; 4] = [Login, Forbidden, Forbidden, Allowed];
const API: [Want; 4] = [Unauthorized, Allowed, Allowed, Allowed];
const API_OWNER: [Want; 4] = [Unauthorized, Allowed, NotFound, Allowed];

fn new_book() -> Value {
    json!({"idea": "A lighthouse keeper who collects storms", "language": "en", "target_pages": 40})
}

fn architecture() -> Value {
    json!({"architecture": {"title": "T", "subtitle": "", "synopsis": "S", "audience": "a", "tone": "t",
        "language": "en", "bible": {"characters": [], "facts": [], "style": []},
        "chapters": [{"title": "One", "summary": "s", "key_points": [], "target_words": 1000}]}})
}

fn table() -> Vec<Row> {
    use Kind::*;
    let (get, post, put, delete) = (Method::GET, Method::POST, Method::PUT, Method::DELETE);
    vec![
        // Public and operations.
        row(get.clone(), "/", Page, ALL),
        row(get.clone(), "/login", Page, ALL),
        row(get.clone(), "/register", Page, ALL),
        row(get.clone(), "/health/live", Page, ALL),
        row(get.clone(), "/health/ready", Page, ALL),
        row(get.clone(), "/metrics", Page, ALL),
        row(get.clone(), "/static/style.css", Page, ALL),
        // Author pages.
        row(get.clone(), "/books", Page, SIGNED_IN),
        row(get.clone(), "/books/new", Page, SIGNED_IN),
        row(get.clone(), "/settings", Page, SIGNED_IN),
        row(get.clone(), "/books/{book}", Page, OWNER),
        row(get.clone(), "/books/{book}/live", Page, OWNER),
        row(get.clone(), "/books/{book}/read", Page, OWNER),
        row(get.clone(), "/books/{book}/progress", Page, OWNER),
        row(get.clone(), "/books/{book}/chunks", Page, OWNER),
        row(get.clone(), "/books/{book}/export/md", Page, OWNER),
        row(post.clone(), "/books/{book}/approve", Form(&[]), OWNER),
        row(
            post.clone(),
            "/books/{book}/control/pause",
            Form(&[]),
            OWNER,
        ),
        row(
            post.clone(),
            "/books/{book}/architecture",
            Form(&[("title", "x")]),
            OWNER,
        ),
        // Admin panel.
        row(get.clone(), "/admin", Page, ADMIN),
        row(get.clone(), "/admin/stats", Page, ADMIN),
        row(get.clone(), "/admin/users", Page, ADMIN),
        row(get.clone(), "/admin/books", Page, ADMIN),
        row(get.clone(), "/admin/books/{book}", Page, ADMIN),
        row(get.clone(), "/admin/broadcast", Page, ADMIN),
        row(get.clone(), "/admin/audit", Page, ADMIN),
        row(
            post.clone(),
            "/admin/users/{victim}/plan",
            Form(&[("value", "pro")]),
            ADMIN,
        ),
        row(
            post.clone(),
            "/admin/users/{victim}/role",
            Form(&[("value", "user")]),
            ADMIN,
        ),
        row(
            post.clone(),
            "/admin/users/{victim}/unlock",
            Form(&[]),
            ADMIN,
        ),
        row(
            post.clone(),
            "/admin/users/{victim}/logout-everywhere",
            Form(&[]),
            ADMIN,
        ),
        row(
            post.clone(),
            "/admin/users/{victim}/disable",
            Form(&[]),
            ADMIN,
        ),
        row(
            post.clone(),
            "/admin/users/{victim}/enable",
            Form(&[]),
            ADMIN,
        ),
        row(
            post.clone(),
            "/admin/users/{victim}/disconnect",
            Form(&[]),
            ADMIN,
        ),
        row(post.clone(), "/admin/books/{book}/retry", Form(&[]), ADMIN),
        row(
            post.clone(),
            "/admin/books/{other_book}/cancel",
            Form(&[]),
            ADMIN,
        ),
        row(
            post.clone(),
            "/admin/broadcast",
            Form(&[("message", "hello")]),
            ADMIN,
        ),
        // API v1.
        row(get.clone(), "/api/v1/openapi.json", Api(None), ALL),
        row(get.clone(), "/api/v1/books", Api(None), API),
        row(post.clone(), "/api/v1/books", Api(Some(new_book)), API),
        row(get.clone(), "/api/v1/books/{book}", Api(None), API_OWNER),
        row(
            put,
            "/api/v1/books/{book}/architecture",
            Api(Some(architecture)),
            API_OWNER,
        ),
        row(
            post.clone(),
            "/api/v1/books/{book}/approve",
            Api(None),
            API_OWNER,
        ),
        row(
            post.clone(),
            "/api/v1/books/{book}/pause",
            Api(None),
            API_OWNER,
        ),
        row(
            post.clone(),
            "/api/v1/books/{book}/chapters/0/regenerate",
            Api(None),
            API_OWNER,
        ),
        row(
            get.clone(),
            "/api/v1/books/{book}/chapters",
            Api(None),
            API_OWNER,
        ),
        row(
            get.clone(),
            "/api/v1/books/{book}/events",
            Api(None),
            API_OWNER,
        ),
        row(
            get.clone(),
            "/api/v1/books/{book}/export/md",
            Api(None),
            API_OWNER,
        ),
        row(get.clone(), "/api/v1/keys", Api(None), API),
        row(
            post.clone(),
            "/api/v1/keys",
            Api(Some(|| json!({"name": "matrix"}))),
            API,
        ),
        row(get.clone(), "/api/v1/usage", Api(None), API),
        // B and the admin cannot revoke A's key; A can (last: A's key stops working after it).
        row(
            delete,
            "/api/v1/keys/{prefix}",
            Api(None),
            [Unauthorized, Allowed, NotFound, NotFound],
        ),
        // WebSocket.
        row(
            get.clone(),
            "/ws",
            Ws,
            [Unauthorized, Allowed, Allowed, Allowed],
        ),
        // Ends the asker's own sessions: last, since nobody is signed in after it.
        row(post.clone(), "/logout-everywhere", Form(&[]), SIGNED_IN),
        row(post, "/logout", Form(&[]), ALL),
    ]
}

struct Asker {
    member: Option<Member>,
    key: Option<String>,
    anon: Client,
}

impl Asker {
    fn client(&self) -> &Client {
        self.member.as_ref().map_or(&self.anon, |m| &m.client)
    }
}

fn classify(res: &Response) -> Want {
    match res.status {
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        303 | 302 if res.header("location").unwrap_or("").starts_with("/login") => Login,
        s if s < 400 || [400, 409, 422].contains(&s) => Allowed,
        s => panic!("unexpected status {s}: {}", res.body),
    }
}

async fn ask(app: &TestApp, asker: &Asker, r: &Row, path: &str) -> Want {
    let c = asker.client();
    match r.kind {
        Kind::Page => classify(&c.get(path).await),
        Kind::Form(fields) => {
            let token = csrf_in(&c.get("/").await.body).expect("csrf on the home page");
            let mut form = vec![("csrf_token", token.as_str())];
            form.extend_from_slice(fields);
            classify(&c.post_form(path, &form).await)
        }
        Kind::Api(body) => {
            let mut api = Client::new(app);
            if let Some(k) = &asker.key {
                api.default_headers.push(("x-api-key".into(), k.clone()));
            }
            let body = body.map_or(Value::Null, |f| f());
            let res = if body.is_null() {
                api.send_raw(r.method.as_str(), path, "application/json", vec![])
                    .await
            } else {
                api.send_json(r.method.as_str(), path, &body).await
            };
            classify(&res)
        }
        Kind::Ws => {
            let mut req = awc::Client::new().ws(format!("{}{path}", app.base));
            if asker.member.is_some() {
                req = req.set_header("cookie", c.cookie_header());
            }
            match req.connect().await {
                Ok((res, _)) if res.status().as_u16() == 101 => Allowed,
                Ok((res, _)) => panic!("ws status {}", res.status()),
                Err(awc::error::WsClientError::InvalidResponseStatus(s)) if s.as_u16() == 401 => {
                    Unauthorized
                }
                Err(e) => panic!("ws: {e}"),
            }
        }
    }
}

#[actix_web::test]
async fn every_route_answers_each_kind_of_user_as_it_should() {
    let app = spawn_app().await;
    let a = member(&app).await;
    let b = member(&app).await;
    let adm = admin(&app).await;
    let victim = member(&app).await;
    let book_a = book(&app, &a.id, "A's book", "completed");
    let other_book = book(&app, &victim.id, "Victim's book", "queued");
    let mut db = app.db();
    let key = |id: &str, db: &mut buko::db::DbConn| {
        buko::db::repo::api_keys::create(db, id, "k")
            .expect("key")
            .0
            .expose()
            .to_string()
    };
    let (ka, kb, kadm) = (
        key(&a.id, &mut db),
        key(&b.id, &mut db),
        key(&adm.id, &mut db),
    );
    let prefix = ka[..13].to_string();
    let askers = [
        Asker {
            member: None,
            key: None,
            anon: Client::new(&app),
        },
        Asker {
            member: Some(a),
            key: Some(ka),
            anon: Client::new(&app),
        },
        Asker {
            member: Some(b),
            key: Some(kb),
            anon: Client::new(&app),
        },
        Asker {
            member: Some(adm),
            key: Some(kadm),
            anon: Client::new(&app),
        },
    ];
    let mut failures = vec![];
    for r in table() {
        let path = r
            .path
            .replace("{book}", &book_a)
            .replace("{other_book}", &other_book)
            .replace("{victim}", &victim.id)
            .replace("{prefix}", &prefix);
        // The owner asks last, so a row that changes A's things (revoking A's key) is seen by the
        // others first.
        for i in [0usize, 2, 3, 1] {
            let got = ask(&app, &askers[i], &r, &path).await;
            if got != r.want[i] {
                let who = ["anonymous", "owner A", "user B", "admin"][i];
                failures.push(format!(
                    "{} {} as {who}: want {:?}, got {got:?}",
                    r.method, r.path, r.want[i]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix:\n{}",
        failures.join("\n")
    );
}
