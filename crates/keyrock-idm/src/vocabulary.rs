//! The Keyrock domain's words as types: the internal permissions, OAuth2 grant, response and
//! token types. Each knows its stored spelling, so no other module compares raw strings.

use std::fmt;

/// The six internal permissions every application carries (keyrock.md 2.2). Stored by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InternalPermission {
    /// `1`: get and assign all internal application roles.
    AssignInternalRoles,
    /// `2`: manage the application.
    ManageApplication,
    /// `3`: manage roles.
    ManageRoles,
    /// `4`: manage authorizations (no operation requires it).
    ManageAuthorizations,
    /// `5`: get and assign all public application roles.
    AssignPublicRoles,
    /// `6`: get and assign only public owned roles.
    AssignOwnedRoles,
}

impl InternalPermission {
    pub const ALL: [InternalPermission; 6] = [
        InternalPermission::AssignInternalRoles,
        InternalPermission::ManageApplication,
        InternalPermission::ManageRoles,
        InternalPermission::ManageAuthorizations,
        InternalPermission::AssignPublicRoles,
        InternalPermission::AssignOwnedRoles,
    ];

    /// The stored id, `"1"`..`"6"`.
    pub fn id(self) -> &'static str {
        match self {
            InternalPermission::AssignInternalRoles => "1",
            InternalPermission::ManageApplication => "2",
            InternalPermission::ManageRoles => "3",
            InternalPermission::ManageAuthorizations => "4",
            InternalPermission::AssignPublicRoles => "5",
            InternalPermission::AssignOwnedRoles => "6",
        }
    }

    /// The internal permission a stored id names, if it names one.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.id() == id)
    }

    pub fn is_internal_id(id: &str) -> bool {
        Self::from_id(id).is_some()
    }
}

/// An OAuth2 grant type an application may use. The order of [`GrantType::ALL`] is the order
/// in which they are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantType {
    ClientCredentials,
    Password,
    AuthorizationCode,
    Implicit,
    Hybrid,
    RefreshToken,
}

impl GrantType {
    pub const ALL: [GrantType; 6] = [
        GrantType::ClientCredentials,
        GrantType::Password,
        GrantType::AuthorizationCode,
        GrantType::Implicit,
        GrantType::Hybrid,
        GrantType::RefreshToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::Password => "password",
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::Implicit => "implicit",
            GrantType::Hybrid => "hybrid",
            GrantType::RefreshToken => "refresh_token",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// An OAuth2 response type, derived from the grant types and the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResponseType {
    Code,
    Token,
    None,
    IdToken,
}

impl ResponseType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
            ResponseType::None => "none",
            ResponseType::IdToken => "id_token",
        }
    }
}

/// A kind of access token an application issues. `bearer` is always one of them; the other
/// two are chosen by the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TokenType {
    Jwt,
    Permanent,
    Bearer,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Jwt => "jwt",
            TokenType::Permanent => "permanent",
            TokenType::Bearer => "bearer",
        }
    }

    /// A type an application may ask for (`bearer` is implied, never asked for).
    pub fn parse_choice(s: &str) -> Option<Self> {
        [TokenType::Jwt, TokenType::Permanent]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A list of vocabulary words in their stored form: comma-separated.
pub fn joined<T: Copy>(items: &[T], word: impl Fn(T) -> &'static str) -> String {
    items.iter().map(|i| word(*i)).collect::<Vec<_>>().join(",")
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_spellings_round_trip() {
        for p in InternalPermission::ALL {
            assert_eq!(InternalPermission::from_id(p.id()), Some(p));
        }
        assert_eq!(InternalPermission::from_id("7"), None);
        for g in GrantType::ALL {
            assert_eq!(GrantType::parse(g.as_str()), Some(g));
        }
        assert_eq!(GrantType::parse("bogus"), None);
        assert_eq!(TokenType::parse_choice("bearer"), None);
        assert_eq!(TokenType::parse_choice("jwt"), Some(TokenType::Jwt));
        assert_eq!(
            joined(&[GrantType::Password, GrantType::Hybrid], GrantType::as_str),
            "password,hybrid"
        );
    }
}
