//! The client's address and scheme, as everything that keys on "who is this" must see them: the per-IP
//! limiter, the audit log, failed-login records. One function, [`client_addr`], for every caller.
//!
//! Behind a proxy the socket peer is the proxy, so every visitor would share its address. Forwarded
//! headers fix that, but anyone can send them: they are read only when the socket peer is listed in
//! `BUKO_TRUSTED_PROXIES` (CIDR list). Then the client is the rightmost hop that is *not* a trusted
//! proxy — hops to its left were written by the client itself and prove nothing. `Forwarded` (RFC 7239)
//! is read when present, else `X-Forwarded-For`; the scheme comes from `X-Forwarded-Proto` (or
//! `Forwarded: proto=`). A proxy in front must set or clear both headers (deploy/nginx does).

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpRequest};

/// One `address/prefix` block (a bare address is a /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An entry of a proxy list that is not an address or a CIDR block.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CidrError {
    #[error("{0:?} is not an IP address or CIDR block")]
    Address(String),
    #[error("{0:?} has an invalid prefix length")]
    Prefix(String),
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        let s = s.trim();
        let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
        let net = canonical(
            addr.parse::<IpAddr>()
                .map_err(|_| CidrError::Address(s.to_string()))?,
        );
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| CidrError::Prefix(s.to_string()))?
        };
        Ok(Cidr { net, prefix })
    }
}

/// The proxies whose forwarded headers are believed (`BUKO_TRUSTED_PROXIES`, e.g.
/// `10.0.0.0/8,127.0.0.1`). Empty: no header is believed, the socket address is the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// A comma- or space-separated list of CIDR blocks.
    pub fn parse(list: &str) -> Result<TrustedProxies, CidrError> {
        list.split([',', ' '])
            .filter(|s| !s.trim().is_empty())
            .map(Cidr::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }
}

/// Who is asking, after the trusted proxies are peeled off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr {
    /// `None` only when the server knows no peer at all (a test request without a socket).
    pub ip: Option<IpAddr>,
    /// `https` only when the connection or a trusted proxy says so.
    pub https: bool,
}

impl ClientAddr {
    /// The address as text for keys and records (`"unknown"` without a peer).
    pub fn ip_string(&self) -> String {
        self.ip
            .map_or_else(|| "unknown".to_string(), |i| i.to_string())
    }
}

/// The client of this request (every caller uses this; see the module doc). The trusted list comes
/// from the app data the application registers; without it nothing is trusted.
pub fn client_addr(req: &HttpRequest) -> ClientAddr {
    let empty = TrustedProxies::default();
    let trusted = req.app_data::<web::Data<TrustedProxies>>();
    let trusted = trusted.map_or(&empty, |t| t.get_ref());
    let peer = req.peer_addr().map(|a| a.ip());
    // Not `connection_info()`: it believes forwarded headers from anyone.
    resolve(peer, req.headers(), trusted, req.app_config().secure())
}

/// The pure rule behind [`client_addr`].
pub fn resolve(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
    socket_https: bool,
) -> ClientAddr {
    let direct = ClientAddr {
        ip: peer.map(canonical),
        https: socket_https,
    };
    let Some(peer) = peer.filter(|p| trusted.trusts(*p)) else {
        return direct;
    };
    let (hops, proto) = forwarded_hops(headers);
    let mut client = canonical(peer);
    for hop in hops.iter().rev() {
        match hop {
            // An unreadable hop ("unknown", an obfuscated name) ends the chain: the last address a
            // trusted proxy vouched for is as far as the truth goes.
            None => break,
            Some(ip) => {
                client = canonical(*ip);
                if !trusted.trusts(client) {
                    break;
                }
            }
        }
    }
    let https = match proto.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => true,
        Some("http") => false,
        _ => socket_https,
    };
    ClientAddr {
        ip: Some(client),
        https,
    }
}

/// The hops of `Forwarded` (every header, in order) when present, else of `X-Forwarded-For`; and the
/// forwarded protocol (the last one given).
fn forwarded_hops(headers: &HeaderMap) -> (Vec<Option<IpAddr>>, Option<String>) {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let xfp = values("x-forwarded-proto").pop();
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        let mut proto = None;
        let hops = forwarded
            .iter()
            .map(|element| {
                let mut hop = None;
                for pair in element.split(';') {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    let v = v.trim().trim_matches('"');
                    match k.trim().to_ascii_lowercase().as_str() {
                        "for" => hop = parse_hop(v),
                        "proto" => proto = Some(v.to_string()),
                        _ => {}
                    }
                }
                hop
            })
            .collect();
        return (hops, proto.or(xfp));
    }
    let hops = values("x-forwarded-for")
        .iter()
        .map(|h| parse_hop(h))
        .collect();
    (hops, xfp)
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`, `2001:db8::1`.
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    s.rsplit_once(':')?.0.parse().ok()
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`, what a dual-stack socket reports) as plain IPv4, so one client
/// has one key whichever way it connected.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    fn trusted() -> TrustedProxies {
        TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").expect("list")
    }

    #[test]
    fn cidr_blocks_parse_and_match() {
        let t = TrustedProxies::parse("10.0.0.0/8,2001:db8::/32 192.168.1.7").expect("parse");
        assert!(t.trusts("10.200.3.4".parse().expect("ip")));
        assert!(!t.trusts("11.0.0.1".parse().expect("ip")));
        assert!(t.trusts("2001:db8:1::5".parse().expect("ip")));
        assert!(t.trusts("::ffff:192.168.1.7".parse().expect("ip")));
        assert!(!t.trusts("192.168.1.8".parse().expect("ip")));
        assert!(TrustedProxies::parse("0.0.0.0/0")
            .expect("all")
            .trusts("8.8.8.8".parse().expect("ip")));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
        assert!(TrustedProxies::parse("").expect("empty").is_empty());
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "https"),
        ]);
        let c = resolve(ip("203.0.113.9"), &h, &trusted(), false);
        assert_eq!(c.ip, ip("203.0.113.9"));
        assert!(!c.https);
        let c = resolve(ip("203.0.113.9"), &h, &TrustedProxies::default(), false);
        assert_eq!(c.ip, ip("203.0.113.9"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        // The client forged "1.2.3.4"; the proxy appended the real peer 198.51.100.2.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.2, 10.1.1.1")]);
        let c = resolve(ip("10.0.0.5"), &h, &trusted(), false);
        assert_eq!(c.ip, ip("198.51.100.2"));
        // Repeated headers count as one list, in order.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "198.51.100.3"),
        ]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &h, &trusted(), false).ip,
            ip("198.51.100.3")
        );
        // Only trusted hops: the leftmost is the client.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(
            resolve(ip("10.0.0.5"), &h, &trusted(), false).ip,
            ip("10.9.9.9")
        );
        // No header from a trusted proxy: the proxy itself.
        assert_eq!(
            resolve(ip("10.0.0.5"), &HeaderMap::new(), &trusted(), false).ip,
            ip("10.0.0.5")
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_carries_ports_and_proto() {
        let h = headers(&[
            (
                "forwarded",
                "for=1.2.3.4, for=\"[2001:db8::7]:4711\";proto=https",
            ),
            ("x-forwarded-for", "9.9.9.9"),
        ]);
        let c = resolve(ip("127.0.0.1"), &h, &trusted(), false);
        assert_eq!(c.ip, ip("2001:db8::7"));
        assert!(c.https);
        let h = headers(&[("forwarded", "for=unknown, for=10.2.2.2")]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &h, &trusted(), false).ip,
            ip("10.2.2.2")
        );
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.4:5555"),
            ("x-forwarded-proto", "https"),
        ]);
        let c = resolve(ip("::ffff:127.0.0.1"), &h, &trusted(), false);
        assert_eq!(c.ip, ip("198.51.100.4"));
        assert!(c.https);
    }
}
