//! The one bounded body reader: at most [`MAX_BODY_BYTES`] kept, the rest of an oversized
//! body drained (up to [`MAX_DRAIN_BYTES`]) so the client gets to read the 413, and the
//! whole read bounded in time (`TESSERA_BODY_TIMEOUT`), so a client that trickles its body
//! cannot hold a connection.

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use super::HttpError;
use crate::app::AppState;

/// Largest request body read (bytes). Larger bodies get 413 in the family's envelope.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Past this many bytes the rest of an oversized body is not even drained.
const MAX_DRAIN_BYTES: usize = 16 * MAX_BODY_BYTES;

/// Used when the request carries no app state (never in a served request).
const FALLBACK_TIMEOUT: Duration = Duration::from_secs(15);

/// Reads the whole body of `req`.
pub async fn read(req: &HttpRequest, payload: Payload) -> Result<web::Bytes, HttpError> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(FALLBACK_TIMEOUT, |state| state.settings.body_timeout());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_DRAIN_BYTES) {
        return Err(HttpError::PayloadTooLarge);
    }
    match actix_web::rt::time::timeout(limit, bounded(payload)).await {
        Ok(result) => result,
        Err(_) => Err(HttpError::BodyTimeout),
    }
}

async fn bounded(mut payload: Payload) -> Result<web::Bytes, HttpError> {
    let mut body = web::BytesMut::new();
    let mut seen = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| HttpError::BodyUnreadable)?;
        seen += chunk.len();
        if seen > MAX_DRAIN_BYTES {
            break;
        }
        // Past the limit the rest is drained, so the client can read our 413.
        if seen <= MAX_BODY_BYTES {
            body.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(HttpError::PayloadTooLarge);
    }
    Ok(body.freeze())
}
