//! Where requests go: the endpoint URL, proxies, and resolver overrides.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use serde_json::{Map, Value};

use super::Secret;
use super::setting_value::{SettingValue, json_object, json_string};

/// A proxy server, `http://[user:password@]host:port`.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// Host name or address of the proxy.
    pub host: String,
    /// TCP port of the proxy.
    pub port: u16,
    /// `user:password` for `Proxy-Authorization: Basic`, when the URL has them.
    pub auth: Option<Secret>,
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://")?;
        if self.auth.is_some() {
            write!(f, "***@")?;
        }
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl FromStr for ProxyUrl {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let rest = match raw.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => {
                return Err(
                    "https:// proxies (TLS to the proxy itself) are not supported: give the proxy as http://; \
                     requests to https endpoints still go through it in a CONNECT tunnel, with TLS end to end"
                        .into(),
                );
            }
            Some((scheme, _)) if scheme.to_ascii_lowercase().starts_with("socks") => {
                return Err(format!(
                    "{scheme}:// proxies are not supported: use an HTTP proxy (http://)"
                ));
            }
            Some((scheme, _)) => return Err(format!("unsupported proxy scheme `{scheme}` (use http://)")),
            None => raw,
        };
        let rest = rest.trim_end_matches('/');
        let (auth, hostport) = match rest.rsplit_once('@') {
            // Userinfo is percent-encoded in a URL (`p%40ss` is `p@ss`); the last `@` ends
            // it, so an unencoded `@` in a password still works.
            Some((a, h)) => (
                Some(Secret::new(
                    percent_encoding::percent_decode_str(a).decode_utf8_lossy().into_owned(),
                )),
                h,
            ),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port = p.parse::<u16>().map_err(|_| "invalid proxy port".to_string())?;
                (h, port)
            }
            _ => (hostport, 8080),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
            return Err("invalid proxy host".into());
        }
        Ok(ProxyUrl {
            host: host.to_owned(),
            port,
            auth,
        })
    }
}

/// Proxies by URL scheme (`AWS_S3_PROXIES`, botocore's `{"http": ..., "https": ...}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxies {
    /// Proxy for `http://` endpoints (requests are forwarded in absolute form).
    pub http: Option<ProxyUrl>,
    /// Proxy for `https://` endpoints (tunnelled with `CONNECT`).
    pub https: Option<ProxyUrl>,
    /// Destinations that go direct, in `NO_PROXY`'s syntax as Python reads it for
    /// botocore: `*` alone for all; else comma-separated host names or addresses, with or
    /// without a port, each matching itself and its subdomains (a leading dot changes
    /// nothing; case does not count). Set from the environment's `NO_PROXY` when the
    /// proxies come from the environment.
    pub no_proxy: Option<String>,
}

impl Proxies {
    pub(super) fn from_map(map: &Map<String, Value>) -> Result<Self, String> {
        let mut out = Proxies::default();
        for (k, v) in map {
            let url: ProxyUrl = json_string(k, v)?.parse().map_err(|e| format!("`{k}`: {e}"))?;
            match k.as_str() {
                "http" => out.http = Some(url),
                "https" => out.https = Some(url),
                _ => return Err(format!("unknown proxy scheme key `{k}` (expected http or https)")),
            }
        }
        Ok(out)
    }
}

impl SettingValue for Proxies {
    const KIND: &'static str = "JSON object {\"http\": url, \"https\": url}";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        Proxies::from_map(&json_object(raw)?)
    }
}

/// Host names dialled at fixed socket addresses, like curl's `--resolve`
/// (`AWS_S3_RESOLVE="bucket.localhost=127.0.0.1:9000,other=10.0.0.2:443"`).
/// A host given several times has several addresses, tried in that order (with happy
/// eyeballs between IPv6 and IPv4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolveOverrides(pub Vec<(String, SocketAddr)>);

impl SettingValue for ResolveOverrides {
    const KIND: &'static str = "host=ip:port pairs, comma-separated (or a JSON object)";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        let t = raw.trim();
        let pairs: Vec<(String, String)> = if t.starts_with('{') {
            json_object(t)?
                .iter()
                .map(|(k, v)| json_string(k, v).map(|s| (k.clone(), s)))
                .collect::<Result<_, _>>()?
        } else {
            t.split(',')
                .filter(|p| !p.trim().is_empty())
                .map(|p| {
                    p.split_once('=')
                        .map(|(h, a)| (h.trim().to_owned(), a.trim().to_owned()))
                        .ok_or_else(|| format!("`{p}` is not host=ip:port"))
                })
                .collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for (host, addr) in pairs {
            let addr: SocketAddr = addr
                .parse()
                .map_err(|_| format!("`{addr}` is not an ip:port address"))?;
            if host.is_empty() {
                return Err("empty host name".into());
            }
            out.push((host.to_ascii_lowercase(), addr));
        }
        Ok(ResolveOverrides(out))
    }
}

/// An S3 endpoint URL (`endpoint_url`): scheme, host, optional port and path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https` (true) or `http`.
    pub https: bool,
    /// Host name (lower case) or IP address (IPv6 without brackets).
    pub host: String,
    /// Port, when the URL gives one.
    pub port: Option<u16>,
    /// Path prefix without a trailing `/` (`""` or `/prefix`).
    pub path: String,
}

impl Endpoint {
    /// Whether the host is an IP address literal.
    pub fn is_ip(&self) -> bool {
        self.host.parse::<std::net::IpAddr>().is_ok()
    }

    /// `host[:port]` as it goes in a URL (IPv6 in brackets).
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme(), self.authority(), self.path)
    }
}

impl FromStr for Endpoint {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| "expected a URL with a scheme, such as https://s3.example.com".to_string())?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            other => return Err(format!("unsupported scheme `{other}` (expected http or https)")),
        };
        if rest.contains(['?', '#']) {
            return Err("an endpoint URL takes no query or fragment".into());
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err("an endpoint URL takes no user or password".into());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or("unclosed `[` in host")?;
            h.parse::<std::net::Ipv6Addr>()
                .map_err(|_| "invalid IPv6 address".to_string())?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or("invalid port")?),
            };
            (h.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
                None => (authority.to_ascii_lowercase(), None),
            }
        };
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| "invalid port".to_string())
            })
            .transpose()?;
        // Only a bracketed IPv6 address may contain `:` (checked above).
        let bracketed = authority.starts_with('[');
        let valid_host = !host.is_empty()
            && host.len() <= 253
            && (bracketed
                || host.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                }));
        if !valid_host {
            return Err("invalid host name".into());
        }
        if path.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err("the path must be ASCII without spaces (percent-encode it)".into());
        }
        Ok(Endpoint {
            https,
            host,
            port,
            path: path.trim_end_matches('/').to_owned(),
        })
    }
}

impl SettingValue for Endpoint {
    const KIND: &'static str = "URL with scheme, host, optional port and path";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        raw.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn proxies_parse_and_hide_passwords() {
        let p = Proxies::parse_setting(r#"{"http": "foo.bar:3128", "https": "http://u:pw@10.0.0.1:8443"}"#).unwrap();
        assert_eq!(p.http.as_ref().unwrap().host, "foo.bar");
        assert_eq!(p.http.as_ref().unwrap().port, 3128);
        let https = p.https.as_ref().unwrap();
        assert_eq!(https.auth.as_ref().unwrap().expose(), "u:pw");
        assert!(!format!("{p:?}").contains("pw"));
        assert!(Proxies::parse_setting(r#"{"ftp": "x:1"}"#).is_err());
        assert!(Proxies::parse_setting(r#"{"http": "socks5://x:1"}"#).is_err());
    }

    #[test]
    fn resolve_overrides_parse() {
        let r = ResolveOverrides::parse_setting("Bucket.Localhost=127.0.0.1:9000, x=[::1]:80").unwrap();
        assert_eq!(r.0[0].0, "bucket.localhost");
        assert_eq!(r.0[1].1.port(), 80);
        assert!(ResolveOverrides::parse_setting("x=notanaddr").is_err());
        assert!(ResolveOverrides::parse_setting("noequals").is_err());
    }

    #[test]
    fn endpoints_parse_and_reject_malformed_urls() {
        let e: Endpoint = "http://127.0.0.1:9000/s3".parse().unwrap();
        assert_eq!(
            (e.https, e.host.as_str(), e.port, e.path.as_str()),
            (false, "127.0.0.1", Some(9000), "/s3")
        );
        assert!(e.is_ip());
        assert!("minio:9000".parse::<Endpoint>().is_err(), "the scheme is required");
        let e: Endpoint = "HTTPS://S3.Example.com".parse().unwrap();
        assert_eq!(
            (e.https, e.host.as_str(), e.port, e.path.as_str()),
            (true, "s3.example.com", None, "")
        );
        let v6: Endpoint = "http://[::1]:9000/".parse().unwrap();
        assert_eq!(v6.authority(), "[::1]:9000");
        assert!(v6.is_ip());
        for bad in [
            "",
            "s3.example.com",
            "ftp://x",
            "http://",
            "http://h:0",
            "http://h:99999",
            "http://h/p?q=1",
            "http://u:p@h",
            "http://a..b",
            "http://[::1",
            "http://h h",
            "http://h:port",
            "http://a:1:1",
            "http://x:1:1/p",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad}");
        }
    }
}
