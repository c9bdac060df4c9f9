//! Capability tokens (kheops.md 5): create, list, get, revoke, introspect, and the
//! validity rule every use goes through. The secret is shown once and stored only as its
//! SHA-256 digest.

use auth_core::secrets::{random_alnum, sha256_hex};
use diesel::prelude::*;
use storage::schema::capabilities;
use storage::{from_db_time, to_db_time, write_tx, DbConn};
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::albums::{self, is_well_formed_id};
use crate::error::{NO_PERMISSION_ON_ALBUM, WRONG_TOKEN_TYPE};
use crate::params::{parse_time, PageParams, Param};
use crate::principal::KheopsPrincipal;
use crate::users::{self, UserInfo};
use crate::{truncate_ms, KheopsError, LEEWAY};

/// Length of a capability secret: 22 alphanumerics, about 131 bits.
pub const SECRET_LEN: usize = 22;
/// Length of public ids (capabilities and albums).
pub const ID_LEN: usize = 10;
const MAX_TITLE_CHARS: usize = 255;

/// A stored capability token. `secret_sha256` never leaves the crate's callers' hands as
/// anything but a lookup key.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = capabilities)]
pub struct Capability {
    pub id: String,
    pub secret_sha256: String,
    pub title: String,
    pub scope_type: String,
    pub album_id: Option<String>,
    pub user_id: String,
    pub read_permission: bool,
    pub write_permission: bool,
    pub download_permission: bool,
    pub appropriate_permission: bool,
    pub issued_at_time: PrimitiveDateTime,
    pub not_before_time: PrimitiveDateTime,
    pub expiration_time: PrimitiveDateTime,
    pub last_used: Option<PrimitiveDateTime>,
    pub revoke_time: Option<PrimitiveDateTime>,
    pub revoked_by: Option<String>,
    pub updated_time: PrimitiveDateTime,
}

impl Capability {
    pub fn is_album_scope(&self) -> bool {
        self.album_id.is_some()
    }

    /// Past its expiry, leeway included (the revoke no-op rule of 5.7).
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        from_db_time(self.expiration_time) + LEEWAY < now
    }
}

/// A token as responses show it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityView {
    pub capability: Capability,
    /// The album's current name (album scope).
    pub album_name: Option<String>,
    pub created_by: Option<UserInfo>,
    pub revoked_by: Option<UserInfo>,
}

/// A new token with its secret, shown this once.
#[derive(Debug, Clone)]
pub struct NewCapability {
    pub view: CapabilityView,
    pub secret: String,
}

/// The lifetimes of kheops.md 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub default: Duration,
    pub max: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            default: Duration::days(3),
            max: Duration::days(365),
        }
    }
}

/// An active token as introspection reports it (kheops.md 5.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspection {
    pub sub: String,
    pub scope: Option<String>,
    pub cap_token: String,
    pub album_id: Option<String>,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
}

pub fn find_by_secret(conn: &mut DbConn, secret: &str) -> Result<Option<Capability>, KheopsError> {
    Ok(capabilities::table
        .filter(capabilities::secret_sha256.eq(sha256_hex(secret)))
        .select(Capability::as_select())
        .first(conn)
        .optional()?)
}

fn find(conn: &mut DbConn, id: &str) -> Result<Option<Capability>, KheopsError> {
    if !is_well_formed_id(id) {
        return Ok(None);
    }
    Ok(capabilities::table
        .filter(capabilities::id.eq(id))
        .select(Capability::as_select())
        .first(conn)
        .optional()?)
}

/// The creator if the token is usable at `now` (kheops.md 5.2): not revoked, inside its
/// validity window (5 s leeway), creator present and enabled, and for album scope the
/// creator still an admin of the album.
pub fn usable_creator(
    conn: &mut DbConn,
    capability: &Capability,
    now: OffsetDateTime,
) -> Result<Option<UserInfo>, KheopsError> {
    if capability.revoke_time.is_some()
        || from_db_time(capability.not_before_time) - LEEWAY > now
        || capability.is_expired(now)
    {
        return Ok(None);
    }
    let Some(user) = auth_core::users::find_user(conn, &capability.user_id)? else {
        return Ok(None);
    };
    if !user.enabled {
        return Ok(None);
    }
    if let Some(album_id) = &capability.album_id {
        if albums::admin_flag(conn, album_id, &user.id)? != Some(true) {
            return Ok(None);
        }
    }
    Ok(Some(UserInfo::from(&user)))
}

/// Records a use.
pub fn touch(conn: &mut DbConn, id: &str, now: OffsetDateTime) -> Result<(), KheopsError> {
    diesel::update(capabilities::table.filter(capabilities::id.eq(id)))
        .set(capabilities::last_used.eq(to_db_time(truncate_ms(now))))
        .execute(conn)?;
    Ok(())
}

fn view(conn: &mut DbConn, capability: Capability) -> Result<CapabilityView, KheopsError> {
    let album_name = match &capability.album_id {
        Some(album_id) => albums::name_of(conn, album_id)?,
        None => None,
    };
    let created_by = users::find_by_sub(conn, &capability.user_id)?;
    let revoked_by = match &capability.revoked_by {
        Some(sub) => users::find_by_sub(conn, sub)?,
        None => None,
    };
    Ok(CapabilityView {
        capability,
        album_name,
        created_by,
        revoked_by,
    })
}

/// A token's scope: all of its creator's rights, or one album's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeType {
    User,
    Album,
}

impl ScopeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeType::User => "user",
            ScopeType::Album => "album",
        }
    }

    /// `user` or `album`, in any case.
    pub fn parse(s: &str) -> Option<Self> {
        [ScopeType::User, ScopeType::Album]
            .into_iter()
            .find(|t| s.eq_ignore_ascii_case(t.as_str()))
    }
}

/// What `POST /capabilities` asks for (kheops.md 5.4). Text fields are absent when not
/// sent or empty; times are read by the domain's rules.
#[derive(Debug)]
pub struct CreateCapability {
    pub title: Option<String>,
    pub scope_type: Option<String>,
    pub album: Option<String>,
    pub read_permission: Param<bool>,
    pub appropriate_permission: Param<bool>,
    pub download_permission: Param<bool>,
    pub write_permission: Param<bool>,
    pub not_before_time: Option<String>,
    pub expiration_time: Option<String>,
}

impl Default for CreateCapability {
    fn default() -> Self {
        CreateCapability {
            title: None,
            scope_type: None,
            album: None,
            read_permission: Ok(None),
            appropriate_permission: Ok(None),
            download_permission: Ok(None),
            write_permission: Ok(None),
            not_before_time: None,
            expiration_time: None,
        }
    }
}

/// What `GET /capabilities` asks for (kheops.md 5.5).
#[derive(Debug)]
pub struct CapabilityQuery {
    pub valid: Param<bool>,
    pub page: PageParams,
    pub album: Option<String>,
    /// A creator, by sub or email.
    pub user: Option<String>,
}

/// The validated create request, checks 2-14 of kheops.md 5.4.
struct CreateRequest {
    title: String,
    album_id: Option<String>,
    read: bool,
    write: bool,
    download: bool,
    appropriate: bool,
    not_before: OffsetDateTime,
    expiration: OffsetDateTime,
}

fn bad_form(detail: &str) -> KheopsError {
    KheopsError::BadForm(detail.to_owned())
}

fn bad_query(detail: &str) -> KheopsError {
    KheopsError::BadQuery(detail.to_owned())
}

impl CreateRequest {
    fn check(
        form: CreateCapability,
        lifetimes: Lifetimes,
        now: OffsetDateTime,
    ) -> Result<Self, KheopsError> {
        let title = form
            .title
            .ok_or_else(|| bad_form("Param 'title' is required"))?;
        let title_chars = title.chars().count();
        if title_chars > MAX_TITLE_CHARS {
            return Err(KheopsError::BadForm(format!(
                "Param 'title' is too long max expected: {MAX_TITLE_CHARS} characters but got :{title_chars}"
            )));
        }
        let scope_type = form
            .scope_type
            .ok_or_else(|| bad_form("Param 'scope_type' is required"))?;
        let read = form.read_permission?.unwrap_or(false);
        let appropriate = form.appropriate_permission?.unwrap_or(false);
        let download = form.download_permission?.unwrap_or(false);
        let write = form.write_permission?.unwrap_or(false);
        if appropriate && !read {
            return Err(bad_query(
                "'appropriate_permission' is available only if 'read_permission' is true",
            ));
        }
        if download && !read {
            return Err(bad_query(
                "'download_permission' is available only if 'read_permission' is true",
            ));
        }
        let not_before = match form.not_before_time {
            Some(v) => parse_time(&v)
                .ok_or_else(|| bad_query("An error occurred while parsing 'not_before_time'"))?,
            None => now,
        };
        let expiration = match form.expiration_time {
            Some(v) => parse_time(&v)
                .ok_or_else(|| bad_query("An error occurred while parsing 'expiration_time'"))?,
            None => now + lifetimes.default,
        };
        let scope = ScopeType::parse(&scope_type)
            .ok_or_else(|| bad_query("'scope_type' must be 'user' or 'album'"))?;
        let album_id = match scope {
            ScopeType::Album => Some(form.album.ok_or_else(|| {
                bad_query("'album' query parameter must be set with an album id")
            })?),
            ScopeType::User => None,
        };
        if expiration <= not_before {
            return Err(bad_form(
                "'expiration_time' must be after 'not_before_time'",
            ));
        }
        if expiration <= now {
            return Err(bad_form("'expiration_time' must be in the future"));
        }
        if expiration > now + lifetimes.max + LEEWAY {
            return Err(KheopsError::BadForm(format!(
                "'expiration_time' exceeds the maximum lifetime of {} seconds",
                lifetimes.max.whole_seconds()
            )));
        }
        Ok(CreateRequest {
            title,
            album_id,
            read,
            write,
            download,
            appropriate,
            not_before,
            expiration,
        })
    }
}

/// `POST /capabilities` (kheops.md 5.4).
pub fn create(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    form: CreateCapability,
    lifetimes: Lifetimes,
    now: OffsetDateTime,
) -> Result<NewCapability, KheopsError> {
    let user = principal.require_user_credential()?.clone();
    let now = truncate_ms(now);
    let request = CreateRequest::check(form, lifetimes, now)?;
    write_tx(conn, |c| {
        if let Some(album_id) = &request.album_id {
            // Locked until this token is stored, so a demotion racing with it either
            // comes first (and this answers Not admin) or revokes the new token too.
            match albums::locked_admin_flag(c, album_id, &user.sub, albums::RowLock::Share)? {
                None => return Err(KheopsError::AlbumNotFound),
                Some(false) => return Err(KheopsError::NotAdmin),
                Some(true) => {}
            }
        }
        let secret = random_alnum(SECRET_LEN);
        let id = unused_id(c)?;
        let album_scope = request.album_id.is_some();
        // User-scope tokens carry their creator's full rights; their flags mean nothing.
        let flag = |v: bool| album_scope && v;
        diesel::insert_into(capabilities::table)
            .values((
                capabilities::id.eq(&id),
                capabilities::secret_sha256.eq(sha256_hex(&secret)),
                capabilities::title.eq(&request.title),
                capabilities::scope_type.eq(if album_scope {
                    ScopeType::Album.as_str()
                } else {
                    ScopeType::User.as_str()
                }),
                capabilities::album_id.eq(&request.album_id),
                capabilities::user_id.eq(&user.sub),
                capabilities::read_permission.eq(flag(request.read)),
                capabilities::write_permission.eq(flag(request.write)),
                capabilities::download_permission.eq(flag(request.download)),
                capabilities::appropriate_permission.eq(flag(request.appropriate)),
                capabilities::issued_at_time.eq(to_db_time(now)),
                capabilities::not_before_time.eq(to_db_time(request.not_before)),
                capabilities::expiration_time.eq(to_db_time(request.expiration)),
                capabilities::updated_time.eq(to_db_time(now)),
            ))
            .execute(c)?;
        let capability =
            find(c, &id)?.ok_or_else(|| KheopsError::Internal("capability vanished".to_owned()))?;
        Ok(NewCapability {
            view: view(c, capability)?,
            secret,
        })
    })
}

fn unused_id(conn: &mut DbConn) -> Result<String, KheopsError> {
    loop {
        let id = random_alnum(ID_LEN);
        if find(conn, &id)?.is_none() {
            return Ok(id);
        }
    }
}

/// A page of a list and the number of matches before paging.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// `GET /capabilities` (kheops.md 5.5).
pub fn list(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    query: CapabilityQuery,
    now: OffsetDateTime,
) -> Result<Listed<CapabilityView>, KheopsError> {
    let caller = principal.require_user_credential()?.clone();
    let valid_only = query.valid?.unwrap_or(false);
    let page = query.page.page()?;
    let album = query.album;
    if let Some(album_id) = &album {
        match albums::admin_flag(conn, album_id, &caller.sub)? {
            None => return Err(KheopsError::AlbumNotFound),
            Some(false) => return Err(KheopsError::Forbidden(NO_PERMISSION_ON_ALBUM)),
            Some(true) => {}
        }
    }
    let creator = match &query.user {
        Some(reference) => Some(users::find_by_reference(conn, reference)?.sub),
        None => None,
    };
    let now_db = to_db_time(now);
    let filtered = || {
        let mut q = capabilities::table.into_boxed();
        match &album {
            Some(album_id) => q = q.filter(capabilities::album_id.eq(album_id.clone())),
            None => q = q.filter(capabilities::user_id.eq(caller.sub.clone())),
        }
        if let Some(sub) = &creator {
            q = q.filter(capabilities::user_id.eq(sub.clone()));
        }
        if valid_only {
            q = q
                .filter(capabilities::revoke_time.is_null())
                .filter(capabilities::expiration_time.gt(now_db))
                .filter(capabilities::not_before_time.le(now_db));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<Capability> = filtered()
        .order((capabilities::issued_at_time.desc(), capabilities::id.asc()))
        .limit(page.limit)
        .offset(page.offset)
        .select(Capability::as_select())
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|c| view(conn, c))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Listed { items, total })
}

/// The token if `user` may see it: its creator, or a current admin of its album.
fn visible(conn: &mut DbConn, user: &UserInfo, id: &str) -> Result<Capability, KheopsError> {
    let capability = find(conn, id)?.ok_or(KheopsError::CapabilityNotFound)?;
    if capability.user_id == user.sub {
        return Ok(capability);
    }
    if let Some(album_id) = &capability.album_id {
        if albums::admin_flag(conn, album_id, &user.sub)? == Some(true) {
            return Ok(capability);
        }
    }
    Err(KheopsError::CapabilityNotFound)
}

/// `GET /capabilities/{id}` (kheops.md 5.6).
pub fn get(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    id: &str,
) -> Result<CapabilityView, KheopsError> {
    if matches!(principal, KheopsPrincipal::AlbumCapability { .. }) {
        return Err(KheopsError::Forbidden(WRONG_TOKEN_TYPE));
    }
    let capability = visible(conn, principal.user(), id)?;
    view(conn, capability)
}

/// `POST /capabilities/{id}/revoke` (kheops.md 5.7): irreversible; a no-op on a token
/// already revoked or expired.
pub fn revoke(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    id: &str,
    now: OffsetDateTime,
) -> Result<CapabilityView, KheopsError> {
    let user = principal.require_user_credential()?.clone();
    let now = truncate_ms(now);
    write_tx(conn, |c| {
        let capability = visible(c, &user, id)?;
        if capability.revoke_time.is_none() && !capability.is_expired(now) {
            // Conditional on "not revoked", so concurrent revocations keep the first one.
            diesel::update(
                capabilities::table
                    .filter(capabilities::id.eq(&capability.id))
                    .filter(capabilities::revoke_time.is_null()),
            )
            .set((
                capabilities::revoke_time.eq(to_db_time(now)),
                capabilities::revoked_by.eq(&user.sub),
                capabilities::updated_time.eq(to_db_time(now)),
            ))
            .execute(c)?;
        }
        let capability = find(c, id)?.ok_or(KheopsError::CapabilityNotFound)?;
        view(c, capability)
    })
}

/// Revokes the live album tokens `creator` made for `album_id`, as `actor` (kheops.md 4.4:
/// the creator stopped being an admin of the album).
pub fn revoke_album_tokens_of(
    conn: &mut DbConn,
    album_id: &str,
    creator: &str,
    actor: &str,
    now: OffsetDateTime,
) -> Result<usize, KheopsError> {
    let now = truncate_ms(now);
    Ok(diesel::update(
        capabilities::table
            .filter(capabilities::album_id.eq(album_id))
            .filter(capabilities::user_id.eq(creator))
            .filter(capabilities::revoke_time.is_null())
            .filter(capabilities::expiration_time.ge(to_db_time(now - LEEWAY))),
    )
    .set((
        capabilities::revoke_time.eq(to_db_time(now)),
        capabilities::revoked_by.eq(actor),
        capabilities::updated_time.eq(to_db_time(now)),
    ))
    .execute(conn)?)
}

/// The words of the granted permissions, in KHEOPS's fixed order (kheops.md 5.8).
fn scope_words(c: &Capability) -> Option<String> {
    if !c.is_album_scope() {
        return Some("user read write downloadbutton send".to_owned());
    }
    let words: Vec<&str> = [
        (c.read_permission, "read"),
        (c.write_permission, "write"),
        (c.download_permission, "downloadbutton"),
        (c.appropriate_permission, "send"),
    ]
    .into_iter()
    .filter_map(|(granted, word)| granted.then_some(word))
    .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// `POST /token/introspect` (kheops.md 5.8): `None` is `{"active": false}`. An active
/// answer counts as a use.
pub fn introspect(
    conn: &mut DbConn,
    token: Option<&str>,
    now: OffsetDateTime,
) -> Result<Option<Introspection>, KheopsError> {
    let Some(token) =
        token.filter(|t| t.len() == SECRET_LEN && t.bytes().all(|b| b.is_ascii_alphanumeric()))
    else {
        return Ok(None);
    };
    let Some(capability) = find_by_secret(conn, token)? else {
        return Ok(None);
    };
    let Some(creator) = usable_creator(conn, &capability, now)? else {
        return Ok(None);
    };
    touch(conn, &capability.id, now)?;
    Ok(Some(Introspection {
        sub: creator.sub,
        scope: scope_words(&capability),
        cap_token: capability.id.clone(),
        album_id: capability.album_id.clone(),
        exp: from_db_time(capability.expiration_time).unix_timestamp(),
        iat: from_db_time(capability.issued_at_time).unix_timestamp(),
        nbf: from_db_time(capability.not_before_time).unix_timestamp(),
    }))
}

#[cfg(test)]
mod tests;
