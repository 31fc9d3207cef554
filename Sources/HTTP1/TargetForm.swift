/// The form of a request target (RFC 9112 §3.2). Authority-form is only used by CONNECT, which
/// the parser refuses with 501.
public enum TargetForm: Sendable {
    /// `/path?query`.
    case origin
    /// `http://authority/path?query` (or `https://`).
    case absolute
    /// `*`, only with OPTIONS.
    case asterisk
}
