//! Which proxy a destination goes through, and its credentials.

use std::sync::Arc;

use http::{HeaderValue, Uri};
use hyper_util::client::proxy::matcher::Matcher;

use crate::config::{Proxies, ProxyUrl};

/// Which proxy a destination goes through: the `proxies` setting, or the environment's
/// (`HTTP_PROXY`, `HTTPS_PROXY`) minus the `NO_PROXY` exceptions (hyper-util's matcher
/// applies them: host names with their subdomains, IP addresses and networks, `*`).
#[derive(Clone)]
pub(crate) struct ProxyRules {
    proxies: Proxies,
    matcher: Arc<Matcher>,
}

impl ProxyRules {
    pub(crate) fn new(proxies: Proxies) -> Self {
        // The matcher only decides; addresses and credentials come from our parsed URLs.
        let url = |p: &Option<ProxyUrl>| p.as_ref().map(proxy_url).unwrap_or_default();
        let matcher = Matcher::builder()
            .http(url(&proxies.http))
            .https(url(&proxies.https))
            .no(proxies.no_proxy.clone().unwrap_or_default())
            .build();
        ProxyRules {
            proxies,
            matcher: Arc::new(matcher),
        }
    }

    /// The proxy for `dst`, if any.
    pub(crate) fn proxy_for(&self, dst: &Uri) -> Option<&ProxyUrl> {
        self.matcher.intercept(dst)?;
        if dst.scheme() == Some(&http::uri::Scheme::HTTPS) {
            self.proxies.https.as_ref()
        } else {
            self.proxies.http.as_ref()
        }
    }
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
