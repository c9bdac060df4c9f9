//! Albums and their members (kheops.md 4): named groups of users with admins and
//! album-wide permission flags, the things album-scope tokens are scoped to.

use auth_core::secrets::random_alnum;
use diesel::prelude::*;
use storage::schema::{album_users, albums, users as user_table};
use storage::{to_db_time, write_tx, DbConn};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::error::{NO_PERMISSION_ON_ALBUM, WRONG_TOKEN_TYPE};
use crate::params::{PageParams, Param};
use crate::principal::KheopsPrincipal;
use crate::tokens::{self, Listed, ID_LEN};
use crate::users::{self, UserInfo};
use crate::{truncate_ms, KheopsError};

const MAX_NAME_CHARS: usize = 255;
const MAX_DESCRIPTION_CHARS: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = albums)]
pub struct Album {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_time: PrimitiveDateTime,
    pub last_event_time: PrimitiveDateTime,
    pub add_user_permission: bool,
    pub download_series_permission: bool,
    pub send_series_permission: bool,
    pub delete_series_permission: bool,
    pub add_series_permission: bool,
    pub write_comments_permission: bool,
}

/// A member as lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: UserInfo,
    pub is_admin: bool,
}

/// An album as one principal sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlbumView {
    /// What members see.
    Full {
        album: Album,
        number_of_users: i64,
        is_admin: bool,
        users: Option<Vec<Member>>,
    },
    /// What an album-scope token with read permission sees: id, name, description.
    Reduced(Album),
}

/// Album and capability ids: exactly 10 characters of `[A-Za-z0-9]` (kheops.md 1.4).
pub fn is_well_formed_id(id: &str) -> bool {
    id.len() == ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `Some(admin)` when the user is a member of the album, `None` otherwise (also for an
/// unknown or malformed album id).
pub fn admin_flag(
    conn: &mut DbConn,
    album_id: &str,
    user_id: &str,
) -> Result<Option<bool>, KheopsError> {
    if !is_well_formed_id(album_id) {
        return Ok(None);
    }
    Ok(album_users::table
        .filter(album_users::album_id.eq(album_id))
        .filter(album_users::user_id.eq(user_id))
        .select(album_users::admin)
        .first(conn)
        .optional()?)
}

pub fn name_of(conn: &mut DbConn, album_id: &str) -> Result<Option<String>, KheopsError> {
    Ok(albums::table
        .filter(albums::id.eq(album_id))
        .select(albums::name)
        .first(conn)
        .optional()?)
}

fn find(conn: &mut DbConn, album_id: &str) -> Result<Album, KheopsError> {
    albums::table
        .filter(albums::id.eq(album_id))
        .select(Album::as_select())
        .first(conn)
        .optional()?
        .ok_or(KheopsError::AlbumNotFound)
}

/// The caller's admin flag in an album they belong to; "Album Not Found" otherwise.
fn membership(conn: &mut DbConn, album_id: &str, user: &UserInfo) -> Result<bool, KheopsError> {
    admin_flag(conn, album_id, &user.sub)?.ok_or(KheopsError::AlbumNotFound)
}

fn count_members(conn: &mut DbConn, album_id: &str) -> Result<i64, KheopsError> {
    Ok(album_users::table
        .filter(album_users::album_id.eq(album_id))
        .count()
        .get_result(conn)?)
}

fn touch(conn: &mut DbConn, album_id: &str, now: OffsetDateTime) -> Result<(), KheopsError> {
    diesel::update(albums::table.filter(albums::id.eq(album_id)))
        .set(albums::last_event_time.eq(to_db_time(truncate_ms(now))))
        .execute(conn)?;
    Ok(())
}

/// The columns a PATCH may change.
#[derive(AsChangeset)]
#[diesel(table_name = albums)]
struct AlbumChanges {
    name: Option<String>,
    description: Option<String>,
    add_user_permission: Option<bool>,
    download_series_permission: Option<bool>,
    send_series_permission: Option<bool>,
    delete_series_permission: Option<bool>,
    add_series_permission: Option<bool>,
    write_comments_permission: Option<bool>,
    last_event_time: PrimitiveDateTime,
}

/// A new membership, unless the user is already a member (then nothing changes and the
/// answer is `false`). One statement, so concurrent PUTs of the same member all succeed.
fn add(conn: &mut DbConn, album_id: &str, user_id: &str, admin: bool) -> Result<bool, KheopsError> {
    let inserted = storage::each_backend!(conn, |c| diesel::insert_into(album_users::table)
        .values((
            album_users::album_id.eq(album_id),
            album_users::user_id.eq(user_id),
            album_users::admin.eq(admin),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted > 0)
}

/// Makes the user an admin of the album, adding them if they are not a member.
fn upsert_admin(conn: &mut DbConn, album_id: &str, user_id: &str) -> Result<(), KheopsError> {
    storage::each_backend!(conn, |c| diesel::insert_into(album_users::table)
        .values((
            album_users::album_id.eq(album_id),
            album_users::user_id.eq(user_id),
            album_users::admin.eq(true),
        ))
        .on_conflict((album_users::album_id, album_users::user_id))
        .do_update()
        .set(album_users::admin.eq(true))
        .execute(c))?;
    Ok(())
}

/// How a membership row is locked until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// Others may read and share-lock the row, but not change or delete it: taken by
    /// token creation, which relies on the creator staying an admin until it commits.
    Share,
    /// Taken by demotion and removal, which revoke the member's album tokens: they wait
    /// for a token being created to commit, and then see it.
    Update,
}

/// [`admin_flag`] read under a row lock. On PostgreSQL the row is locked (`FOR SHARE` or
/// `FOR UPDATE`), and a reader that had to wait sees the row as the other transaction left
/// it. On SQLite every write transaction holds the database's write lock from its first
/// statement (`BEGIN IMMEDIATE`), so writers are already serialized and a plain read is
/// enough.
pub fn locked_admin_flag(
    conn: &mut DbConn,
    album_id: &str,
    user_id: &str,
    lock: RowLock,
) -> Result<Option<bool>, KheopsError> {
    let DbConn::Postgres(pg) = conn else {
        return admin_flag(conn, album_id, user_id);
    };
    if !is_well_formed_id(album_id) {
        return Ok(None);
    }
    let row = album_users::table
        .filter(album_users::album_id.eq(album_id))
        .filter(album_users::user_id.eq(user_id))
        .select(album_users::admin);
    Ok(match lock {
        RowLock::Share => row.for_share().first(pg).optional()?,
        RowLock::Update => row.for_update().first(pg).optional()?,
    })
}

fn set_admin(
    conn: &mut DbConn,
    album_id: &str,
    user_id: &str,
    admin: bool,
) -> Result<(), KheopsError> {
    diesel::update(
        album_users::table
            .filter(album_users::album_id.eq(album_id))
            .filter(album_users::user_id.eq(user_id)),
    )
    .set(album_users::admin.eq(admin))
    .execute(conn)?;
    Ok(())
}

/// Name, description and the six flags as a request sets them (absent = unchanged).
#[derive(Debug, Default)]
struct AlbumFields {
    name: Option<String>,
    description: Option<String>,
    flags: [Option<bool>; 6],
}

/// Form names of the six album-wide permissions, in storage order.
pub const FLAG_PARAMS: [&str; 6] = [
    "addUser",
    "downloadSeries",
    "sendSeries",
    "deleteSeries",
    "addSeries",
    "writeComments",
];

fn checked_text(
    value: Option<String>,
    name: &str,
    max: usize,
) -> Result<Option<String>, KheopsError> {
    let Some(raw) = value else {
        return Ok(None);
    };
    let value = raw.trim();
    let chars = value.chars().count();
    if chars > max {
        return Err(KheopsError::BadForm(format!(
            "Param '{name}' is too long max expected: {max} characters but got :{chars}"
        )));
    }
    Ok(Some(value.to_owned()))
}

/// The form of `POST /albums` and `PATCH /albums/{album}`. `flags` are in the order of
/// [`FLAG_PARAMS`].
#[derive(Debug)]
pub struct AlbumForm {
    pub name: Option<String>,
    pub description: Option<String>,
    pub flags: [Param<bool>; 6],
}

impl Default for AlbumForm {
    fn default() -> Self {
        AlbumForm {
            name: None,
            description: None,
            flags: [Ok(None), Ok(None), Ok(None), Ok(None), Ok(None), Ok(None)],
        }
    }
}

/// What `GET /albums` asks for.
#[derive(Debug)]
pub struct AlbumQuery {
    pub page: PageParams,
    pub can_create_capability_token: Param<bool>,
    pub sort: Option<String>,
}

impl AlbumFields {
    fn check(form: AlbumForm, creating: bool) -> Result<Self, KheopsError> {
        let name = checked_text(form.name, "name", MAX_NAME_CHARS)?;
        // An empty value is absent (kheops.md 1.2); blanks only are empty after trimming.
        if name.as_deref().is_some_and(str::is_empty) || (name.is_none() && creating) {
            return Err(KheopsError::BadForm(
                "Param 'name' can not be empty".to_owned(),
            ));
        }
        let description = checked_text(form.description, "description", MAX_DESCRIPTION_CHARS)?;
        let mut flags = [None; 6];
        for (slot, given) in flags.iter_mut().zip(form.flags) {
            *slot = given?;
        }
        Ok(AlbumFields {
            name,
            description,
            flags,
        })
    }
}

/// `POST /albums`: the caller becomes its first admin.
pub fn create(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    form: AlbumForm,
    now: OffsetDateTime,
) -> Result<AlbumView, KheopsError> {
    let user = principal.require_not_album_scope()?.clone();
    let fields = AlbumFields::check(form, true)?;
    let now = to_db_time(truncate_ms(now));
    write_tx(conn, |c| {
        let id = loop {
            let id = random_alnum(ID_LEN);
            if name_of(c, &id)?.is_none() {
                break id;
            }
        };
        let [add_user, download, send, delete, add_series, comments] = fields.flags;
        diesel::insert_into(albums::table)
            .values((
                albums::id.eq(&id),
                albums::name.eq(fields.name.clone().unwrap_or_default()),
                albums::description.eq(fields.description.clone().unwrap_or_default()),
                albums::created_time.eq(now),
                albums::last_event_time.eq(now),
                albums::add_user_permission.eq(add_user.unwrap_or(false)),
                albums::download_series_permission.eq(download.unwrap_or(true)),
                albums::send_series_permission.eq(send.unwrap_or(true)),
                albums::delete_series_permission.eq(delete.unwrap_or(false)),
                albums::add_series_permission.eq(add_series.unwrap_or(true)),
                albums::write_comments_permission.eq(comments.unwrap_or(true)),
            ))
            .execute(c)?;
        add(c, &id, &user.sub, true)?;
        full_view(c, &id, true, false)
    })
}

fn full_view(
    conn: &mut DbConn,
    album_id: &str,
    is_admin: bool,
    include_users: bool,
) -> Result<AlbumView, KheopsError> {
    let album = find(conn, album_id)?;
    let number_of_users = count_members(conn, album_id)?;
    let users = if include_users {
        Some(all_members(conn, album_id)?)
    } else {
        None
    };
    Ok(AlbumView::Full {
        album,
        number_of_users,
        is_admin,
        users,
    })
}

/// Members sorted by email (byte order, the same on both backends).
fn all_members(conn: &mut DbConn, album_id: &str) -> Result<Vec<Member>, KheopsError> {
    let rows: Vec<(String, String, String, bool)> = album_users::table
        .inner_join(user_table::table.on(user_table::id.eq(album_users::user_id)))
        .filter(album_users::album_id.eq(album_id))
        .select((
            user_table::id,
            user_table::email,
            user_table::username,
            album_users::admin,
        ))
        .load(conn)?;
    let mut members: Vec<Member> = rows
        .into_iter()
        .map(|(sub, email, name, is_admin)| Member {
            user: UserInfo { sub, email, name },
            is_admin,
        })
        .collect();
    members.sort_by(|a, b| {
        a.user
            .email
            .as_bytes()
            .cmp(b.user.email.as_bytes())
            .then_with(|| a.user.sub.cmp(&b.user.sub))
    });
    Ok(members)
}

/// How `GET /albums` sorts (kheops.md 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    CreatedTime,
    LastEventTime,
    Name,
    NumberOfUsers,
}

fn parse_sort(value: Option<&str>) -> Result<(SortKey, bool), KheopsError> {
    let value = value.unwrap_or("-created_time");
    let (descending, key) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let key = match key {
        "created_time" => SortKey::CreatedTime,
        "last_event_time" => SortKey::LastEventTime,
        "name" => SortKey::Name,
        "number_of_users" => SortKey::NumberOfUsers,
        _ => {
            return Err(KheopsError::BadQuery(
                "Param 'sort' must be one of created_time, last_event_time, name, number_of_users, optionally prefixed with '-'".to_owned(),
            ))
        }
    };
    Ok((key, descending))
}

/// `GET /albums`: the caller's albums.
pub fn list(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    query: AlbumQuery,
) -> Result<Listed<AlbumView>, KheopsError> {
    let user = principal.require_not_album_scope()?.clone();
    let page = query.page.page()?;
    let admin_only = query.can_create_capability_token?.unwrap_or(false);
    let (key, descending) = parse_sort(query.sort.as_deref())?;
    let mut memberships = album_users::table
        .inner_join(albums::table.on(albums::id.eq(album_users::album_id)))
        .filter(album_users::user_id.eq(&user.sub))
        .select((Album::as_select(), album_users::admin))
        .into_boxed();
    if admin_only {
        memberships = memberships.filter(album_users::admin.eq(true));
    }
    let rows: Vec<(Album, bool)> = memberships.load(conn)?;
    let mut entries = Vec::with_capacity(rows.len());
    for (album, is_admin) in rows {
        let number_of_users = count_members(conn, &album.id)?;
        entries.push((album, is_admin, number_of_users));
    }
    entries.sort_by(|a, b| {
        let primary = match key {
            SortKey::CreatedTime => a.0.created_time.cmp(&b.0.created_time),
            SortKey::LastEventTime => a.0.last_event_time.cmp(&b.0.last_event_time),
            SortKey::Name => a.0.name.as_bytes().cmp(b.0.name.as_bytes()),
            SortKey::NumberOfUsers => a.2.cmp(&b.2),
        };
        let primary = if descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then_with(|| a.0.id.as_bytes().cmp(b.0.id.as_bytes()))
    });
    let total = entries.len() as i64;
    let items = entries
        .into_iter()
        .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
        .map(|(album, is_admin, number_of_users)| AlbumView::Full {
            album,
            number_of_users,
            is_admin,
            users: None,
        })
        .collect();
    Ok(Listed { items, total })
}

/// `GET /albums/{album}`.
pub fn get(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    album_id: &str,
    include_users: Param<bool>,
) -> Result<AlbumView, KheopsError> {
    let include_users = include_users?.unwrap_or(false);
    if let KheopsPrincipal::AlbumCapability { .. } = principal {
        principal.album_scope_check(album_id, |grant| {
            if include_users {
                Err(KheopsError::Forbidden(WRONG_TOKEN_TYPE))
            } else if !grant.read {
                Err(KheopsError::Forbidden(NO_PERMISSION_ON_ALBUM))
            } else {
                Ok(())
            }
        })?;
        return Ok(AlbumView::Reduced(find(conn, album_id)?));
    }
    let is_admin = membership(conn, album_id, principal.user())?;
    full_view(conn, album_id, is_admin, include_users)
}

/// Album tokens may not edit or delete their album.
fn refuse_album_token(principal: &KheopsPrincipal, album_id: &str) -> Result<(), KheopsError> {
    principal.album_scope_check(album_id, |_| {
        Err(KheopsError::Forbidden(NO_PERMISSION_ON_ALBUM))
    })
}

/// Membership routes are user endpoints: an album token gets 404 for another album and
/// 403 for its own (kheops.md 5.9).
fn refuse_album_token_on_user_endpoint(
    principal: &KheopsPrincipal,
    album_id: &str,
) -> Result<(), KheopsError> {
    principal.album_scope_check(album_id, |_| Err(KheopsError::Forbidden(WRONG_TOKEN_TYPE)))
}

/// `PATCH /albums/{album}`: admins only; absent parameters are unchanged.
pub fn update(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    album_id: &str,
    form: AlbumForm,
    now: OffsetDateTime,
) -> Result<AlbumView, KheopsError> {
    refuse_album_token(principal, album_id)?;
    let user = principal.user().clone();
    write_tx(conn, |c| {
        if !membership(c, album_id, &user)? {
            return Err(KheopsError::Forbidden(
                "The user must be an admin for editing name, description or permissions",
            ));
        }
        let fields = AlbumFields::check(form, false)?;
        let [add_user, download, send, delete, add_series, comments] = fields.flags;
        // Absent fields are `None` and left out of the UPDATE; the event time always moves.
        diesel::update(albums::table.filter(albums::id.eq(album_id)))
            .set(&AlbumChanges {
                name: fields.name,
                description: fields.description,
                add_user_permission: add_user,
                download_series_permission: download,
                send_series_permission: send,
                delete_series_permission: delete,
                add_series_permission: add_series,
                write_comments_permission: comments,
                last_event_time: to_db_time(truncate_ms(now)),
            })
            .execute(c)?;
        full_view(c, album_id, true, false)
    })
}

/// `DELETE /albums/{album}`: admins only; memberships and every token of the album go
/// with it (removed, not revoked).
pub fn delete(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    album_id: &str,
) -> Result<(), KheopsError> {
    refuse_album_token(principal, album_id)?;
    let user = principal.user().clone();
    write_tx(conn, |c| {
        if !membership(c, album_id, &user)? {
            return Err(KheopsError::Forbidden(NO_PERMISSION_ON_ALBUM));
        }
        diesel::delete(albums::table.filter(albums::id.eq(album_id))).execute(c)?;
        Ok(())
    })
}

/// `GET /albums/{album}/users`: any member.
pub fn members(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    album_id: &str,
    page: PageParams,
) -> Result<Listed<Member>, KheopsError> {
    refuse_album_token_on_user_endpoint(principal, album_id)?;
    let page = page.page()?;
    membership(conn, album_id, principal.user())?;
    let all = all_members(conn, album_id)?;
    let total = all.len() as i64;
    let items = all
        .into_iter()
        .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
        .collect();
    Ok(Listed { items, total })
}

const ADD_YOURSELF: KheopsError = KheopsError::Forbidden("You can not add yourself to the album");

/// `PUT /albums/{album}/users/{user}`: admins, or members when the album's `add_user`
/// is set. Adding a member again changes nothing.
pub fn add_member(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    album_id: &str,
    target: &str,
    now: OffsetDateTime,
) -> Result<(), KheopsError> {
    refuse_album_token_on_user_endpoint(principal, album_id)?;
    let user = principal.user().clone();
    write_tx(conn, |c| {
        let caller_admin = membership(c, album_id, &user)?;
        if !caller_admin && !find(c, album_id)?.add_user_permission {
            return Err(KheopsError::Forbidden(NO_PERMISSION_ON_ALBUM));
        }
        let target = users::find_by_reference(c, target)?;
        if target.sub == user.sub {
            return Err(ADD_YOURSELF);
        }
        if add(c, album_id, &target.sub, false)? {
            touch(c, album_id, now)?;
        }
        Ok(())
    })
}

/// `DELETE /albums/{album}/users/{user}`: leave, or (admins) remove another member. A
/// removed admin's album tokens are revoked; the last member leaving deletes the album
/// (a database trigger keeps that rule for user deletion too).
pub fn remove_member(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    album_id: &str,
    target: &str,
    now: OffsetDateTime,
) -> Result<(), KheopsError> {
    refuse_album_token_on_user_endpoint(principal, album_id)?;
    let user = principal.user().clone();
    write_tx(conn, |c| {
        let caller_admin = membership(c, album_id, &user)?;
        let target = users::find_by_reference(c, target)?;
        if target.sub != user.sub && !caller_admin {
            return Err(KheopsError::Forbidden(
                "You must be an admin for removing another user",
            ));
        }
        let target_admin = locked_admin_flag(c, album_id, &target.sub, RowLock::Update)?
            .ok_or(KheopsError::UserNotMember)?;
        if target_admin {
            tokens::revoke_album_tokens_of(c, album_id, &target.sub, &user.sub, now)?;
        }
        diesel::delete(
            album_users::table
                .filter(album_users::album_id.eq(album_id))
                .filter(album_users::user_id.eq(&target.sub)),
        )
        .execute(c)?;
        touch(c, album_id, now)?;
        Ok(())
    })
}

/// The caller must be an admin of the album (membership routes of admins).
fn require_admin(conn: &mut DbConn, album_id: &str, user: &UserInfo) -> Result<(), KheopsError> {
    if membership(conn, album_id, user)? {
        Ok(())
    } else {
        Err(KheopsError::Forbidden(NO_PERMISSION_ON_ALBUM))
    }
}

/// `PUT /albums/{album}/users/{user}/admin`: promote, or add as an admin.
pub fn grant_admin(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    album_id: &str,
    target: &str,
    now: OffsetDateTime,
) -> Result<(), KheopsError> {
    refuse_album_token_on_user_endpoint(principal, album_id)?;
    let user = principal.user().clone();
    write_tx(conn, |c| {
        require_admin(c, album_id, &user)?;
        let target = users::find_by_reference(c, target)?;
        if target.sub == user.sub {
            return Err(ADD_YOURSELF);
        }
        if admin_flag(c, album_id, &target.sub)? == Some(true) {
            return Ok(());
        }
        upsert_admin(c, album_id, &target.sub)?;
        touch(c, album_id, now)
    })
}

/// `DELETE /albums/{album}/users/{user}/admin`: demote (an admin may demote themself);
/// the demoted admin's album tokens are revoked.
pub fn revoke_admin(
    conn: &mut DbConn,
    principal: &KheopsPrincipal,
    album_id: &str,
    target: &str,
    now: OffsetDateTime,
) -> Result<(), KheopsError> {
    refuse_album_token_on_user_endpoint(principal, album_id)?;
    let user = principal.user().clone();
    write_tx(conn, |c| {
        require_admin(c, album_id, &user)?;
        let target = users::find_by_reference(c, target)?;
        let target_admin = locked_admin_flag(c, album_id, &target.sub, RowLock::Update)?
            .ok_or(KheopsError::UserNotMember)?;
        if target_admin {
            set_admin(c, album_id, &target.sub, false)?;
            tokens::revoke_album_tokens_of(c, album_id, &target.sub, &user.sub, now)?;
            touch(c, album_id, now)?;
        }
        Ok(())
    })
}
