//! The SMS gateway: what sends a text, and its one real implementation,
//! a provider reached over HTTP with a JSON body.
//!
//! The provider contract (docs/configuration.md, "SMS"): `POST
//! <provider_url>` with `Authorization: Bearer <api key>`,
//! `Idempotency-Key: <message id>` and `{"to": "+447700900123", "from":
//! <sender>, "text": "…"}`; a 2xx answer is `{"id": "<provider id>"}`. A
//! 4xx answer (but 429) is a permanent refusal; 429, 5xx, timeouts and
//! connection failures are transient and tried again later.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

/// How long a send may take before it is given up as transient.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// The longest provider answer kept with a failure.
const MAX_ANSWER_CHARS: usize = 500;

/// Why a send did not go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayError {
    /// The provider refused it for good (trying again will not help).
    pub permanent: bool,
    /// What the provider answered, or what went wrong on the way.
    pub message: String,
}

impl GatewayError {
    fn transient(message: impl Into<String>) -> Self {
        Self { permanent: false, message: message.into() }
    }
}

/// What sends a text: returns the provider's id of it.
pub trait SmsGateway: Send + Sync {
    /// Send `text` to `to` (E.164) as `from`. `key` names the message, so a
    /// provider that honours it never sends one message twice.
    fn send(&self, key: &str, to: &str, from: &str, text: &str) -> impl Future<Output = Result<String, GatewayError>> + Send;
}

/// A provider reached over HTTP (JSON in, JSON out).
pub struct HttpGateway {
    url: String,
    api_key: String,
}

impl std::fmt::Debug for HttpGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpGateway").field("url", &self.url).field("api_key", &"***").finish()
    }
}

/// One client for every send: it keeps connections to the provider open.
fn client() -> Result<&'static reqwest::Client, GatewayError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let built = reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| GatewayError::transient(format!("the HTTP client could not be made: {e}")))?;
    Ok(CLIENT.get_or_init(|| built))
}

impl HttpGateway {
    pub fn new(url: String, api_key: String) -> Self {
        Self { url, api_key }
    }
}

#[derive(Deserialize)]
struct Accepted {
    id: String,
}

fn shortened(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_ANSWER_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

impl SmsGateway for HttpGateway {
    async fn send(&self, key: &str, to: &str, from: &str, text: &str) -> Result<String, GatewayError> {
        let body = json!({ "to": to, "from": from, "text": text }).to_string();
        let answer = client()?
            .post(&self.url)
            .bearer_auth(&self.api_key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .header("Idempotency-Key", key)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                let what = if e.is_timeout() { "did not answer in time" } else { "could not be reached" };
                GatewayError::transient(format!("the SMS provider {what}: {}", e.without_url()))
            })?;
        let status = answer.status();
        let text = answer.text().await.unwrap_or_default();
        if status.is_success() {
            let accepted: Accepted = serde_json::from_str(&text)
                .map_err(|_| GatewayError::transient(format!("the SMS provider answered {status} without an id: {}", shortened(&text))))?;
            let id = accepted.id.trim();
            if id.is_empty() || id.len() > 200 {
                return Err(GatewayError::transient(format!("the SMS provider answered {status} with an unusable id")));
            }
            return Ok(id.to_owned());
        }
        let message = format!("the SMS provider answered {status}: {}", shortened(&text));
        let permanent = status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS;
        Err(GatewayError { permanent, message })
    }
}
