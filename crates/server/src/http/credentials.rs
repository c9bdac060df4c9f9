//! Credentials, parsed once for every family: `Authorization: Bearer` (RFC 6750),
//! `Authorization: Basic` (RFC 7617, with the client-authentication encoding of RFC 6749
//! §2.3.1 on demand), and a family's own token header.

use actix_web::http::header::AUTHORIZATION;
use actix_web::HttpRequest;
use base64::Engine;

/// What an `Authorization` header carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    Bearer(String),
    /// RFC 7617: the user-id is everything before the first colon.
    Basic {
        user: String,
        password: String,
    },
}

/// Why an `Authorization` header is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Not text, no scheme, or an empty credential.
    Shape,
    /// A scheme other than Bearer and Basic.
    UnknownScheme,
    /// Basic whose value is not base64 of UTF-8 `user:password`.
    BasicEncoding,
}

/// The `Authorization` header: `Ok(None)` when absent.
pub fn authorization(req: &HttpRequest) -> Result<Option<Authorization>, Malformed> {
    let Some(value) = req.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| Malformed::Shape)?.trim();
    parse(value).map(Some)
}

fn parse(value: &str) -> Result<Authorization, Malformed> {
    let (scheme, rest) = value.split_once(' ').ok_or(Malformed::Shape)?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        if rest.is_empty() {
            return Err(Malformed::Shape);
        }
        return Ok(Authorization::Bearer(rest.to_owned()));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(Malformed::UnknownScheme);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .map_err(|_| Malformed::BasicEncoding)?;
    let decoded = String::from_utf8(decoded).map_err(|_| Malformed::BasicEncoding)?;
    let (user, password) = decoded.split_once(':').ok_or(Malformed::BasicEncoding)?;
    Ok(Authorization::Basic {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

impl Authorization {
    /// The bearer token, or `None` for Basic.
    pub fn bearer(&self) -> Option<&str> {
        match self {
            Authorization::Bearer(token) => Some(token),
            Authorization::Basic { .. } => None,
        }
    }

    /// RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
    /// `None` for Bearer, or when either part is not valid UTF-8 after decoding. The
    /// OAuth2 token endpoint's client authentication (keyrock.md 5.1) reads it.
    pub fn oauth_client(&self) -> Option<(String, String)> {
        let Authorization::Basic { user, password } = self else {
            return None;
        };
        Some((form_decode(user)?, form_decode(password)?))
    }
}

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a space.
fn form_decode(value: &str) -> Option<String> {
    let spaced = value.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// A non-empty header value as text, trimmed.
pub fn header_text(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(raw: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    #[test]
    fn bearer_and_basic_by_their_rfcs() {
        assert_eq!(
            parse("bearer  abc "),
            Ok(Authorization::Bearer("abc".into()))
        );
        assert_eq!(parse("Bearer "), Err(Malformed::Shape));
        assert_eq!(parse("Digest x"), Err(Malformed::UnknownScheme));
        assert_eq!(parse("Basic !!!"), Err(Malformed::BasicEncoding));
        assert_eq!(parse(&basic("no-colon")), Err(Malformed::BasicEncoding));
        // RFC 7617: the password may contain colons; the user-id may be empty.
        assert_eq!(
            parse(&basic(":pa:ss")),
            Ok(Authorization::Basic {
                user: String::new(),
                password: "pa:ss".into()
            })
        );
    }

    #[test]
    fn oauth_client_credentials_are_form_decoded() {
        let auth = parse(&basic("my%20app:s%3Acret+x")).unwrap();
        assert_eq!(
            auth.oauth_client(),
            Some(("my app".into(), "s:cret x".into()))
        );
        assert_eq!(Authorization::Bearer("t".into()).oauth_client(), None);
    }
}
