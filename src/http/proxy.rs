//! Which proxy a destination goes through, and its credentials.

use std::sync::Arc;

use http::{HeaderValue, Uri};

use crate::config::{Proxies, ProxyUrl};

/// Which proxy a destination goes through: the `proxies` setting, or the environment's
/// (`HTTP_PROXY`, `HTTPS_PROXY`) minus the `NO_PROXY` exceptions, decided as botocore
/// decides them (through Python's `urllib`), so that a program moving between the two
/// gets the same answer.
#[derive(Clone)]
pub(crate) struct ProxyRules {
    proxies: Arc<Proxies>,
}

impl ProxyRules {
    pub(crate) fn new(proxies: Proxies) -> Self {
        ProxyRules {
            proxies: Arc::new(proxies),
        }
    }

    /// The proxy for `dst`, if any.
    pub(crate) fn proxy_for(&self, dst: &Uri) -> Option<&ProxyUrl> {
        let proxy = if dst.scheme() == Some(&http::uri::Scheme::HTTPS) {
            self.proxies.https.as_ref()
        } else {
            self.proxies.http.as_ref()
        }?;
        let host = dst.host()?;
        let netloc = match dst.port_u16() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        match &self.proxies.no_proxy {
            Some(no_proxy) if bypasses(no_proxy, &netloc) => None,
            _ => Some(proxy),
        }
    }
}

/// Whether `NO_PROXY` sends a destination direct, by Python's `proxy_bypass_environment`
/// (what botocore applies): `*` alone bypasses everything; otherwise each comma-separated
/// entry, trimmed, without leading dots and in lower case, matches the destination's host
/// or its `host:port` (`netloc`, the port only when the URL gives one) when equal to it or
/// a dot-suffix of it. No CIDR networks and no wildcards, as in Python.
pub(crate) fn bypasses(no_proxy: &str, netloc: &str) -> bool {
    if no_proxy == "*" {
        return true;
    }
    let netloc = netloc.to_lowercase();
    // Python's `_splitport`: the part before the last `:` when only digits follow it.
    let host = match netloc.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => netloc.as_str(),
    };
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            let name = entry.trim_start_matches('.').to_lowercase();
            let suffix = format!(".{name}");
            host == name || netloc == name || host.ends_with(&suffix) || netloc.ends_with(&suffix)
        })
}

/// The proxy's address as a URL, without its credentials.
pub(crate) fn proxy_url(p: &ProxyUrl) -> String {
    if p.host.contains(':') {
        format!("http://[{}]:{}", p.host, p.port)
    } else {
        format!("http://{}:{}", p.host, p.port)
    }
}

/// `Proxy-Authorization: Basic ...` for a proxy's credentials.
pub(crate) fn basic_auth(proxy: &ProxyUrl) -> Option<HeaderValue> {
    use base64::Engine as _;
    let auth = proxy.auth.as_ref()?;
    let token = base64::engine::general_purpose::STANDARD.encode(auth.expose());
    let mut value = HeaderValue::from_str(&format!("Basic {token}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Destinations, as `netloc`s.
    const HOSTS: [&str; 15] = [
        "127.0.0.1:9000",
        "127.0.0.1",
        "localhost:9000",
        "localhost",
        "LocalHost:9000",
        "example.com",
        "s3.example.com",
        "badexample.com",
        "Example.COM:443",
        "10.1.2.3",
        "[::1]:9000",
        "[::1]",
        "minio:9000",
        "bucket.s3.amazonaws.com",
        "s3.amazonaws.com",
    ];

    /// `NO_PROXY` values and, for each of `HOSTS`, whether CPython 3.11.7's
    /// `urllib.request.proxy_bypass_environment(host, {"no": value})` bypasses the proxy
    /// (1) or not (0), as it printed them.
    const CPYTHON: [(&str, &str); 20] = [
        ("*", "111111111111111"),
        ("127.0.0.1", "110000000000000"),
        ("127.0.0.1:9000", "100000000000000"),
        ("localhost:9000", "001010000000000"),
        ("localhost", "001110000000000"),
        (".example.com", "000001101000000"),
        ("example.com", "000001101000000"),
        ("EXAMPLE.com", "000001101000000"),
        (" example.com , other.org ", "000001101000000"),
        ("*.example.com", "000000000000000"),
        ("10.0.0.0/8", "000000000000000"),
        ("::1", "000000000000000"),
        ("[::1]", "000000000011000"),
        ("[::1]:9000", "000000000010000"),
        ("minio", "000000000000100"),
        (".", "000000000000000"),
        ("", "000000000000000"),
        (",", "000000000000000"),
        ("*,minio", "000000000000100"),
        ("s3.amazonaws.com", "000000000000011"),
    ];

    #[test]
    fn no_proxy_decides_as_cpython_does() {
        for (no_proxy, answers) in CPYTHON {
            for (host, answer) in HOSTS.iter().zip(answers.chars()) {
                assert_eq!(bypasses(no_proxy, host), answer == '1', "NO_PROXY={no_proxy:?}, {host}");
            }
        }
    }

    #[test]
    fn the_proxy_for_a_url_follows_its_scheme_and_no_proxy() {
        let proxy: ProxyUrl = "http://proxy:3128".parse().unwrap();
        let rules = ProxyRules::new(Proxies {
            http: Some(proxy.clone()),
            https: None,
            no_proxy: Some("127.0.0.1:9000,localhost".into()),
        });
        let uri = |u: &str| u.parse::<Uri>().unwrap();
        assert_eq!(rules.proxy_for(&uri("http://127.0.0.1:9000/b/k")), None);
        assert_eq!(rules.proxy_for(&uri("http://localhost:9000/b/k")), None);
        assert_eq!(rules.proxy_for(&uri("http://127.0.0.1:9001/b/k")), Some(&proxy));
        assert_eq!(
            rules.proxy_for(&uri("https://s3.amazonaws.com/b/k")),
            None,
            "no https proxy"
        );
    }
}
