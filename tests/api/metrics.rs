use crate::helpers::{spawn_app, Client};

/// Every sample line is `name{labels} value` with a finite number; comments are HELP/TYPE.
fn parse(text: &str) -> Vec<(String, f64)> {
    let mut samples = vec![];
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let kind = comment.split_whitespace().next().unwrap_or("");
            assert!(kind == "HELP" || kind == "TYPE", "bad comment line: {line}");
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let name = series.split('{').next().unwrap_or("");
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        if series.contains('{') {
            assert!(series.ends_with('}'), "unterminated labels: {line}");
        }
        samples.push((series.to_string(), value));
    }
    samples
}

fn live_requests(samples: &[(String, f64)]) -> f64 {
    samples
        .iter()
        .filter(|(s, _)| {
            s.starts_with("buko_http_requests_total{")
                && s.contains("route=\"/health/live\"")
                && s.contains("status=\"200\"")
        })
        .map(|(_, v)| v)
        .sum()
}

#[actix_web::test]
async fn metrics_parse_as_prometheus_text_and_counters_move() {
    let app = spawn_app().await;
    let c = Client::new(&app);
    let first = c.get("/metrics").await;
    assert_eq!(first.status, 200);
    assert!(first
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/plain"));
    let before = live_requests(&parse(&first.body));
    for _ in 0..3 {
        assert_eq!(c.get("/health/live").await.status, 200);
    }
    let after_body = c.get("/metrics").await.body;
    let after = parse(&after_body);
    assert!(
        live_requests(&after) >= before + 3.0,
        "counter moved from {before}"
    );
    for gauge in [
        "buko_db_pool_connections",
        "buko_jobs{",
        "buko_generations_running",
        "buko_circuit_breaker_state",
    ] {
        assert!(
            after.iter().any(|(s, _)| s.starts_with(gauge)),
            "missing {gauge}"
        );
    }
    assert!(
        after_body.contains("buko_http_request_duration_seconds_bucket"),
        "latency histogram"
    );
}
