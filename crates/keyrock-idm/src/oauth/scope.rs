//! The `scope` parameter (keyrock.md 5.2): it selects the token type as well as carrying
//! OIDC scopes.

use super::OAuthError;
use crate::applications::Application;

const INVALID: OAuthError = OAuthError::InvalidScope("Invalid scope: Requested scope is invalid");

fn listed(list: Option<&str>, item: &str) -> bool {
    list.unwrap_or("")
        .split(|c: char| c == ',' || c.is_whitespace())
        .any(|i| i == item)
}

/// The token's scope for a request's `scope` (absent or empty: `["bearer"]`): the items in
/// request order without duplicates, checked against what the application allows.
pub fn granted(requested: Option<&str>, app: &Application) -> Result<Vec<String>, OAuthError> {
    let mut scope: Vec<String> = Vec::new();
    for item in requested
        .unwrap_or("")
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|i| !i.is_empty())
    {
        if !scope.iter().any(|s| s == item) {
            scope.push(item.to_owned());
        }
    }
    if scope.is_empty() {
        return Ok(vec!["bearer".to_owned()]);
    }
    let has = |item: &str| scope.iter().any(|s| s == item);
    let token_types = app.token_types.as_deref();
    if (has("bearer") && has("jwt"))
        || (has("permanent") && !listed(token_types, "permanent"))
        || (has("jwt") && !listed(token_types, "jwt"))
        || (has("openid") && !listed(app.scope.as_deref(), "openid"))
    {
        return Err(INVALID);
    }
    Ok(scope)
}

/// Whether the scope asks for a JWT access token.
pub fn is_jwt(scope: &[String]) -> bool {
    scope.iter().any(|s| s == "jwt")
}

/// Whether the scope asks for a token without expiry (and without refresh token).
pub fn is_permanent(scope: &[String]) -> bool {
    scope.iter().any(|s| s == "permanent")
}
