//! The authorization model of the application-scoped routes (keyrock.md 1.7, 2.3-2.5):
//! a matrix of every route against six callers, the query-string bypass Keyrock had, and
//! cascading deletes.

use serde_json::Value;
use storage::diesel::{self, BoolExpressionMethods, ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{
    api_tokens, iot_agents, oauth_clients, organizations, pep_proxies, permissions,
    role_assignments, role_permissions, roles, trusted_applications, user_organizations,
};
use tessera_tests::{count, json, Resp, Server, TestDb, World};

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
struct Callers {
    app: String,
    tokens: Vec<(Caller, String)>,
}

impl Callers {
    fn token(&self, caller: Caller) -> &str {
        &self.tokens.iter().find(|(c, _)| *c == caller).unwrap().1
    }
}

fn callers(s: &Server, db: &TestDb, tag: &str) -> Callers {
    let admin = s.admin_token();
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
        let id = s.create_user(&admin, &format!("{name}-{tag}"), &email, "pw");
        tokens.push((caller, s.login(&email, "pw")));
        users.push((caller, id));
    }
    let user = |c: Caller| users.iter().find(|(k, _)| *k == c).unwrap().1.clone();
    let provider = tokens
        .iter()
        .find(|(c, _)| *c == Caller::Provider)
        .unwrap()
        .1
        .clone();
    let app = s.new_application(&provider, &format!("app-{tag}"));
    let path = format!(
        "/v1/applications/{app}/users/{}/roles/purchaser",
        user(Caller::Purchaser)
    );
    s.keyrock("PUT", &path, &provider).assert_status(201);
    // The organization is set up in the store, so this test depends on no other route.
    let org = format!("org-{tag}");
    let (owner, member) = (user(Caller::OrgOwner), user(Caller::OrgMember));
    db.insert_organization(&org, &[(&owner, "owner"), (&member, "member")]);
    for (role, org_role) in [("provider", "owner"), ("purchaser", "member")] {
        let path = format!(
            "/v1/applications/{app}/organizations/{org}/roles/{role}/organization_roles/{org_role}"
        );
        s.keyrock("PUT", &path, &provider).assert_status(201);
    }
    Callers { app, tokens }
}

/// The permissions of keyrock.md 2.3 that open a route.
const READ: &[&str] = &["1", "2", "3", "5", "6"];
const MANAGE: &[&str] = &["2"];
const ASSIGN: &[&str] = &["1", "5", "6"];
const ROLES: &[&str] = &["3"];
const LIST_ROLES: &[&str] = &["1", "3", "5", "6"];
/// `DELETE /applications/{app}`: its own block of the matrix test, on a fresh world per
/// caller (deleting the shared application would end the other rows).
const DELETE_APPLICATION: (&str, &str, &[&str]) = ("DELETE", "", MANAGE);
const ORG_ROLE: &str = "/organizations/no-org/roles/purchaser/organization_roles/member";

/// Every application-scoped route, with a request that passes validation far enough to
/// show the authorization outcome without depending on other rows (unknown sub-resource
/// ids answer their own 404 once authorization passed), and keyrock.md 2.3's permissions.
fn routes() -> Vec<(
    &'static str,
    &'static str,
    Option<Value>,
    &'static [&'static str],
)> {
    vec![
        ("GET", "", None, READ),
        ("PATCH", "", Some(json!({"application": {}})), MANAGE),
        ("POST", "/reset_secret", None, MANAGE),
        ("GET", "/users", None, ASSIGN),
        ("GET", "/users/nobody/roles", None, ASSIGN),
        ("PUT", "/users/nobody/roles/purchaser", None, ASSIGN),
        ("POST", "/users/nobody/roles/purchaser", None, ASSIGN),
        ("DELETE", "/users/nobody/roles/purchaser", None, ASSIGN),
        ("GET", "/organizations", None, ASSIGN),
        ("GET", "/organizations/no-org/roles", None, ASSIGN),
        ("PUT", ORG_ROLE, None, ASSIGN),
        ("POST", ORG_ROLE, None, ASSIGN),
        ("DELETE", ORG_ROLE, None, ASSIGN),
        ("GET", "/pep_proxies", None, MANAGE),
        ("POST", "/pep_proxies", None, MANAGE),
        ("PATCH", "/pep_proxies", None, MANAGE),
        ("DELETE", "/pep_proxies", None, MANAGE),
        ("GET", "/iot_agents", None, MANAGE),
        ("POST", "/iot_agents", None, MANAGE),
        ("GET", "/iot_agents/no-iot", None, MANAGE),
        ("PATCH", "/iot_agents/no-iot", None, MANAGE),
        ("DELETE", "/iot_agents/no-iot", None, MANAGE),
        ("GET", "/trusted_applications", None, ASSIGN),
        ("PUT", "/trusted_applications/no-app", None, ASSIGN),
        ("POST", "/trusted_applications/no-app", None, ASSIGN),
        ("DELETE", "/trusted_applications/no-app", None, ASSIGN),
        ("GET", "/roles", None, LIST_ROLES),
        (
            "POST",
            "/roles",
            Some(json!({"role": {"name": "r"}})),
            ROLES,
        ),
        ("GET", "/roles/no-role", None, ROLES),
        (
            "PATCH",
            "/roles/no-role",
            Some(json!({"role": {"name": "x"}})),
            ROLES,
        ),
        ("DELETE", "/roles/no-role", None, ROLES),
        ("GET", "/roles/no-role/permissions", None, ROLES),
        ("PUT", "/roles/no-role/permissions/no-perm", None, ROLES),
        ("POST", "/roles/no-role/permissions/no-perm", None, ROLES),
        ("DELETE", "/roles/no-role/permissions/no-perm", None, ROLES),
        ("GET", "/permissions", None, ROLES),
        (
            "POST",
            "/permissions",
            Some(json!({"permission": {"name": "p", "action": "GET", "resource": "/x"}})),
            ROLES,
        ),
        ("GET", "/permissions/no-perm", None, ROLES),
        (
            "PATCH",
            "/permissions/no-perm",
            Some(json!({"permission": {"name": "x"}})),
            ROLES,
        ),
        ("DELETE", "/permissions/no-perm", None, ROLES),
        // Every new application-scoped route gets its row here.
    ]
}

fn call(s: &Server, token: &str, method: &str, path: &str, body: &Option<Value>) -> Resp {
    match body {
        Some(b) => s.send_json(method, path, token, b),
        None => s.keyrock(method, path, token),
    }
}

fn allowed(caller: Caller, required: &[&str]) -> bool {
    caller.permissions().iter().any(|p| required.contains(p))
}

/// (roles, permissions, PEP proxies, IoT agents) of an application.
fn app_rows(db: &TestDb, app: &str) -> (i64, i64, i64, i64) {
    (
        count!(db, roles::table.filter(roles::oauth_client_id.eq(app))),
        count!(
            db,
            permissions::table.filter(permissions::oauth_client_id.eq(app))
        ),
        count!(
            db,
            pep_proxies::table.filter(pep_proxies::oauth_client_id.eq(app))
        ),
        count!(
            db,
            iot_agents::table.filter(iot_agents::oauth_client_id.eq(app))
        ),
    )
}

#[test]
fn authorization_matrix_of_every_route_and_caller() {
    let (s, db) = Server::start();
    let w = callers(&s, &db, "m");
    let secret_before = db.secret_digest(&w.app);
    // Callers without the permission first: they must change nothing.
    for (method, suffix, body, required) in routes() {
        let path = format!("/v1/applications/{}{suffix}", w.app);
        for caller in CALLERS.into_iter().filter(|c| !allowed(*c, required)) {
            let resp = call(&s, w.token(caller), method, &path, &body);
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
    let secret_after = db.secret_digest(&w.app);
    assert_eq!(
        secret_before, secret_after,
        "refused reset_secret changed nothing"
    );
    // Then the callers that hold one of the permissions: authorization lets them through
    // (the route's own outcome follows: 2xx, or the 404 of an unknown sub-resource).
    for (method, suffix, body, required) in routes() {
        let path = format!("/v1/applications/{}{suffix}", w.app);
        for caller in CALLERS.into_iter().filter(|c| allowed(*c, required)) {
            let resp = call(&s, w.token(caller), method, &path, &body);
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
        let list = s.keyrock("GET", "/v1/applications", w.token(caller));
        let apps = list.assert_status(200).json()["applications"].clone();
        let listed = apps
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
        let w = callers(&s, &db, &format!("d{n}"));
        let path = format!("/v1/applications/{}", w.app);
        let resp = s.keyrock(DELETE_APPLICATION.0, &path, w.token(caller));
        if allowed(caller, DELETE_APPLICATION.2) {
            assert_eq!(resp.status, 204, "{caller:?}: {}", resp.body);
        } else {
            resp.assert_not_permitted();
            let still = s.keyrock("GET", &path, w.token(Caller::Provider));
            assert_eq!(still.status, 200, "{caller:?} deleted the application");
        }
    }
}

#[test]
fn every_route_refuses_the_internal_application_and_answers_404_for_unknown_ones() {
    let (s, db) = Server::start();
    let w = callers(&s, &db, "i");
    // Steps 1 and 2 of keyrock.md 1.7 come before the permission check, so even the admin
    // and a provider (of another application) get exactly these answers.
    for caller in [Caller::Provider, Caller::Admin] {
        for (method, suffix, body, _) in routes() {
            let internal = format!("/v1/applications/idm_admin_app{suffix}");
            call(&s, w.token(caller), method, &internal, &body)
                .assert_keyrock_error(403, "Not allowed");
            let unknown = format!("/v1/applications/no-such-app{suffix}");
            call(&s, w.token(caller), method, &unknown, &body)
                .assert_keyrock_error(404, "Application not found");
        }
    }
    let internal_rows = count!(
        db,
        roles::table.filter(roles::oauth_client_id.eq("idm_admin_app"))
    );
    assert_eq!(
        internal_rows, 2,
        "only provider and purchaser belong to idm_admin_app"
    );
}

#[test]
fn query_strings_and_path_tricks_do_not_bypass_the_check() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    // Dave holds no role in the admin's application.
    let (admin, eve) = (&w.admin, &w.dave);
    let app = s.new_application(admin, "target");
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
            s.send_json("PATCH", &path, eve, &body)
                .assert_not_permitted();
            s.keyrock("GET", &path, eve).assert_not_permitted();
        }
    }
    // A percent-encoded id names the same application (or none): never a way in.
    let encoded = format!(
        "/v1/applications/%{:02X}{}?x=1",
        app.as_bytes()[0],
        &app[1..]
    );
    let resp = s.send_json("PATCH", &encoded, eve, &body);
    assert!(
        resp.status == 403 || resp.status == 404,
        "{} {}",
        resp.status,
        resp.body
    );
    let after = s.keyrock("GET", &format!("/v1/applications/{app}"), admin);
    assert_eq!(after.json()["application"]["name"], "target");
}

/// Rows of the routes other issues build (roles, permissions, PEP proxies, IoT agents,
/// trusted applications) are put straight into the store here.
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
    let (s, db) = Server::start();
    let admin = s.admin_token();
    let app = s.new_application(&admin, "doomed");
    let other = s.new_application(&admin, "other");
    let (role, perm, pep) = insert_app_children(&db, &app, &other);
    let pep_token = s.login(&pep, "pep-password");
    let base = format!("/v1/applications/{app}");
    s.keyrock("PUT", &format!("{base}/users/admin/roles/{role}"), &admin)
        .assert_status(201);

    s.keyrock("DELETE", &base, &admin).assert_status(204);

    let links = role_permissions::role_id
        .eq(&role)
        .or(role_permissions::permission_id.eq(&perm));
    let trusts = trusted_applications::oauth_client_id
        .eq(&app)
        .or(trusted_applications::trusted_oauth_client_id.eq(&app));
    for (what, rows) in [
        (
            "application",
            count!(db, oauth_clients::table.filter(oauth_clients::id.eq(&app))),
        ),
        (
            "roles",
            count!(db, roles::table.filter(roles::oauth_client_id.eq(&app))),
        ),
        (
            "permissions",
            count!(
                db,
                permissions::table.filter(permissions::oauth_client_id.eq(&app))
            ),
        ),
        (
            "role links",
            count!(db, role_permissions::table.filter(links)),
        ),
        (
            "assignments",
            count!(
                db,
                role_assignments::table.filter(role_assignments::oauth_client_id.eq(&app))
            ),
        ),
        (
            "PEP proxies",
            count!(
                db,
                pep_proxies::table.filter(pep_proxies::oauth_client_id.eq(&app))
            ),
        ),
        (
            "IoT agents",
            count!(
                db,
                iot_agents::table.filter(iot_agents::oauth_client_id.eq(&app))
            ),
        ),
        (
            "trust",
            count!(db, trusted_applications::table.filter(trusts)),
        ),
        (
            "PEP tokens",
            count!(
                db,
                api_tokens::table.filter(api_tokens::pep_proxy_id.eq(&pep))
            ),
        ),
    ] {
        assert_eq!(rows, 0, "{what} left behind");
    }
    // The PEP proxy's token is refused, and the other application is intact.
    assert_eq!(s.inspect(&pep_token).status, 401);
    s.keyrock("GET", &format!("/v1/applications/{other}"), &admin)
        .assert_status(200);
    let kept = role_assignments::table.filter(role_assignments::oauth_client_id.eq(&other));
    assert_eq!(
        count!(db, kept),
        1,
        "the other application keeps its provider"
    );
}

#[test]
fn deleting_a_user_removes_tokens_memberships_and_assignments() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let (admin, bob) = (&w.admin, &w.bob_id);
    let app = s.new_application(admin, "a");
    db.insert_organization("org1", &[(bob, "owner")]);
    let path = format!("/v1/applications/{app}/users/{bob}/roles/purchaser");
    s.keyrock("PUT", &path, admin).assert_status(201);
    s.keyrock("DELETE", &format!("/v1/users/{bob}"), admin)
        .assert_status(204);
    for (what, rows) in [
        (
            "tokens",
            count!(db, api_tokens::table.filter(api_tokens::user_id.eq(&bob))),
        ),
        (
            "memberships",
            count!(
                db,
                user_organizations::table.filter(user_organizations::user_id.eq(&bob))
            ),
        ),
        (
            "assignments",
            count!(
                db,
                role_assignments::table.filter(role_assignments::user_id.eq(&bob))
            ),
        ),
    ] {
        assert_eq!(rows, 0, "{what} left behind");
    }
    // The organization itself stays.
    assert_eq!(
        count!(
            db,
            organizations::table.filter(organizations::id.eq("org1"))
        ),
        1
    );
}

/// The permissions keyrock.md 2.3 gives each authorization operation the server declares.
fn spec_permissions(operation: &str) -> &'static [&'static str] {
    match operation {
        "ReadApplication" => READ,
        "UpdateApplication" | "DeleteApplication" | "ResetSecret" | "ManagePepProxy"
        | "ManageIotAgents" => MANAGE,
        "ListRoles" => LIST_ROLES,
        "ManageRoles" | "ManagePermissions" | "ManageRolePermissions" => ROLES,
        "AssignRoles" | "ManageTrustedApplications" => ASSIGN,
        other => panic!("an operation keyrock.md 2.3 does not name: {other}"),
    }
}

/// Whether a matrix row's concrete suffix is an instance of a documented suffix.
fn instance_of(concrete: &str, documented: &str) -> bool {
    let (c, d): (Vec<&str>, Vec<&str>) = (
        concrete.split('/').collect(),
        documented.split('/').collect(),
    );
    c.len() == d.len() && c.iter().zip(&d).all(|(c, d)| d.starts_with('{') || c == d)
}

#[test]
fn every_documented_application_route_has_one_matrix_row_with_the_spec_permissions() {
    let (s, _db) = Server::start();
    let prefix = "/v1/applications/{application_id}";
    let documented: Vec<_> = tessera_tests::routes::operations(&s)
        .into_iter()
        .filter(|op| op.path == prefix || op.path.starts_with(&format!("{prefix}/")))
        .collect();
    let mut rows = routes();
    let (method, suffix, required) = DELETE_APPLICATION;
    rows.push((method, suffix, None, required));
    assert_eq!(
        documented.len(),
        rows.len(),
        "documented routes and matrix rows differ"
    );
    for op in &documented {
        let suffix = &op.path[prefix.len()..];
        let matching: Vec<_> = rows
            .iter()
            .filter(|(m, c, _, _)| *m == op.method && instance_of(c, suffix))
            .collect();
        assert_eq!(matching.len(), 1, "{}: matrix rows {matching:?}", op.name());
        let declared = op.doc["x-tessera-authorization"]
            .as_str()
            .unwrap_or_else(|| panic!("{} declares no authorization operation", op.name()));
        assert_eq!(
            spec_permissions(declared),
            matching[0].3,
            "{}: the server's {declared} and the matrix disagree",
            op.name()
        );
    }
    // Routes outside applications declare none.
    for op in tessera_tests::routes::operations(&s) {
        if !op.path.starts_with(prefix) && !op.path.starts_with("/v3/applications/") {
            assert!(
                op.doc.get("x-tessera-authorization").is_none(),
                "{}",
                op.name()
            );
        }
    }
}
