//! `/v1/auth/tokens`: log in (password and token methods), inspect and delete API tokens
//! (keyrock.md 4.1).

use auth_core::api_tokens::{self, ApiToken, TokenOwner};
use auth_core::password::{PasswordHasher, StoredPassword};
use auth_core::secrets::{constant_time_eq, sha256_hex};
use auth_core::users::{self, User};
use diesel::prelude::*;
use storage::schema::pep_proxies;
use storage::{DbConn, Pool};
use time::{Duration, OffsetDateTime};

use crate::KeyrockError;

const INVALID_LOGIN: KeyrockError = KeyrockError::Unauthenticated("Invalid email or password");

/// The credentials of a `POST /v1/auth/tokens` body (JSON or form); empty strings count as absent.
#[derive(Debug, Clone, Default)]
pub struct LoginInput {
    pub name: Option<String>,
    pub password: Option<String>,
    pub token: Option<String>,
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub token: String,
    pub expires_at: OffsetDateTime,
    /// The methods used, in the order `password`, `token`.
    pub methods: Vec<&'static str>,
}

enum Candidate {
    User(Box<User>),
    PepProxy {
        id: String,
        digest: String,
        salt: Option<String>,
    },
    Nobody,
}

/// Logs in. No connection is held while bcrypt runs: the lookup and the token insert
/// each take one from the pool, so a burst of logins cannot starve other requests of
/// connections.
pub fn login(
    pool: &Pool,
    hasher: &PasswordHasher,
    input: LoginInput,
    now: OffsetDateTime,
    lifetime: Duration,
) -> Result<LoginOutcome, KeyrockError> {
    let non_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let name = non_empty(input.name);
    let password = non_empty(input.password);
    let token = non_empty(input.token);

    let password_method = match (name, password) {
        (Some(n), Some(p)) => Some((n, p)),
        _ => None,
    };
    if password_method.is_none() && token.is_none() {
        return Err(INVALID_LOGIN);
    }

    let mut methods = Vec::new();
    let mut owner_by_password = None;
    if let Some((name, password)) = password_method {
        let candidate = {
            let mut conn = pool.get()?;
            find_candidate(&mut conn, &name)?
        };
        owner_by_password = Some(check_password(pool, hasher, candidate, &password)?);
        methods.push("password");
    }

    let mut conn = pool.get()?;
    let mut owner_by_token = None;
    if let Some(token) = token {
        let found = api_tokens::find(&mut conn, &token)?.ok_or(INVALID_LOGIN)?;
        if found.is_expired(now) {
            return Err(KeyrockError::Unauthenticated("Token has expired"));
        }
        if let TokenOwner::User(id) = &found.owner {
            let user = users::find_user(&mut conn, id)?.ok_or(INVALID_LOGIN)?;
            if !user.enabled {
                return Err(INVALID_LOGIN);
            }
        }
        owner_by_token = Some(found.owner);
        methods.push("token");
    }

    let owner = match (owner_by_password, owner_by_token) {
        (Some(a), Some(b)) if a != b => {
            return Err(KeyrockError::Unauthenticated(
                "Token not correspond to user",
            ))
        }
        (Some(a), _) => a,
        (None, Some(b)) => b,
        (None, None) => return Err(INVALID_LOGIN),
    };
    let issued = api_tokens::issue(&mut conn, &owner, now, lifetime)?;
    Ok(LoginOutcome {
        token: issued.token,
        expires_at: issued.expires_at,
        methods,
    })
}

/// Users are matched by email, case-insensitively; PEP proxies by their exact id.
fn find_candidate(conn: &mut DbConn, name: &str) -> Result<Candidate, KeyrockError> {
    if let Some(user) = users::find_user_by_email(conn, name)? {
        return Ok(Candidate::User(Box::new(user)));
    }
    let pep = pep_proxies::table
        .filter(pep_proxies::id.eq(name))
        .select((pep_proxies::password_digest, pep_proxies::password_salt))
        .first::<(String, Option<String>)>(conn)
        .optional()?;
    Ok(match pep {
        Some((digest, salt)) => Candidate::PepProxy {
            id: name.to_owned(),
            digest,
            salt,
        },
        None => Candidate::Nobody,
    })
}

fn check_password(
    pool: &Pool,
    hasher: &PasswordHasher,
    candidate: Candidate,
    password: &str,
) -> Result<TokenOwner, KeyrockError> {
    match candidate {
        Candidate::User(user) => {
            if !verify_user_password(pool, hasher, &user, password)? || !user.enabled {
                return Err(INVALID_LOGIN);
            }
            Ok(TokenOwner::User(user.id))
        }
        Candidate::PepProxy { id, digest, salt } => {
            match verify_generated_secret(hasher, &digest, salt.as_deref(), password) {
                SecretCheck::Wrong => Err(KeyrockError::Unauthenticated("Invalid id or password")),
                SecretCheck::Right => Ok(TokenOwner::PepProxy(id)),
                SecretCheck::RightLegacy => {
                    let mut conn = pool.get()?;
                    diesel::update(pep_proxies::table.filter(pep_proxies::id.eq(&id)))
                        .set((
                            pep_proxies::password_digest.eq(sha256_hex(password)),
                            pep_proxies::password_salt.eq(None::<String>),
                        ))
                        .execute(&mut *conn)?;
                    Ok(TokenOwner::PepProxy(id))
                }
            }
        }
        Candidate::Nobody => {
            hasher.verify_dummy(password);
            Err(INVALID_LOGIN)
        }
    }
}

/// Whether `password` is the user's, a legacy Keyrock hash upgraded on success
/// ([`users::verify_password`]), on every Keyrock login path that calls this.
pub(crate) fn verify_user_password(
    pool: &Pool,
    hasher: &PasswordHasher,
    user: &User,
    password: &str,
) -> Result<bool, KeyrockError> {
    Ok(users::verify_password(pool, hasher, user, password)?)
}

/// The outcome of checking a generated secret (PEP proxy or IoT agent password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretCheck {
    Wrong,
    Right,
    /// Right, and stored in Keyrock's legacy scheme: the caller replaces it by a SHA-256
    /// digest (keyrock.md 8).
    RightLegacy,
}

/// Checks a generated secret against its SHA-256 digest, or its legacy Keyrock hash when a
/// salt is stored; compared in constant time.
pub(crate) fn verify_generated_secret(
    hasher: &PasswordHasher,
    digest: &str,
    salt: Option<&str>,
    password: &str,
) -> SecretCheck {
    match salt {
        Some(salt) => {
            let legacy = StoredPassword::LegacyKeyrock {
                hash: digest,
                salt: Some(salt),
            };
            if hasher.verify(password, &legacy) {
                SecretCheck::RightLegacy
            } else {
                SecretCheck::Wrong
            }
        }
        None if constant_time_eq(sha256_hex(password).as_bytes(), digest.as_bytes()) => {
            SecretCheck::Right
        }
        None => SecretCheck::Wrong,
    }
}

/// What `GET /v1/auth/tokens` reports about a subject token.
#[derive(Debug, Clone)]
pub struct SubjectInfo {
    pub expires_at: OffsetDateTime,
    pub owner: SubjectOwner,
}

#[derive(Debug, Clone)]
pub enum SubjectOwner {
    User(Box<User>),
    PepProxy(String),
}

/// Why a caller may not see or delete a subject token (DELETE reports these; GET masks them).
#[derive(Debug)]
enum PairError {
    MissingSubject,
    MissingAuth,
    AuthNotFound,
    AuthExpired,
    SubjectNotFound,
    NotAdminOrOwner,
    PepNotOwner,
    DifferentEntities,
    Failed(KeyrockError),
}

impl From<PairError> for KeyrockError {
    fn from(e: PairError) -> Self {
        match e {
            PairError::MissingSubject => {
                KeyrockError::Invalid("Expecting to find X-Subject-token in requests")
            }
            PairError::MissingAuth => KeyrockError::Invalid(crate::caller::MISSING_TOKEN),
            PairError::AuthNotFound => KeyrockError::NotFound("Auth Token not found"),
            PairError::AuthExpired => KeyrockError::Unauthenticated("Auth Token has expired"),
            PairError::SubjectNotFound => KeyrockError::NotFound("Subject Token not found"),
            PairError::NotAdminOrOwner => {
                KeyrockError::Forbidden("User must be admin or owner of the two tokens")
            }
            PairError::PepNotOwner => {
                KeyrockError::Forbidden("Pep Proxy must be owner of the two tokens")
            }
            PairError::DifferentEntities => {
                KeyrockError::Forbidden("Subject and auth token are not owned by the same entity")
            }
            PairError::Failed(e) => e,
        }
    }
}

impl From<auth_core::AuthError> for PairError {
    fn from(e: auth_core::AuthError) -> Self {
        PairError::Failed(e.into())
    }
}

/// Checks the caller token against the subject token: both of one user, an admin caller
/// and a user subject, or both of one PEP proxy.
fn authorize_pair(
    conn: &mut DbConn,
    auth: Option<&str>,
    subject: Option<&str>,
    now: OffsetDateTime,
) -> Result<(ApiToken, String), PairError> {
    let subject = subject.ok_or(PairError::MissingSubject)?;
    let auth = auth.ok_or(PairError::MissingAuth)?;
    let auth_token = api_tokens::find(conn, auth)?.ok_or(PairError::AuthNotFound)?;
    if auth_token.is_expired(now) {
        return Err(PairError::AuthExpired);
    }
    let subject_token = api_tokens::find(conn, subject)?
        .filter(|t| !t.is_expired(now))
        .ok_or(PairError::SubjectNotFound)?;
    match (&auth_token.owner, &subject_token.owner) {
        (TokenOwner::User(a), TokenOwner::User(s)) => {
            if a != s {
                let caller = users::find_user(conn, a)?.ok_or(PairError::AuthNotFound)?;
                if !caller.admin {
                    return Err(PairError::NotAdminOrOwner);
                }
            }
        }
        (TokenOwner::PepProxy(a), TokenOwner::PepProxy(s)) => {
            if a != s {
                return Err(PairError::PepNotOwner);
            }
        }
        _ => return Err(PairError::DifferentEntities),
    }
    Ok((subject_token, subject.to_owned()))
}

/// `GET /v1/auth/tokens`: every failure is the same 401, as in Keyrock.
pub fn inspect(
    conn: &mut DbConn,
    auth: Option<&str>,
    subject: Option<&str>,
    now: OffsetDateTime,
) -> Result<SubjectInfo, KeyrockError> {
    let (token, _) = authorize_pair(conn, auth, subject, now).map_err(|e| match e {
        PairError::Failed(e @ KeyrockError::Storage(_)) => e,
        _ => INVALID_LOGIN,
    })?;
    let owner = match token.owner {
        TokenOwner::User(id) => {
            SubjectOwner::User(Box::new(users::find_user(conn, &id)?.ok_or(INVALID_LOGIN)?))
        }
        TokenOwner::PepProxy(id) => SubjectOwner::PepProxy(id),
    };
    Ok(SubjectInfo {
        expires_at: token.expires_at,
        owner,
    })
}

/// `DELETE /v1/auth/tokens`: revokes the subject token.
pub fn delete(
    conn: &mut DbConn,
    auth: Option<&str>,
    subject: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), KeyrockError> {
    let (_, subject) = authorize_pair(conn, auth, subject, now)?;
    api_tokens::revoke(conn, &subject)?;
    Ok(())
}

#[cfg(test)]
mod tests;
