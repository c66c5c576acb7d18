//! RFC 9457 problem details, the one error body every layer of this crate sends.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

/// The media type of a problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document (`application/problem+json`).
///
/// Layers build these for the responses they generate; the fields are whatever a client may see,
/// so never put internals here.
///
/// ```
/// use http::StatusCode;
/// use safeguard::problem::ProblemDetails;
///
/// let p = ProblemDetails::for_status(StatusCode::FORBIDDEN)
///     .with_detail("You are not allowed to do this.")
///     .with_instance("urn:safeguard:incident:abc");
/// let body: serde_json::Value = serde_json::from_slice(&p.to_bytes()).unwrap();
/// assert_eq!(body["status"], 403);
/// assert_eq!(body["title"], "Forbidden");
/// assert_eq!(body["type"], "about:blank");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProblemDetails {
    /// A URI reference that identifies the problem type; `about:blank` when the status says all.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short, human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// A human-readable explanation specific to this occurrence, safe for the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// A URI reference that identifies this occurrence, e.g. the incident URN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

impl ProblemDetails {
    /// A problem of type `about:blank` whose title is the status's canonical reason.
    ///
    /// ```
    /// use http::StatusCode;
    /// let p = safeguard::problem::ProblemDetails::for_status(StatusCode::INTERNAL_SERVER_ERROR);
    /// assert_eq!(p.title, "Internal Server Error");
    /// ```
    pub fn for_status(status: StatusCode) -> Self {
        Self {
            type_uri: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: None,
            instance: None,
        }
    }

    /// Sets the problem type URI.
    ///
    /// ```
    /// use http::StatusCode;
    /// let p = safeguard::problem::ProblemDetails::for_status(StatusCode::BAD_REQUEST)
    ///     .with_type("https://example.com/problems/bad-path");
    /// assert_eq!(p.type_uri, "https://example.com/problems/bad-path");
    /// ```
    pub fn with_type(mut self, type_uri: impl Into<String>) -> Self {
        self.type_uri = type_uri.into();
        self
    }

    /// Sets the title.
    ///
    /// ```
    /// use http::StatusCode;
    /// let p = safeguard::problem::ProblemDetails::for_status(StatusCode::BAD_REQUEST)
    ///     .with_title("Invalid path");
    /// assert_eq!(p.title, "Invalid path");
    /// ```
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Sets the detail.
    ///
    /// ```
    /// use http::StatusCode;
    /// let p = safeguard::problem::ProblemDetails::for_status(StatusCode::BAD_REQUEST)
    ///     .with_detail("The path is malformed.");
    /// assert_eq!(p.detail.as_deref(), Some("The path is malformed."));
    /// ```
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Sets the instance URI.
    ///
    /// ```
    /// use http::StatusCode;
    /// let p = safeguard::problem::ProblemDetails::for_status(StatusCode::BAD_GATEWAY)
    ///     .with_instance("urn:safeguard:incident:42");
    /// assert_eq!(p.instance.as_deref(), Some("urn:safeguard:incident:42"));
    /// ```
    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// The status as a [`StatusCode`] (500 if the stored code is out of range).
    ///
    /// ```
    /// use http::StatusCode;
    /// let p = safeguard::problem::ProblemDetails::for_status(StatusCode::NOT_FOUND);
    /// assert_eq!(p.status_code(), StatusCode::NOT_FOUND);
    /// ```
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON document.
    ///
    /// ```
    /// use http::StatusCode;
    /// let p = safeguard::problem::ProblemDetails::for_status(StatusCode::NOT_FOUND);
    /// assert!(p.to_bytes().starts_with(b"{\"type\":\"about:blank\""));
    /// ```
    pub fn to_bytes(&self) -> Bytes {
        // Serializing plain strings and integers into a Vec cannot fail.
        Bytes::from(serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec()))
    }

    /// A complete response: status, `Content-Type: application/problem+json`,
    /// `Cache-Control: no-store` and the document as body, converted into any body type that can
    /// be made from [`Bytes`].
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::StatusCode;
    /// use http_body_util::Full;
    /// use safeguard::problem::ProblemDetails;
    ///
    /// let res = ProblemDetails::for_status(StatusCode::UNAUTHORIZED).into_response::<Full<Bytes>>();
    /// assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    /// assert_eq!(res.headers()["content-type"], "application/problem+json");
    /// ```
    pub fn into_response<B: From<Bytes>>(self) -> http::Response<B> {
        let bytes = self.to_bytes();
        let mut res = http::Response::new(B::from(bytes.clone()));
        *res.status_mut() = self.status_code();
        let headers = res.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        res
    }
}
