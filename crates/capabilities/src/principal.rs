//! Who presents a credential to this family (kheops.md 3): a user, or a capability token
//! of user or album scope acting for its creator.

use auth_core::principal::{self as core_principal, Principal};
use auth_core::users::find_user;
use storage::DbConn;
use time::OffsetDateTime;

use crate::error::WRONG_TOKEN_TYPE;
use crate::tokens::{self, Capability};
use crate::users::UserInfo;
use crate::KheopsError;

/// What an album-scope token grants (kheops.md 5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbumGrant {
    pub capability_id: String,
    pub album_id: String,
    pub read: bool,
}

/// The acting principal of a KHEOPS request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KheopsPrincipal {
    /// A user credential (Keyrock API token; OAuth2 tokens once they exist).
    User(UserInfo),
    /// A user-scope capability: its creator's full rights, except capability management.
    UserCapability {
        capability_id: String,
        user: UserInfo,
    },
    /// An album-scope capability: reading its own album, nothing else.
    AlbumCapability { user: UserInfo, grant: AlbumGrant },
}

impl KheopsPrincipal {
    /// The user on whose behalf the request acts.
    pub fn user(&self) -> &UserInfo {
        match self {
            KheopsPrincipal::User(u)
            | KheopsPrincipal::UserCapability { user: u, .. }
            | KheopsPrincipal::AlbumCapability { user: u, .. } => u,
        }
    }

    /// Capability management (create, list, revoke) needs a user credential (3.3).
    pub fn require_user_credential(&self) -> Result<&UserInfo, KheopsError> {
        match self {
            KheopsPrincipal::User(u) => Ok(u),
            _ => Err(KheopsError::CapabilityNotAllowed),
        }
    }

    /// Endpoints that no album-scope token may use (5.9).
    pub fn require_not_album_scope(&self) -> Result<&UserInfo, KheopsError> {
        match self {
            KheopsPrincipal::AlbumCapability { .. } => {
                Err(KheopsError::Forbidden(WRONG_TOKEN_TYPE))
            }
            other => Ok(other.user()),
        }
    }

    /// Album endpoints naming `album_id`: an album-scope token reaches only its own album
    /// (another one is "not found", 5.9); then `on_own_album` decides.
    pub fn album_scope_check(
        &self,
        album_id: &str,
        on_own_album: impl FnOnce(&AlbumGrant) -> Result<(), KheopsError>,
    ) -> Result<(), KheopsError> {
        match self {
            KheopsPrincipal::AlbumCapability { grant, .. } => {
                if grant.album_id != album_id {
                    return Err(KheopsError::AlbumNotFound);
                }
                on_own_album(grant)
            }
            _ => Ok(()),
        }
    }
}

/// Whether the credential has the shape of a capability secret (kheops.md 1.4).
fn looks_like_secret(credential: &str) -> bool {
    credential.len() == tokens::SECRET_LEN && credential.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Resolves a credential at `now` (kheops.md 3.2). Using a capability sets its `last_used`.
pub fn resolve(
    conn: &mut DbConn,
    credential: &str,
    now: OffsetDateTime,
) -> Result<KheopsPrincipal, KheopsError> {
    if looks_like_secret(credential) {
        if let Some(capability) = tokens::find_by_secret(conn, credential)? {
            return capability_principal(conn, capability, now);
        }
    }
    match core_principal::resolve(conn, credential, now) {
        Ok(resolved) => match resolved.principal {
            Principal::User(u) if u.enabled => {
                let user = find_user(conn, &u.id)?.ok_or(KheopsError::InvalidCredential)?;
                Ok(KheopsPrincipal::User(UserInfo::from(&user)))
            }
            _ => Err(KheopsError::InvalidCredential),
        },
        Err(core_principal::ResolveError::Auth(e)) => Err(e.into()),
        Err(_) => Err(KheopsError::InvalidCredential),
    }
}

fn capability_principal(
    conn: &mut DbConn,
    capability: Capability,
    now: OffsetDateTime,
) -> Result<KheopsPrincipal, KheopsError> {
    let user =
        tokens::usable_creator(conn, &capability, now)?.ok_or(KheopsError::InvalidCredential)?;
    tokens::touch(conn, &capability.id, now)?;
    Ok(match capability.album_id {
        Some(album_id) => KheopsPrincipal::AlbumCapability {
            user,
            grant: AlbumGrant {
                capability_id: capability.id,
                album_id,
                read: capability.read_permission,
            },
        },
        None => KheopsPrincipal::UserCapability {
            capability_id: capability.id,
            user,
        },
    })
}
