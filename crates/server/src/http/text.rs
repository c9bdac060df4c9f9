//! Text as requests bring it. NUL cannot be stored by PostgreSQL and no other C0 control
//! character belongs in an identity store, so they are refused once, here, where input
//! is decoded: in JSON and form bodies (tab, CR and LF are allowed there) and in paths
//! (no control character at all). Query values are not refused: a filter with a control
//! character matches nothing, which the lookups behind it answer (`storage::is_storable`).

use serde_json::Value;

/// A body value that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not valid JSON, or not a valid form encoding.
    Malformed,
    /// A name or value holds a refused control character; `field` names it.
    ControlCharacter { field: String },
}

/// Whether `c` is refused in body text: C0 controls except tab, LF and CR, and DEL.
pub fn is_refused(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// Whether `s` holds no refused character.
pub fn is_clean(s: &str) -> bool {
    !s.chars().any(is_refused)
}

/// A JSON body whose every key and string is clean.
pub fn json(bytes: &[u8]) -> Result<Value, DecodeError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|_| DecodeError::Malformed)?;
    check_json(&value, "")?;
    Ok(value)
}

fn check_json(value: &Value, field: &str) -> Result<(), DecodeError> {
    let refused = |field: &str| DecodeError::ControlCharacter {
        field: field.to_owned(),
    };
    match value {
        Value::String(s) if !is_clean(s) => Err(refused(field)),
        Value::Array(items) => items.iter().try_for_each(|v| check_json(v, field)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            if is_clean(k) {
                check_json(v, k)
            } else {
                Err(refused(k))
            }
        }),
        _ => Ok(()),
    }
}

/// The pairs of an `application/x-www-form-urlencoded` body, in order, every name and
/// value clean.
pub fn form(bytes: &[u8]) -> Result<Vec<(String, String)>, DecodeError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(bytes).map_err(|_| DecodeError::Malformed)?;
    for (name, value) in &pairs {
        if !is_clean(name) || !is_clean(value) {
            return Err(DecodeError::ControlCharacter {
                field: if is_clean(name) {
                    name.clone()
                } else {
                    String::new()
                },
            });
        }
    }
    Ok(pairs)
}

/// Whether a raw request path, once percent-decoded, holds a control character (any
/// byte below 0x20, or DEL). Such a path names no resource.
pub fn path_has_control(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut i = 0;
    while i < bytes.len() {
        let byte = match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    i += 2;
                    (h * 16 + l) as u8
                }
                _ => b'%',
            },
            b => b,
        };
        if byte < 0x20 || byte == 0x7f {
            return true;
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_characters() {
        assert!(is_clean("tab\there\r\nnew line"));
        assert!(is_clean("ünïcödé ✓"));
        for c in [
            '\0', '\u{1}', '\u{8}', '\u{b}', '\u{1b}', '\u{1f}', '\u{7f}',
        ] {
            assert!(!is_clean(&format!("a{c}b")), "{c:?}");
        }
    }

    #[test]
    fn json_bodies() {
        assert!(json(br#"{"user":{"name":"a\tb","list":["x"]}}"#).is_ok());
        assert_eq!(
            json(br#"{"user":{"username":"a\u0000b"}}"#),
            Err(DecodeError::ControlCharacter {
                field: "username".to_owned()
            })
        );
        assert!(matches!(
            json(br#"{"a\u0001":1}"#),
            Err(DecodeError::ControlCharacter { .. })
        ));
        assert!(matches!(
            json(br#"{"l":["ok","\u001b"]}"#),
            Err(DecodeError::ControlCharacter { .. })
        ));
        assert_eq!(json(b"{nope"), Err(DecodeError::Malformed));
    }

    #[test]
    fn form_bodies() {
        assert_eq!(
            form(b"a=1&b=x%0Ay").unwrap(),
            vec![("a".into(), "1".into()), ("b".into(), "x\ny".into())]
        );
        assert_eq!(
            form(b"title=a%00b"),
            Err(DecodeError::ControlCharacter {
                field: "title".to_owned()
            })
        );
    }

    #[test]
    fn paths() {
        assert!(!path_has_control("/v1/users/abc"));
        assert!(!path_has_control("/v1/users/a%20b%2Fc%"));
        assert!(!path_has_control("/v1/users/%4"));
        assert!(path_has_control("/v1/users/abc%00def"));
        assert!(path_has_control("/v1/users/abc%0adef"));
        assert!(path_has_control("/albums/x%7F"));
        assert!(path_has_control("/albums/%1f"));
    }
}
