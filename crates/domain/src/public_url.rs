//! The address people outside reach Dossier at: the start of every link
//! that leaves it (a portal link or an invitation in an email). Behind a
//! reverse proxy it differs from the address Dossier listens on, so it is
//! configured (`--public-url`); without it, the listening address stands in.

use std::fmt;
use std::net::SocketAddr;

/// An `http` or `https` URL with a host, no query, fragment or
/// credentials, and no trailing slash (a path prefix such as
/// `https://example.com/dossier` is kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = url::Url::parse(text.trim()).map_err(|e| format!("'{text}' is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("'{text}' must start with http:// or https://"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("'{text}' names no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("'{text}' must have no query (?…) or fragment (#…): links are made by adding a path to it"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("'{text}' must hold no user name or password"));
        }
        Ok(PublicUrl(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// The address a browser on this machine reaches `listen` at: an
    /// unspecified address (`0.0.0.0`, `[::]`) is reached on loopback.
    pub fn for_listen(listen: SocketAddr) -> Self {
        let host = match listen.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
            ip if ip.is_unspecified() => "[::1]".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        PublicUrl(format!("http://{host}:{}", listen.port()))
    }

    /// The absolute link to `path` (which starts with `/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `http://127.0.0.1:8080`: what `dossier serve` listens on by default.
impl Default for PublicUrl {
    fn default() -> Self {
        PublicUrl::for_listen(SocketAddr::from(([127, 0, 0, 1], 8080)))
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for PublicUrl {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        PublicUrl::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_url_is_http_or_https_without_query_and_without_trailing_slash() {
        assert_eq!(PublicUrl::parse("https://dossier.example/").unwrap().link("/portal/x"), "https://dossier.example/portal/x");
        assert_eq!(PublicUrl::parse("http://example.com:8443/crm/").unwrap().as_str(), "http://example.com:8443/crm");
        for bad in ["ftp://example.com", "dossier.example", "https://example.com/?a=1", "https://example.com/#top", "https://u:p@example.com", ""] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn without_one_the_listening_address_stands_in() {
        assert_eq!(PublicUrl::for_listen("0.0.0.0:9000".parse().unwrap()).as_str(), "http://127.0.0.1:9000");
        assert_eq!(PublicUrl::for_listen("[::]:80".parse().unwrap()).as_str(), "http://[::1]:80");
        assert_eq!(PublicUrl::default().as_str(), "http://127.0.0.1:8080");
    }
}
