//! `/api/v1/right` (easydb-rights.md §7): the catalog, and the right presets of the
//! contexts that have them.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use rights::catalog::Context;
use rights::presets;
use storage::DbConn;

use super::error::{ApiCode, EasydbApiError, EasydbErrorBody};
use super::views::{self, EasydbDeleted, EasydbRightContext, EasydbRightPreset};
use super::{catalog, commands, extract, ok, run};
use crate::app::State;

/// The catalog's contexts (all, or the one named), with the presets of those that have them.
fn contexts(
    conn: &mut DbConn,
    only: Option<&str>,
) -> Result<BTreeMap<String, EasydbRightContext>, EasydbApiError> {
    let catalog = catalog()?;
    let chosen: Vec<&Context> = match only {
        None => catalog.contexts.iter().collect(),
        Some(name) => vec![catalog.context(name).ok_or_else(|| {
            EasydbApiError::api(
                ApiCode::InvalidValue,
                format!("right context {name:?} is unknown"),
            )
        })?],
    };
    chosen
        .into_iter()
        .map(|context| {
            let presets = if context.has_presets() {
                Some(presets::list(conn, context)?)
            } else {
                None
            };
            Ok((
                context.name.clone(),
                views::context(context, presets.as_deref()),
            ))
        })
        .collect()
}

#[utoipa::path(get, path = "/api/v1/right", tag = "easydb", operation_id = "easydb_rights_catalog",
    params(("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    responses((status = 200, description = "Every context: capabilities, rights, and presets where the context has them", body = BTreeMap<String, EasydbRightContext>),
              (status = 400, description = "not_authenticated, session_not_found", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn catalog_all(state: State, req: HttpRequest) -> Result<HttpResponse, EasydbApiError> {
    let call = extract::call(&req)?;
    let answer = run(&state, call, |conn, _, _| contexts(conn, None)).await?;
    Ok(ok(&answer))
}

#[utoipa::path(get, path = "/api/v1/right/{context}", tag = "easydb", operation_id = "easydb_rights_context",
    params(("context" = String, Path), ("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    responses((status = 200, description = "The one context", body = BTreeMap<String, EasydbRightContext>),
              (status = 400, description = "not_authenticated, session_not_found, invalid_value (unknown context)", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn catalog_context(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, EasydbApiError> {
    let call = extract::call(&req)?;
    let name = path.into_inner();
    let answer = run(&state, call, move |conn, _, _| contexts(conn, Some(&name))).await?;
    Ok(ok(&answer))
}

#[utoipa::path(get, path = "/api/v1/right/{context}/presets", tag = "easydb", operation_id = "easydb_list_presets",
    params(("context" = String, Path, description = "object or collection"), ("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    responses((status = 200, description = "The context's presets by _position", body = Vec<EasydbRightPreset>),
              (status = 400, description = "not_authenticated, session_not_found, invalid_value (unknown context or no presets)", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn list_presets(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, EasydbApiError> {
    let call = extract::call(&req)?;
    let name = path.into_inner();
    let list = run(&state, call, move |conn, _, _| {
        let context = presets::preset_context(catalog()?, &name)?;
        Ok(presets::list(conn, context)?)
    })
    .await?;
    Ok(ok(&list.iter().map(views::preset).collect::<Vec<_>>()))
}

#[utoipa::path(post, path = "/api/v1/right/{context}/presets", tag = "easydb", operation_id = "easydb_save_presets",
    params(("context" = String, Path, description = "object or collection"), ("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    request_body(content = Vec<EasydbRightPreset>, description = "Presets to insert (no _id, _version 1) or update (_id, stored _version + 1); all or nothing"),
    responses((status = 200, description = "The stored presets in input order", body = Vec<EasydbRightPreset>),
              (status = 400, description = "not_authenticated, session_not_found, no_system_right, invalid_content, type_mismatch, attribute_expected, attribute_not_accepted, invalid_value, right_preset_not_found, version_mismatch, integrity_constraint_violation", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn save_presets(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, EasydbApiError> {
    let call = extract::call(&req)?;
    let body = extract::body(&req, payload).await?;
    let name = path.into_inner();
    let saved = run(&state, call, move |conn, principal, now| {
        let context = presets::preset_context(catalog()?, &name)?;
        presets::authorize(principal)?;
        let writes = commands::preset_writes(&extract::json(&body)?)?
            .checked(|prefix| presets::check(conn, context, prefix))?;
        Ok(presets::save(conn, principal, context, writes, now)?)
    })
    .await?;
    Ok(ok(&saved.iter().map(views::preset).collect::<Vec<_>>()))
}

#[utoipa::path(delete, path = "/api/v1/right/{context}/presets/{id}", tag = "easydb", operation_id = "easydb_delete_preset",
    params(("context" = String, Path, description = "object or collection"), ("id" = String, Path, description = "decimal digits"),
           ("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    responses((status = 200, description = "{}: deleted; other positions unchanged", body = EasydbDeleted),
              (status = 400, description = "not_authenticated, session_not_found, invalid_value, no_system_right, right_preset_not_found, invalid_request_method (other methods)", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn delete_preset(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, EasydbApiError> {
    let call = extract::call(&req)?;
    let (name, id) = path.into_inner();
    run(&state, call, move |conn, principal, _| {
        let context = presets::preset_context(catalog()?, &name)?;
        let id = extract::path_id(&id, "the preset id")?;
        Ok(presets::delete(conn, principal, context, id)?)
    })
    .await?;
    Ok(ok(&EasydbDeleted {}))
}
