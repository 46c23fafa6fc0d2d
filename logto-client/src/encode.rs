//! Percent-encoding of path parameters, so that a value is always exactly
//! one path segment.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986 "unreserved" characters is encoded: `/`, `?`,
/// `#` and `%` can never change the path.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Encodes `value` as one path segment. `.`, `..` (which URL parsers
/// resolve, even percent-encoded) and the empty string are refused.
pub fn path_segment(value: &str) -> Result<String, &'static str> {
    match value {
        "" => Err("is empty"),
        "." | ".." => Err("cannot be `.` or `..`"),
        _ => Ok(utf8_percent_encode(value, SEGMENT).to_string()),
    }
}

/// `application/x-www-form-urlencoded`: everything but `*-._` and
/// alphanumerics is encoded, spaces as `+`.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b' ');

/// Encodes one name or value of a form body.
pub fn form_component(value: &str) -> String {
    utf8_percent_encode(value, FORM)
        .to_string()
        .replace(' ', "+")
}

#[cfg(test)]
mod tests {
    use super::{form_component, path_segment};

    #[test]
    fn form_components_encode_as_html_forms_do() {
        assert_eq!(form_component("a b&c=d+é"), "a+b%26c%3Dd%2B%C3%A9");
    }

    #[test]
    fn values_stay_one_segment() {
        assert_eq!(path_segment("abc-1.2_~").as_deref(), Ok("abc-1.2_~"));
        assert_eq!(path_segment("../x").as_deref(), Ok("..%2Fx"));
        assert_eq!(path_segment("a/b").as_deref(), Ok("a%2Fb"));
        assert_eq!(path_segment("a?b#c").as_deref(), Ok("a%3Fb%23c"));
        assert_eq!(path_segment("%2F").as_deref(), Ok("%252F"));
        assert!(path_segment("..").is_err());
        assert!(path_segment("").is_err());
    }
}
