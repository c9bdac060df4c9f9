//! The bootstrap admin of operations.md: created on first start when no admin exists.

use auth_core::password::PasswordHasher;
use auth_core::users::{self, NewUser};
use auth_core::AuthError;
use time::OffsetDateTime;

use crate::settings::Settings;

pub fn ensure_admin(
    pool: &storage::Pool,
    hasher: &PasswordHasher,
    settings: &Settings,
) -> Result<(), String> {
    let fail = |e: AuthError| format!("admin bootstrap failed: {e}");
    {
        let mut conn = pool
            .get()
            .map_err(|e| format!("admin bootstrap failed: {e}"))?;
        if users::any_admin(&mut conn).map_err(fail)? {
            return Ok(());
        }
    }
    let (password, generated) = match &settings.admin_password {
        Some(p) if !p.is_empty() => (p.clone(), false),
        _ => (auth_core::secrets::random_alnum(24), true),
    };
    let password_hash = hasher.hash(&password).map_err(fail)?;
    let mut conn = pool
        .get()
        .map_err(|e| format!("admin bootstrap failed: {e}"))?;
    let created = storage::write_tx(&mut conn, |c| {
        if users::any_admin(c)? {
            return Ok(false);
        }
        users::create_user(
            c,
            NewUser {
                id: "admin".to_owned(),
                username: "admin".to_owned(),
                email: settings.admin_email.clone(),
                password_hash,
                admin: true,
                description: None,
                website: None,
                gravatar: false,
                extra: None,
            },
            OffsetDateTime::now_utc(),
        )?;
        // The bootstrap admin holds easydb's system.root (easydb-rights.md 9).
        rights::system::create_as_root(c, "admin").map_err(|e| match e {
            rights::system::SystemRightsError::Storage(e) => AuthError::Storage(e),
            _ => AuthError::NotFound,
        })?;
        Ok(true)
    });
    match created {
        Ok(true) => {
            tracing::info!(email = %settings.admin_email, "bootstrap admin created");
            if generated {
                // The one place a secret is printed, as operations.md requires: once, at creation.
                eprintln!(
                    "tessera: generated password for admin {}: {password}\n\
                     tessera: it is shown only now; set TESSERA_ADMIN_PASSWORD to choose one",
                    settings.admin_email
                );
            }
            Ok(())
        }
        Ok(false) => Ok(()),
        Err(AuthError::Conflict(_)) => {
            // Another node may have created the admin between our check and our insert;
            // otherwise the email or the id `admin` belongs to an ordinary user.
            let mut conn = pool
                .get()
                .map_err(|e| format!("admin bootstrap failed: {e}"))?;
            if users::any_admin(&mut conn).map_err(fail)? {
                Ok(())
            } else {
                Err(format!(
                    "admin bootstrap failed: {} or the id `admin` already belongs to a user who is not an admin; \
                     set TESSERA_ADMIN_EMAIL to another address",
                    settings.admin_email
                ))
            }
        }
        Err(e) => Err(fail(e)),
    }
}
