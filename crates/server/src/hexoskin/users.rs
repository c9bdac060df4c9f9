//! `/api/user/` and `/api/account/` (hexoskin-bundles.md §2.1, §2.2).

use actix_web::{web, HttpRequest, HttpResponse};
use bundle_permissions::users::{self, UserFilter, UserOrder, UserQuery};
use bundle_permissions::{BundleError, Page};

use super::error::{HexoskinApiError, HexoskinErrorBody, HexoskinRefusals};
use super::extract::{self, ListSpec};
use super::views::{self, HexoskinAccountList, HexoskinUser, HexoskinUserList};
use super::{ok, run, Resource};
use crate::app::State;

const FIELDS: &[&str] = &[
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "resource_uri",
];

const LIST: ListSpec<UserOrder> = ListSpec {
    fields: FIELDS,
    filters: &["id", "username", "email"],
    order: &[
        ("id", UserOrder::Id),
        ("username", UserOrder::Username),
        ("email", UserOrder::Email),
    ],
};

const ACCOUNT: ListSpec<UserOrder> = ListSpec {
    fields: &[
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "resource_uri",
        "is_staff",
    ],
    filters: &[],
    order: &[],
};

#[utoipa::path(get, path = "/api/user/", tag = "hexoskin", operation_id = "hexoskin_list_users",
    security(("bearer" = [])),
    params(("limit" = Option<u32>, Query, description = "page size; 0 or more than 1000 means 1000"),
           ("offset" = Option<u32>, Query),
           ("id" = Option<String>, Query), ("id__in" = Option<String>, Query, description = "comma-separated"),
           ("username" = Option<String>, Query), ("username__in" = Option<String>, Query),
           ("email" = Option<String>, Query), ("email__in" = Option<String>, Query),
           ("order_by" = Option<String>, Query, description = "id, username, email; '-' for descending")),
    responses((status = 200, description = "The users the caller sees: itself and those linked to it by a bundle permission (admins: all)", body = HexoskinUserList),
              (status = 400, description = "a bad limit, offset, filter or order_by", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn list_users(state: State, req: HttpRequest) -> Result<HttpResponse, HexoskinApiError> {
    let listing = extract::listing(&req, &LIST)?;
    let query = UserQuery {
        filter: UserFilter {
            id: listing
                .filter("id")
                .map(|v| v.iter().filter_map(|i| extract::path_id(i)).collect()),
            username: listing.filter("username"),
            email: listing.filter("email"),
        },
        order: listing.order.clone(),
        paging: listing.paging,
    };
    let page = run(&state, &req, Resource::User, move |conn, caller, _| {
        Ok(users::list(conn, caller, &query)?)
    })
    .await?;
    let list: HexoskinUserList = views::list(&page, views::user, |o| listing.link("/api/user/", o));
    Ok(ok(&list))
}

#[utoipa::path(get, path = "/api/user/{id}/", tag = "hexoskin", operation_id = "hexoskin_get_user",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the user's id")),
    responses((status = 200, description = "A user the caller sees", body = HexoskinUser),
              (status = 404, description = "not found (or not visible)", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn get_user(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, HexoskinApiError> {
    let id = extract::path_id(&id);
    let user = run(&state, &req, Resource::User, move |conn, caller, _| {
        Ok(users::get(conn, caller, id.ok_or(BundleError::NotFound)?)?)
    })
    .await?;
    Ok(ok(&views::user(&user)))
}

#[utoipa::path(get, path = "/api/account/", tag = "hexoskin", operation_id = "hexoskin_account",
    security(("bearer" = [])),
    responses((status = 200, description = "Exactly one object: the caller, with is_staff", body = HexoskinAccountList),
              (status = 400, description = "a bad limit or offset, or a filter or order_by (the account has none)", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn account(state: State, req: HttpRequest) -> Result<HttpResponse, HexoskinApiError> {
    let listing = extract::listing(&req, &ACCOUNT)?;
    let account = run(&state, &req, Resource::Account, |conn, caller, _| {
        Ok(users::account(conn, caller)?)
    })
    .await?;
    // One object, whatever the paging asks: the envelope still reports it.
    let page = Page {
        paging: listing.paging,
        total: 1,
        items: if listing.paging.offset == 0 {
            vec![account]
        } else {
            Vec::new()
        },
    };
    let list: HexoskinAccountList =
        views::list(&page, views::account, |o| listing.link("/api/account/", o));
    Ok(ok(&list))
}
