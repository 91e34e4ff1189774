//! Security headers on every answer (see docs/security.md, "Headers").

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Pages load only our own script, stylesheet and images, fetch only from
/// us, post forms only to us, and are framed by no one. No inline script or
/// style is allowed: the templates have none.
pub const PAGE_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Everything else (JSON, problem documents, text) loads nothing and is
/// framed by no one.
pub const DOCUMENT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// PDFs are framed by no one. `default-src 'none'` would also forbid the
/// browser's own PDF viewer (a plugin: `object-src`).
pub const PDF_POLICY: &str = "frame-ancestors 'none'";

/// Add the security headers to every answer:
///
/// - `Content-Security-Policy` by what the answer is (above);
/// - `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`;
/// - `X-Content-Type-Options: nosniff`: a JSON answer is never run as a script or page;
/// - `Referrer-Policy: no-referrer` on the portal, whose address is its secret
///   (not even our own static files are sent it), `same-origin` elsewhere;
/// - `Cache-Control: no-store` unless the answer says otherwise (only the
///   static assets do): API answers, pages and PDFs show one person's data.
pub async fn secure(request: Request, next: Next) -> Response {
    let portal = request.uri().path().starts_with("/portal/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let policy = match content_type {
        t if t.starts_with("text/html") => PAGE_POLICY,
        t if t.starts_with("application/pdf") => PDF_POLICY,
        _ => DOCUMENT_POLICY,
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static(if portal { "no-referrer" } else { "same-origin" }));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    headers.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    response
}
