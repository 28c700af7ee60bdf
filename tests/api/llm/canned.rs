//! A server that answers each request with the next canned response (status, headers, body chunks
//! written as separate writes) and records what it was sent. For exact bytes the fake server won't send.

use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{http::StatusCode, web, App, HttpRequest, HttpResponse, HttpServer};
use bytes::Bytes;

pub struct Canned {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub chunks: Vec<Vec<u8>>,
}

impl Canned {
    pub fn sse(chunks: &[&str]) -> Self {
        Canned {
            status: 200,
            headers: vec![("content-type", "text/event-stream".into())],
            chunks: chunks.iter().map(|c| c.as_bytes().to_vec()).collect(),
        }
    }
    pub fn error(status: u16, headers: &[(&'static str, &str)], body: &str) -> Self {
        let mut h: Vec<(&'static str, String)> =
            headers.iter().map(|(k, v)| (*k, v.to_string())).collect();
        h.push(("content-type", "application/json".into()));
        Canned {
            status,
            headers: h,
            chunks: vec![body.as_bytes().to_vec()],
        }
    }
}

#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: serde_json::Value,
}

struct State {
    answers: Mutex<VecDeque<Canned>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

pub struct CannedServer {
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl CannedServer {
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

async fn answer(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    if let Ok(mut s) = state.seen.lock() {
        s.push(Seen {
            path: req.path().to_string(),
            headers,
            body,
        });
    }
    let Some(canned) = state.answers.lock().ok().and_then(|mut a| a.pop_front()) else {
        return HttpResponse::InternalServerError().finish();
    };
    let mut r = HttpResponse::build(StatusCode::from_u16(canned.status).unwrap_or(StatusCode::OK));
    for (k, v) in canned.headers {
        r.insert_header((k, v));
    }
    let chunks: VecDeque<Vec<u8>> = canned.chunks.into();
    r.streaming(futures_util::stream::unfold(chunks, |mut c| async move {
        let next = c.pop_front()?;
        tokio::task::yield_now().await;
        Some((Ok::<Bytes, actix_web::Error>(Bytes::from(next)), c))
    }))
}

pub async fn spawn_canned(answers: Vec<Canned>) -> CannedServer {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = web::Data::new(State {
        answers: Mutex::new(answers.into()),
        seen: seen.clone(),
    });
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .default_service(web::to(answer))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .expect("listen")
    .run();
    actix_web::rt::spawn(server);
    CannedServer {
        base: format!("http://127.0.0.1:{port}"),
        seen,
    }
}
