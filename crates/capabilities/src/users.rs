//! Users as this family names and shows them (kheops.md 1.4, 4.2).

use auth_core::users::{find_user, find_user_by_email, User};
use storage::DbConn;

use crate::KheopsError;

/// The user object of members, `created_by` and `revoked_by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub sub: String,
    pub email: String,
    /// The username.
    pub name: String,
}

impl UserInfo {
    /// The username up to its first space.
    pub fn first_name(&self) -> &str {
        self.name
            .split_once(' ')
            .map_or(&self.name, |(first, _)| first)
    }

    /// The username after its first space, or empty.
    pub fn last_name(&self) -> &str {
        self.name.split_once(' ').map_or("", |(_, last)| last)
    }
}

impl From<&User> for UserInfo {
    fn from(u: &User) -> Self {
        UserInfo {
            sub: u.id.clone(),
            email: u.email.clone(),
            name: u.username.clone(),
        }
    }
}

/// `{user}` of a path or `user=` of a query: an email (it contains `@`; matched
/// case-insensitively after trimming) or else a sub, exactly.
pub fn find_by_reference(conn: &mut DbConn, reference: &str) -> Result<UserInfo, KheopsError> {
    let user = if reference.contains('@') {
        find_user_by_email(conn, reference.trim())?
    } else {
        find_user(conn, reference)?
    };
    user.as_ref()
        .map(UserInfo::from)
        .ok_or(KheopsError::UserUnknown)
}

pub fn find_by_sub(conn: &mut DbConn, sub: &str) -> Result<Option<UserInfo>, KheopsError> {
    Ok(find_user(conn, sub)?.as_ref().map(UserInfo::from))
}
