//! The authorization model of the application-scoped routes (keyrock.md 1.7, 2.3-2.5):
//! a matrix of every route against six callers, the query-string bypass Keyrock had, and
//! cascading deletes.

use storage::diesel::{self, BoolExpressionMethods, ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{
    api_tokens, iot_agents, oauth_clients, organizations, pep_proxies, permissions,
    role_assignments, role_permissions, roles, trusted_applications, user_organizations,
};
use tessera_tests::{json, Resp, Server, TestDb};

/// The six kinds of caller of keyrock.md 2.2, as seen from one application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    NoRole,
    Purchaser,
    Provider,
    OrgOwner,
    OrgMember,
    Admin,
}

const CALLERS: [Caller; 6] = [
    Caller::NoRole,
    Caller::Purchaser,
    Caller::Provider,
    Caller::OrgOwner,
    Caller::OrgMember,
    Caller::Admin,
];

impl Caller {
    /// The internal permissions each caller holds in the application of the world below.
    fn permissions(self) -> &'static [&'static str] {
        match self {
            // Providers directly, and owners of an organization given `provider` for owners.
            Caller::Provider | Caller::OrgOwner => &["1", "2", "3", "4", "5", "6"],
            // Purchasers directly, and members of an organization given `purchaser` for members.
            Caller::Purchaser | Caller::OrgMember => &["5"],
            // No role; the admin gets no bypass.
            Caller::NoRole | Caller::Admin => &[],
        }
    }
}

/// One application and a token for each kind of caller.
struct World {
    app: String,
    tokens: Vec<(Caller, String)>,
}

impl World {
    fn token(&self, caller: Caller) -> &str {
        &self.tokens.iter().find(|(c, _)| *c == caller).unwrap().1
    }
}

fn world(server: &Server, db: &TestDb, tag: &str) -> World {
    let admin = server.admin_token();
    let mut tokens = vec![(Caller::Admin, admin.clone())];
    let mut users = Vec::new();
    for (caller, name) in [
        (Caller::NoRole, "none"),
        (Caller::Purchaser, "purchaser"),
        (Caller::Provider, "provider"),
        (Caller::OrgOwner, "owner"),
        (Caller::OrgMember, "member"),
    ] {
        let email = format!("{name}-{tag}@example.org");
        let id = server.create_user(&admin, &format!("{name}-{tag}"), &email, "pw");
        tokens.push((caller, server.login(&email, "pw")));
        users.push((caller, id));
    }
    let user = |c: Caller| users.iter().find(|(k, _)| *k == c).unwrap().1.clone();
    let provider = tokens
        .iter()
        .find(|(c, _)| *c == Caller::Provider)
        .unwrap()
        .1
        .clone();
    let created = server
        .request("POST", "/v1/applications")
        .token(&provider)
        .json(&json!({"application": {"name": format!("app-{tag}"), "redirect_uri": "http://localhost/cb"}}))
        .send();
    assert_eq!(created.status, 201, "{}", created.body);
    let app = created.json()["application"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let assign = server
        .request(
            "PUT",
            &format!(
                "/v1/applications/{app}/users/{}/roles/purchaser",
                user(Caller::Purchaser)
            ),
        )
        .token(&provider)
        .header("Content-Type", "application/json")
        .send();
    assert_eq!(assign.status, 201, "{}", assign.body);
    // The organization is set up in the store, so this test depends on no other route.
    let org = format!("org-{tag}");
    let mut conn = db.conn();
    diesel::insert_into(organizations::table)
        .values((organizations::id.eq(&org), organizations::name.eq(&org)))
        .execute(&mut *conn)
        .unwrap();
    for (caller, role) in [(Caller::OrgOwner, "owner"), (Caller::OrgMember, "member")] {
        diesel::insert_into(user_organizations::table)
            .values((
                user_organizations::user_id.eq(user(caller)),
                user_organizations::organization_id.eq(&org),
                user_organizations::role.eq(role),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    for (role, org_role) in [("provider", "owner"), ("purchaser", "member")] {
        let resp = server
            .request(
                "PUT",
                &format!("/v1/applications/{app}/organizations/{org}/roles/{role}/organization_roles/{org_role}"),
            )
            .token(&provider)
            .header("Content-Type", "application/json")
            .send();
        assert_eq!(resp.status, 201, "{}", resp.body);
    }
    World { app, tokens }
}

/// Every application-scoped route, with a request that passes validation far enough to
/// show the authorization outcome without depending on other rows (unknown sub-resource
/// ids answer their own 404 once authorization passed), and keyrock.md 2.3's permissions.
fn routes() -> Vec<(
    &'static str,
    &'static str,
    Option<serde_json::Value>,
    &'static [&'static str],
)> {
    vec![
        ("GET", "", None, &["1", "2", "3", "5", "6"]),
        ("PATCH", "", Some(json!({"application": {}})), &["2"]),
        ("POST", "/reset_secret", None, &["2"]),
        ("GET", "/users", None, &["1", "5", "6"]),
        ("GET", "/users/nobody/roles", None, &["1", "5", "6"]),
        (
            "PUT",
            "/users/nobody/roles/purchaser",
            None,
            &["1", "5", "6"],
        ),
        (
            "POST",
            "/users/nobody/roles/purchaser",
            None,
            &["1", "5", "6"],
        ),
        (
            "DELETE",
            "/users/nobody/roles/purchaser",
            None,
            &["1", "5", "6"],
        ),
        ("GET", "/organizations", None, &["1", "5", "6"]),
        ("GET", "/organizations/no-org/roles", None, &["1", "5", "6"]),
        (
            "PUT",
            "/organizations/no-org/roles/purchaser/organization_roles/member",
            None,
            &["1", "5", "6"],
        ),
        (
            "POST",
            "/organizations/no-org/roles/purchaser/organization_roles/member",
            None,
            &["1", "5", "6"],
        ),
        (
            "DELETE",
            "/organizations/no-org/roles/purchaser/organization_roles/member",
            None,
            &["1", "5", "6"],
        ),
        ("GET", "/pep_proxies", None, &["2"]),
        ("POST", "/pep_proxies", None, &["2"]),
        ("PATCH", "/pep_proxies", None, &["2"]),
        ("DELETE", "/pep_proxies", None, &["2"]),
        ("GET", "/iot_agents", None, &["2"]),
        ("POST", "/iot_agents", None, &["2"]),
        ("GET", "/iot_agents/no-iot", None, &["2"]),
        ("PATCH", "/iot_agents/no-iot", None, &["2"]),
        ("DELETE", "/iot_agents/no-iot", None, &["2"]),
        ("GET", "/trusted_applications", None, &["1", "5", "6"]),
        (
            "PUT",
            "/trusted_applications/no-app",
            None,
            &["1", "5", "6"],
        ),
        (
            "POST",
            "/trusted_applications/no-app",
            None,
            &["1", "5", "6"],
        ),
        (
            "DELETE",
            "/trusted_applications/no-app",
            None,
            &["1", "5", "6"],
        ),
        ("GET", "/roles", None, &["1", "3", "5", "6"]),
        (
            "POST",
            "/roles",
            Some(json!({"role": {"name": "r"}})),
            &["3"],
        ),
        ("GET", "/roles/no-role", None, &["3"]),
        (
            "PATCH",
            "/roles/no-role",
            Some(json!({"role": {"name": "x"}})),
            &["3"],
        ),
        ("DELETE", "/roles/no-role", None, &["3"]),
        ("GET", "/roles/no-role/permissions", None, &["3"]),
        ("PUT", "/roles/no-role/permissions/no-perm", None, &["3"]),
        ("POST", "/roles/no-role/permissions/no-perm", None, &["3"]),
        ("DELETE", "/roles/no-role/permissions/no-perm", None, &["3"]),
        ("GET", "/permissions", None, &["3"]),
        (
            "POST",
            "/permissions",
            Some(json!({"permission": {"name": "p", "action": "GET", "resource": "/x"}})),
            &["3"],
        ),
        ("GET", "/permissions/no-perm", None, &["3"]),
        (
            "PATCH",
            "/permissions/no-perm",
            Some(json!({"permission": {"name": "x"}})),
            &["3"],
        ),
        ("DELETE", "/permissions/no-perm", None, &["3"]),
        // Every new application-scoped route gets its row here.
    ]
}

fn call(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: &Option<serde_json::Value>,
) -> Resp {
    let req = server.request(method, path).token(token);
    match body {
        Some(b) => req.json(b).send(),
        None if method == "GET" || method == "DELETE" => req.send(),
        None => req.header("Content-Type", "application/json").send(),
    }
}

fn allowed(caller: Caller, required: &[&str]) -> bool {
    caller.permissions().iter().any(|p| required.contains(p))
}

fn app_rows(db: &TestDb, app: &str) -> (i64, i64, i64, i64) {
    let mut conn = db.conn();
    let r = roles::table
        .filter(roles::oauth_client_id.eq(app))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    let p = permissions::table
        .filter(permissions::oauth_client_id.eq(app))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    let pep = pep_proxies::table
        .filter(pep_proxies::oauth_client_id.eq(app))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    let iot = iot_agents::table
        .filter(iot_agents::oauth_client_id.eq(app))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    (r, p, pep, iot)
}

#[test]
fn authorization_matrix_of_every_route_and_caller() {
    let (server, db) = Server::start();
    let w = world(&server, &db, "m");
    let secret_before: Option<String> = oauth_clients::table
        .filter(oauth_clients::id.eq(&w.app))
        .select(oauth_clients::secret_digest)
        .first(&mut *db.conn())
        .unwrap();
    // Callers without the permission first: they must change nothing.
    for (method, suffix, body, required) in routes() {
        let path = format!("/v1/applications/{}{suffix}", w.app);
        for caller in CALLERS.into_iter().filter(|c| !allowed(*c, required)) {
            let resp = call(&server, w.token(caller), method, &path, &body);
            assert!(
                resp.status == 403
                    && resp.json()["error"]["message"] == "User not allow to perform the action",
                "{caller:?} {method} {path}: expected 403, got {} {}",
                resp.status,
                resp.body
            );
        }
    }
    assert_eq!(
        app_rows(&db, &w.app),
        (0, 0, 0, 0),
        "refused calls created nothing"
    );
    let secret_after: Option<String> = oauth_clients::table
        .filter(oauth_clients::id.eq(&w.app))
        .select(oauth_clients::secret_digest)
        .first(&mut *db.conn())
        .unwrap();
    assert_eq!(
        secret_before, secret_after,
        "refused reset_secret changed nothing"
    );
    // Then the callers that hold one of the permissions: authorization lets them through
    // (the route's own outcome follows: 2xx, or the 404 of an unknown sub-resource).
    for (method, suffix, body, required) in routes() {
        let path = format!("/v1/applications/{}{suffix}", w.app);
        for caller in CALLERS.into_iter().filter(|c| allowed(*c, required)) {
            let resp = call(&server, w.token(caller), method, &path, &body);
            assert!(
                resp.status != 403 && resp.status < 500,
                "{caller:?} {method} {path}: expected to pass authorization, got {} {}",
                resp.status,
                resp.body
            );
            if resp.status == 404 {
                assert_ne!(resp.json()["error"]["message"], "Application not found");
            }
        }
    }
    // The list and create routes need no role at all.
    for caller in CALLERS {
        let list = server
            .request("GET", "/v1/applications")
            .token(w.token(caller))
            .send();
        assert_eq!(list.status, 200);
        let listed = list.json()["applications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == w.app.as_str());
        assert_eq!(
            listed,
            caller != Caller::NoRole && caller != Caller::Admin,
            "{caller:?}"
        );
    }
    // DELETE /applications/{app}, on a fresh world per caller.
    for (n, caller) in CALLERS.into_iter().enumerate() {
        let w = world(&server, &db, &format!("d{n}"));
        let resp = server
            .request("DELETE", &format!("/v1/applications/{}", w.app))
            .token(w.token(caller))
            .send();
        if allowed(caller, &["2"]) {
            assert_eq!(resp.status, 204, "{caller:?}: {}", resp.body);
        } else {
            resp.assert_keyrock_error(403, "User not allow to perform the action");
            let still = server
                .request("GET", &format!("/v1/applications/{}", w.app))
                .token(w.token(Caller::Provider))
                .send();
            assert_eq!(still.status, 200, "{caller:?} deleted the application");
        }
    }
}

#[test]
fn every_route_refuses_the_internal_application_and_answers_404_for_unknown_ones() {
    let (server, db) = Server::start();
    let w = world(&server, &db, "i");
    // Steps 1 and 2 of keyrock.md 1.7 come before the permission check, so even the admin
    // and a provider (of another application) get exactly these answers.
    for caller in [Caller::Provider, Caller::Admin] {
        for (method, suffix, body, _) in routes() {
            let internal = format!("/v1/applications/idm_admin_app{suffix}");
            call(&server, w.token(caller), method, &internal, &body)
                .assert_keyrock_error(403, "Not allowed");
            let unknown = format!("/v1/applications/no-such-app{suffix}");
            call(&server, w.token(caller), method, &unknown, &body)
                .assert_keyrock_error(404, "Application not found");
        }
    }
    let internal_rows: i64 = roles::table
        .filter(roles::oauth_client_id.eq("idm_admin_app"))
        .count()
        .get_result(&mut *db.conn())
        .unwrap();
    assert_eq!(
        internal_rows, 2,
        "only provider and purchaser belong to idm_admin_app"
    );
}

#[test]
fn query_strings_and_path_tricks_do_not_bypass_the_check() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    server.create_user(&admin, "eve", "eve@example.org", "pw");
    let eve = server.login("eve@example.org", "pw");
    let created = server
        .request("POST", "/v1/applications")
        .token(&admin)
        .json(&json!({"application": {"name": "target", "redirect_uri": "http://localhost/cb"}}))
        .send();
    let app = created.json()["application"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"application": {"name": "pwned"}});
    for suffix in [
        "?x=1",
        "?",
        "?x=1&y=2",
        "/?x=1",
        "?application=1#x",
        "?%2e%2e",
        "/",
        "?x",
    ] {
        for prefix in ["/v1", "/v3", "//v1"] {
            let path = format!("{prefix}/applications/{app}{suffix}");
            let resp = server
                .request("PATCH", &path)
                .token(&eve)
                .json(&body)
                .send();
            resp.assert_keyrock_error(403, "User not allow to perform the action");
            let resp = server.request("GET", &path).token(&eve).send();
            resp.assert_keyrock_error(403, "User not allow to perform the action");
        }
    }
    // A percent-encoded id names the same application (or none): never a way in.
    let encoded = format!(
        "/v1/applications/%{:02X}{}?x=1",
        app.as_bytes()[0],
        &app[1..]
    );
    let resp = server
        .request("PATCH", &encoded)
        .token(&eve)
        .json(&body)
        .send();
    assert!(
        resp.status == 403 || resp.status == 404,
        "{} {}",
        resp.status,
        resp.body
    );
    let after = server
        .request("GET", &format!("/v1/applications/{app}"))
        .token(&admin)
        .send();
    assert_eq!(after.json()["application"]["name"], "target");
}

fn create_app(server: &Server, token: &str, name: &str) -> String {
    let resp = server
        .request("POST", "/v1/applications")
        .token(token)
        .json(&json!({"application": {"name": name, "redirect_uri": "http://localhost/cb"}}))
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    resp.json()["application"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Rows of the routes other issues build (roles, permissions, PEP proxies, IoT agents,
/// trusted applications, organizations) are put straight into the store here.
fn insert_app_children(db: &TestDb, app: &str, other: &str) -> (String, String, String) {
    let mut conn = db.conn();
    let c = &mut *conn;
    let role = format!("role-{app}");
    let perm = format!("perm-{app}");
    let pep = format!("pep_proxy_{app}");
    diesel::insert_into(roles::table)
        .values((
            roles::id.eq(&role),
            roles::name.eq("r"),
            roles::oauth_client_id.eq(app),
        ))
        .execute(c)
        .unwrap();
    diesel::insert_into(permissions::table)
        .values((
            permissions::id.eq(&perm),
            permissions::name.eq("p"),
            permissions::oauth_client_id.eq(app),
        ))
        .execute(c)
        .unwrap();
    diesel::insert_into(role_permissions::table)
        .values((
            role_permissions::role_id.eq(&role),
            role_permissions::permission_id.eq(&perm),
        ))
        .execute(c)
        .unwrap();
    diesel::insert_into(pep_proxies::table)
        .values((
            pep_proxies::id.eq(&pep),
            pep_proxies::password_digest.eq(auth_core::secrets::sha256_hex("pep-password")),
            pep_proxies::oauth_client_id.eq(app),
        ))
        .execute(c)
        .unwrap();
    diesel::insert_into(iot_agents::table)
        .values((
            iot_agents::id.eq(format!("iot_sensor_{app}")),
            iot_agents::password_digest.eq("x"),
            iot_agents::oauth_client_id.eq(app),
        ))
        .execute(c)
        .unwrap();
    for (a, b) in [(app, other), (other, app)] {
        diesel::insert_into(trusted_applications::table)
            .values((
                trusted_applications::oauth_client_id.eq(a),
                trusted_applications::trusted_oauth_client_id.eq(b),
            ))
            .execute(c)
            .unwrap();
    }
    (role, perm, pep)
}

#[test]
fn deleting_an_application_removes_everything_that_refers_to_it() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let app = create_app(&server, &admin, "doomed");
    let other = create_app(&server, &admin, "other");
    let (role, perm, pep) = insert_app_children(&db, &app, &other);
    let pep_token = server.login(&pep, "pep-password");
    let base = format!("/v1/applications/{app}");
    let put = server
        .request("PUT", &format!("{base}/users/admin/roles/{role}"))
        .token(&admin)
        .header("Content-Type", "application/json")
        .send();
    assert_eq!(put.status, 201, "{}", put.body);

    assert_eq!(
        server.request("DELETE", &base).token(&admin).send().status,
        204
    );

    let mut conn = db.conn();
    let c = &mut *conn;
    assert_eq!(
        oauth_clients::table
            .filter(oauth_clients::id.eq(&app))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    assert_eq!(
        roles::table
            .filter(roles::oauth_client_id.eq(&app))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    assert_eq!(
        permissions::table
            .filter(permissions::oauth_client_id.eq(&app))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    assert_eq!(
        role_permissions::table
            .filter(
                role_permissions::role_id
                    .eq(&role)
                    .or(role_permissions::permission_id.eq(&perm))
            )
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    assert_eq!(
        role_assignments::table
            .filter(role_assignments::oauth_client_id.eq(&app))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    assert_eq!(
        pep_proxies::table
            .filter(pep_proxies::oauth_client_id.eq(&app))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    assert_eq!(
        iot_agents::table
            .filter(iot_agents::oauth_client_id.eq(&app))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    assert_eq!(
        trusted_applications::table
            .filter(
                trusted_applications::oauth_client_id
                    .eq(&app)
                    .or(trusted_applications::trusted_oauth_client_id.eq(&app))
            )
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    assert_eq!(
        api_tokens::table
            .filter(api_tokens::pep_proxy_id.eq(&pep))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    // The PEP proxy's token is refused, and the other application is intact.
    let info = server
        .request("GET", "/v1/auth/tokens")
        .token(&pep_token)
        .header("X-Subject-Token", &pep_token)
        .send();
    assert_eq!(info.status, 401);
    assert_eq!(
        server
            .request("GET", &format!("/v1/applications/{other}"))
            .token(&admin)
            .send()
            .status,
        200
    );
    assert_eq!(
        role_assignments::table
            .filter(role_assignments::oauth_client_id.eq(&other))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        1,
        "the other application keeps its provider"
    );
}

#[test]
fn deleting_a_user_removes_tokens_memberships_and_assignments() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let bob = server.create_user(&admin, "bob", "bob@example.org", "pw");
    server.login("bob@example.org", "pw");
    let app = create_app(&server, &admin, "a");
    {
        let mut conn = db.conn();
        diesel::insert_into(organizations::table)
            .values((organizations::id.eq("org1"), organizations::name.eq("o")))
            .execute(&mut *conn)
            .unwrap();
        diesel::insert_into(user_organizations::table)
            .values((
                user_organizations::user_id.eq(&bob),
                user_organizations::organization_id.eq("org1"),
                user_organizations::role.eq("owner"),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    let put = server
        .request(
            "PUT",
            &format!("/v1/applications/{app}/users/{bob}/roles/purchaser"),
        )
        .token(&admin)
        .header("Content-Type", "application/json")
        .send();
    assert_eq!(put.status, 201);
    assert_eq!(
        server
            .request("DELETE", &format!("/v1/users/{bob}"))
            .token(&admin)
            .send()
            .status,
        204
    );
    let mut conn = db.conn();
    let c = &mut *conn;
    assert_eq!(
        api_tokens::table
            .filter(api_tokens::user_id.eq(&bob))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    assert_eq!(
        user_organizations::table
            .filter(user_organizations::user_id.eq(&bob))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    assert_eq!(
        role_assignments::table
            .filter(role_assignments::user_id.eq(&bob))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        0
    );
    // The organization itself stays.
    assert_eq!(
        organizations::table
            .filter(organizations::id.eq("org1"))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        1
    );
}
