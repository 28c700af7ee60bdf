//! Small HTTP helpers over awc: one client per thread (awc is not `Send`), API calls with `X-API-Key`,
//! and a password login that keeps the session cookie for page requests.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{anyhow, Context};
use serde_json::Value;

/// An HTTP client for one load thread; `limit` caps its pooled connections (0 = no cap).
pub fn client(limit: usize, source: Option<std::net::IpAddr>) -> awc::Client {
    let mut connector = awc::Connector::new()
        .limit(limit)
        .timeout(Duration::from_secs(10))
        .conn_keep_alive(Duration::from_secs(60))
        .conn_lifetime(Duration::from_secs(3600));
    if let Some(ip) = source {
        connector = connector.local_address(ip);
    }
    awc::Client::builder()
        .connector(connector)
        .disable_redirects()
        .timeout(Duration::from_secs(30))
        .finish()
}

/// Status and body of an API call.
pub async fn api(
    client: &awc::Client,
    method: awc::http::Method,
    url: &str,
    key: &str,
    body: Option<&Value>,
) -> anyhow::Result<(u16, Value)> {
    let req = client
        .request(method, url)
        .insert_header(("x-api-key", key));
    let mut res = match body {
        Some(b) => req.send_json(b).await,
        None => req.send().await,
    }
    .map_err(|e| anyhow!("{url}: {e}"))?;
    let bytes = res
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .map_err(|e| anyhow!("{url}: body: {e}"))?;
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((res.status().as_u16(), v))
}

fn absorb_cookies<S>(res: &awc::ClientResponse<S>, jar: &mut BTreeMap<String, String>) {
    for v in res.headers().get_all("set-cookie") {
        let Ok(v) = v.to_str() else { continue };
        let pair = v.split(';').next().unwrap_or("");
        if let Some((k, val)) = pair.split_once('=') {
            jar.insert(k.trim().to_string(), val.to_string());
        }
    }
}

fn cookie_header(jar: &BTreeMap<String, String>) -> String {
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

/// Logs in through the login form and returns the `Cookie` header of the session.
pub async fn login(
    client: &awc::Client,
    base: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let mut jar = BTreeMap::new();
    let mut page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .map_err(|e| anyhow!("GET /login: {e}"))?;
    absorb_cookies(&page, &mut jar);
    let html = page
        .body()
        .await
        .map_err(|e| anyhow!("GET /login body: {e}"))?;
    let token = csrf_in(&String::from_utf8_lossy(&html)).context("no CSRF token on /login")?;
    let res = client
        .post(format!("{base}/login"))
        .insert_header(("cookie", cookie_header(&jar)))
        .send_form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", password),
        ])
        .await
        .map_err(|e| anyhow!("POST /login: {e}"))?;
    let status = res.status().as_u16();
    absorb_cookies(&res, &mut jar);
    if !(200..400).contains(&status) {
        return Err(anyhow!("POST /login answered {status}"));
    }
    Ok(cookie_header(&jar))
}
