//! The Keyrock-compatible family (keyrock.md) from a client's side.

use serde_json::Value;
use storage::diesel::{self, ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{oauth_clients, organizations, user_organizations};

use crate::{json, Resp, Server, TestDb};

/// The 403 of a caller without the permission a route needs (keyrock.md 1.7).
pub const NOT_PERMITTED: &str = "User not allow to perform the action";
/// The 403 of a caller who is not an admin on the admin-only routes.
pub const NOT_AUTHORIZED: &str = "User not authorized to perform action";
/// Every failed login (keyrock.md 4.1).
pub const INVALID_LOGIN: &str = "Invalid email or password";
/// The 400 of a body sent without the JSON Content-Type.
pub const JSON_TYPE_MISSING: &str = "Missing parameter: header Content-Type: application/json";

impl Server {
    /// A request with `X-Auth-Token` and no body; POST, PUT and PATCH carry the JSON
    /// Content-Type, as Keyrock clients send them.
    pub fn keyrock(&self, method: &str, path: &str, token: &str) -> Resp {
        let req = self.request(method, path).token(token);
        if matches!(method, "POST" | "PUT" | "PATCH") {
            req.header("Content-Type", "application/json").send()
        } else {
            req.send()
        }
    }

    /// A request with `X-Auth-Token` and a JSON body.
    pub fn send_json(&self, method: &str, path: &str, token: &str, body: &Value) -> Resp {
        self.request(method, path).token(token).json(body).send()
    }

    /// `POST /v1/auth/tokens` with this body, whatever it answers.
    pub fn try_login(&self, body: &Value) -> Resp {
        self.request("POST", "/v1/auth/tokens").json(body).send()
    }

    /// `POST /v1/auth/tokens` with a name and password, whatever it answers.
    pub fn try_password(&self, name: &str, password: &str) -> Resp {
        self.try_login(&json!({"name": name, "password": password}))
    }

    /// `GET /v1/auth/tokens` with the token as both caller and subject.
    pub fn inspect(&self, token: &str) -> Resp {
        self.request("GET", "/v1/auth/tokens")
            .token(token)
            .header("X-Subject-Token", token)
            .send()
    }
}

impl Resp {
    /// 403 "User not allow to perform the action".
    #[track_caller]
    pub fn assert_not_permitted(&self) {
        self.assert_keyrock_error(403, NOT_PERMITTED);
    }
}

impl TestDb {
    /// The stored digest of an application's secret.
    pub fn secret_digest(&self, app: &str) -> Option<String> {
        oauth_clients::table
            .filter(oauth_clients::id.eq(app))
            .select(oauth_clients::secret_digest)
            .first(&mut *self.conn())
            .expect("an application")
    }

    /// An organization with these `(user id, role)` members, put straight into the store
    /// (for tests that must not depend on the organization routes).
    pub fn insert_organization(&self, id: &str, members: &[(&str, &str)]) {
        let mut conn = self.conn();
        diesel::insert_into(organizations::table)
            .values((organizations::id.eq(id), organizations::name.eq(id)))
            .execute(&mut *conn)
            .expect("insert organization");
        for (user, role) in members {
            diesel::insert_into(user_organizations::table)
                .values((
                    user_organizations::user_id.eq(user),
                    user_organizations::organization_id.eq(id),
                    user_organizations::role.eq(role),
                ))
                .execute(&mut *conn)
                .expect("insert organization member");
        }
    }
}

/// Counts the rows of a diesel query on a [`TestDb`]: `count!(db, roles::table.filter(..))`.
#[macro_export]
macro_rules! count {
    ($db:expr, $query:expr) => {{
        let n: i64 = ::storage::diesel::RunQueryDsl::get_result(
            ::storage::diesel::QueryDsl::count($query),
            &mut *$db.conn(),
        )
        .expect("count rows");
        n
    }};
}
