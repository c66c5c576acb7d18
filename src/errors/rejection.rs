//! Recognizes axum extractor rejections, whose bodies echo internal type names and field paths
//! (`Failed to deserialize the JSON body into the target type: missing field `email``), and says
//! only which part of the request was invalid.

/// The part of a request a rejection is about.
///
/// ```
/// use safeguard::errors::RequestPart;
/// assert_eq!(RequestPart::Query.detail(), "The query string is invalid.");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestPart {
    /// The request body.
    Body,
    /// The query string.
    Query,
    /// The request path (path parameters).
    Path,
    /// A request header (e.g. `Content-Type`).
    Header,
}

impl RequestPart {
    /// A detail that is safe to show: which part was invalid, nothing more.
    ///
    /// ```
    /// use safeguard::errors::RequestPart;
    /// assert_eq!(RequestPart::Body.detail(), "The request body is invalid.");
    /// ```
    pub fn detail(self) -> &'static str {
        match self {
            RequestPart::Body => "The request body is invalid.",
            RequestPart::Query => "The query string is invalid.",
            RequestPart::Path => "The request path is invalid.",
            RequestPart::Header => "A request header is missing or invalid.",
        }
    }

    /// A stable name, used in logs.
    ///
    /// ```
    /// assert_eq!(safeguard::errors::RequestPart::Header.as_str(), "header");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            RequestPart::Body => "body",
            RequestPart::Query => "query",
            RequestPart::Path => "path",
            RequestPart::Header => "header",
        }
    }
}

// Prefixes of the bodies axum 0.7/0.8 (and axum-extra) send for extractor rejections. Longer
// prefixes come first where one prefix is a prefix of another.
const PREFIXES: &[(&[u8], RequestPart)] = &[
    (b"Failed to deserialize the JSON body", RequestPart::Body),
    (
        b"Failed to parse the request body as JSON",
        RequestPart::Body,
    ),
    (b"Failed to buffer the request body", RequestPart::Body),
    (
        b"Request body didn't contain valid UTF-8",
        RequestPart::Body,
    ),
    (b"Failed to deserialize form body", RequestPart::Body),
    (
        b"Error parsing `multipart/form-data` request",
        RequestPart::Body,
    ),
    (b"Failed to deserialize form", RequestPart::Query),
    (b"Failed to deserialize query string", RequestPart::Query),
    (b"Invalid URL", RequestPart::Path),
    (b"Invalid UTF-8 in `", RequestPart::Path),
    (b"Expected request with `Content-Type", RequestPart::Header),
    (
        b"Form requests must have `Content-Type",
        RequestPart::Header,
    ),
    (
        b"Invalid `boundary` for `multipart/form-data` request",
        RequestPart::Header,
    ),
    (b"Header of type `", RequestPart::Header),
];

/// Says which part of the request an axum rejection body is about, or `None` if `body` is not an
/// axum rejection.
///
/// ```
/// use safeguard::errors::{classify_rejection, RequestPart};
/// let body = b"Failed to deserialize the JSON body into the target type: missing field `email` at line 1 column 13";
/// assert_eq!(classify_rejection(body), Some(RequestPart::Body));
/// assert_eq!(classify_rejection(b"Invalid URL: Cannot parse `abc` to a `u32`"), Some(RequestPart::Path));
/// assert_eq!(classify_rejection(b"name is required"), None);
/// ```
pub fn classify_rejection(body: &[u8]) -> Option<RequestPart> {
    let body = body.trim_ascii_start();
    PREFIXES
        .iter()
        .find(|(prefix, _)| body.starts_with(prefix))
        .map(|(_, part)| *part)
}
