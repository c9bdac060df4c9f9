//! The basic PDP of `/user` (keyrock.md 6.4, 2.5): one table of decisions on one server,
//! covering the action match, exact and regular-expression resources, the
//! authorization-service header, roles held directly, through organizations and through a
//! trusted application, and what never decides (`provider`, `purchaser`, internal
//! permissions, IoT-agent and application tokens). Then decisions follow changes.

use serde_json::Value;
use storage::diesel::{self, ExpressionMethods, RunQueryDsl};
use storage::schema::{permissions, role_permissions};
use tessera_tests::oauth::*;
use tessera_tests::{json, Server, TestDb, World};

/// Whose token asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// bob, token of A: holds the role `bob-role` directly.
    Bob,
    /// carol, token of A: member of the organization, purchaser of A.
    Carol,
    /// dave, token of A: owner of the organization.
    Dave,
    /// alice, token of A: provider of A.
    Alice,
    /// bob, token of T, evaluated in A (`app_id` = A, which trusts T).
    BobThroughTrust,
    /// bob, token of T, evaluated in T, where he holds nothing.
    BobInT,
    /// An IoT agent of A.
    Iot,
    /// A itself (client_credentials).
    App,
}

struct Case {
    what: &'static str,
    who: Who,
    action: &'static str,
    resource: &'static str,
    header: Option<&'static str>,
    permit: bool,
}

const fn case(
    what: &'static str,
    who: Who,
    action: &'static str,
    resource: &'static str,
    header: Option<&'static str>,
    permit: bool,
) -> Case {
    Case {
        what,
        who,
        action,
        resource,
        header,
        permit,
    }
}

const P: bool = true;
const D: bool = false;
const ROOM: &str = "/v2/entities/Room1";

fn cases() -> Vec<Case> {
    use Who::*;
    vec![
        // Action: whole string, ASCII case ignored (the permission's action is READ).
        case("same action", Bob, "READ", ROOM, None, P),
        case("action in lower case", Bob, "read", ROOM, None, P),
        case("action in mixed case", Bob, "rEaD", ROOM, None, P),
        case("stored action in mixed case", Bob, "DELETE", "/d", None, P),
        case("longer action", Bob, "READS", ROOM, None, D),
        case("action prefix", Bob, "REA", ROOM, None, D),
        // Exact resources: equal, case-sensitive.
        case(
            "resource in another case",
            Bob,
            "READ",
            "/v2/entities/room1",
            None,
            D,
        ),
        case(
            "resource with a trailing slash",
            Bob,
            "READ",
            "/v2/entities/Room1/",
            None,
            D,
        ),
        case("resource prefix", Bob, "READ", "/v2/entities/Room", None, D),
        case(
            "resource with a query",
            Bob,
            "READ",
            "/v2/entities/Room1?x=1",
            None,
            D,
        ),
        case(
            "a pattern-like resource is literal",
            Bob,
            "LITERAL",
            "/anything",
            None,
            D,
        ),
        case("the literal pattern text", Bob, "LITERAL", ".*", None, P),
        // Regular expressions: searched, unanchored, case-insensitive; anchors hold.
        case("regex match", Bob, "LIST", "/v2/entities/x", None, P),
        case("regex ignores case", Bob, "LIST", "/V2/Entities/x", None, P),
        case(
            "regex ^ anchor holds",
            Bob,
            "LIST",
            "/x/v2/entities/",
            None,
            D,
        ),
        case(
            "unanchored regex found inside",
            Bob,
            "SEARCH",
            "/a/ROOM12/b",
            None,
            P,
        ),
        case(
            "unanchored regex absent",
            Bob,
            "SEARCH",
            "/a/room/b",
            None,
            D,
        ),
        case("^...$ whole match", Bob, "ANCHORED", "/only", None, P),
        case("$ anchor holds", Bob, "ANCHORED", "/only/more", None, D),
        case("^ anchor holds", Bob, "ANCHORED", "x/only", None, D),
        case("alternation", Bob, "ALT", "/b", None, P),
        case("alternation, no branch", Bob, "ALT", "/c", None, D),
        case(
            "non-compiling pattern, its own text",
            Bob,
            "BROKEN",
            "([a-z",
            None,
            D,
        ),
        case(
            "non-compiling pattern, anything",
            Bob,
            "BROKEN",
            "abc",
            None,
            D,
        ),
        // The authorization-service header.
        case("header equal", Bob, "PUT", "/h", Some("tenant1"), P),
        case("header absent", Bob, "PUT", "/h", None, D),
        case("header different", Bob, "PUT", "/h", Some("tenant2"), D),
        case(
            "header in another case",
            Bob,
            "PUT",
            "/h",
            Some("Tenant1"),
            D,
        ),
        case(
            "header sent, not required",
            Bob,
            "READ",
            ROOM,
            Some("tenant1"),
            P,
        ),
        // Organizations: the exact owner/member match.
        case("member role for a member", Carol, "MEMBER", "/m", None, P),
        case("owner role for a member", Carol, "OWNER", "/o", None, D),
        case("owner role for an owner", Dave, "OWNER", "/o", None, P),
        case("member role for an owner", Dave, "MEMBER", "/m", None, D),
        case("bob's role is not carol's", Carol, "READ", ROOM, None, D),
        // Never deciding.
        case("provider's linked permission", Alice, "PROV", "/p", None, D),
        case(
            "purchaser's linked permission",
            Carol,
            "PURCH",
            "/pu",
            None,
            D,
        ),
        case(
            "internal permission on a custom role",
            Bob,
            "INTERNAL",
            "/i",
            None,
            D,
        ),
        case("permission on no held role", Bob, "UNHELD", "/u", None, D),
        // Trusted applications: roles of the evaluated application.
        case(
            "token of T evaluated in A",
            BobThroughTrust,
            "READ",
            ROOM,
            None,
            P,
        ),
        case(
            "token of T, regex, in A",
            BobThroughTrust,
            "LIST",
            "/v2/entities/y",
            None,
            P,
        ),
        case("token of T evaluated in T", BobInT, "READ", ROOM, None, D),
        case("IoT agent", Iot, "READ", ROOM, None, D),
        case("client_credentials", App, "READ", ROOM, None, D),
    ]
}

/// Creates a permission of `app` and returns its id.
fn permission(
    s: &Server,
    token: &str,
    app: &str,
    action: &str,
    resource: &str,
    extra: Value,
) -> String {
    let mut body =
        json!({"name": format!("{action} {resource}"), "action": action, "resource": resource});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    s.permission_from(token, app, body)
}

/// Behind the API, on one connection: gives the internal permission 2 an action and a
/// resource (it must still never take part), and links permissions of the application to
/// `provider` and `purchaser` (the API refuses such links).
fn arrange_in_store(db: &TestDb, provider_permission: &str, purchaser_permission: &str) {
    let mut conn = db.conn();
    let n = diesel::update(permissions::table)
        .filter(permissions::id.eq("2"))
        .set((
            permissions::action.eq("INTERNAL"),
            permissions::resource.eq("/i"),
        ))
        .execute(&mut *conn)
        .unwrap();
    assert_eq!(n, 1);
    for (role, permission) in [
        ("provider", provider_permission),
        ("purchaser", purchaser_permission),
    ] {
        diesel::insert_into(role_permissions::table)
            .values((
                role_permissions::role_id.eq(role),
                role_permissions::permission_id.eq(permission),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
}

#[test]
fn basic_pdp_decision_table() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let app = s.oauth_app(a, &TOKEN_GRANTS, &[]);
    let t = s.oauth_app(a, &TOKEN_GRANTS, &[]);
    s.trust(a, &app.id, &t.id);
    let id = app.id.as_str();
    let regex = json!({"is_regex": true});
    let none = json!({});

    // bob's role.
    let bob_role = s.new_role(a, id, "bob-role");
    let header = json!({"use_authorization_service_header": true, "authorization_service_header": "tenant1"});
    for p in [
        permission(&s, a, id, "READ", ROOM, none.clone()),
        permission(&s, a, id, "Delete", "/d", none.clone()),
        permission(&s, a, id, "LITERAL", ".*", none.clone()),
        permission(&s, a, id, "LIST", "^/v2/entities/.*", regex.clone()),
        permission(&s, a, id, "SEARCH", "room[0-9]+", regex.clone()),
        permission(&s, a, id, "ANCHORED", "^/only$", regex.clone()),
        permission(&s, a, id, "ALT", "^/(a|b)$", regex.clone()),
        permission(&s, a, id, "BROKEN", "([a-z", regex.clone()),
        permission(&s, a, id, "PUT", "/h", header),
        "2".to_owned(),
    ] {
        s.link_permission(a, id, &bob_role, &p);
    }
    s.grant_role(a, id, &w.bob_id, &bob_role);
    permission(&s, a, id, "UNHELD", "/u", none.clone());

    // The organization: dave owns it, carol is a member.
    let org = s.new_organization(&w.dave, "Org");
    s.set_member(&w.dave, &org, &w.carol_id, "member");
    for (org_role, action, resource) in [("member", "MEMBER", "/m"), ("owner", "OWNER", "/o")] {
        let r = s.new_role(a, id, &format!("{org_role}-role"));
        let p = permission(&s, a, id, action, resource, none.clone());
        s.link_permission(a, id, &r, &p);
        s.grant_org_role(a, id, &org, &r, org_role);
    }
    // provider (alice) and purchaser (carol) with permissions of A linked in the store.
    s.grant_role(a, id, &w.carol_id, "purchaser");
    let prov = permission(&s, a, id, "PROV", "/p", none.clone());
    let purch = permission(&s, a, id, "PURCH", "/pu", none.clone());
    arrange_in_store(&db, &prov, &purch);

    // The tokens.
    let (iot, password) = s.new_iot_agent(a, id);
    let token_of = |who: Who| -> (String, Option<&str>) {
        match who {
            Who::Bob => (s.user_tokens(&app, "bob", None).access, None),
            Who::Carol => (s.user_tokens(&app, "carol", None).access, None),
            Who::Dave => (s.user_tokens(&app, "dave", None).access, None),
            Who::Alice => (s.user_tokens(&app, "alice", None).access, None),
            Who::BobThroughTrust => (s.user_tokens(&t, "bob", None).access, Some(id)),
            Who::BobInT => (s.user_tokens(&t, "bob", None).access, None),
            Who::Iot => (s.password_grant(&app, &iot, &password).access, None),
            Who::App => (s.client_credentials(&app, None).access, None),
        }
    };

    let table = cases();
    assert!(table.len() >= 25);
    let mut failures = Vec::new();
    for c in &table {
        let (token, app_id) = token_of(c.who);
        let mut query = vec![
            ("access_token", token.as_str()),
            ("action", c.action),
            ("resource", c.resource),
        ];
        if let Some(app_id) = app_id {
            query.push(("app_id", app_id));
        }
        if let Some(h) = c.header {
            query.push(("authorization_service_header", h));
        }
        let resp = s.user_info(&query);
        let want = if c.permit { "Permit" } else { "Deny" };
        if resp.status != 200 || resp.json()["authorization_decision"] != want {
            failures.push(format!(
                "{} ({:?} {} {}): want {want}, got {} {}",
                c.what, c.who, c.action, c.resource, resp.status, resp.body
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );

    // Decisions follow changes: a permission's new resource, a role taken away.
    let bob = s.user_tokens(&app, "bob", None);
    let decide = |action: &str, resource: &str| {
        let resp = s.user_info(&[
            ("access_token", &bob.access),
            ("action", action),
            ("resource", resource),
        ]);
        resp.assert_status(200).json()["authorization_decision"].clone()
    };
    assert_eq!(decide("LIST", "/v2/entities/x"), "Permit");
    let list = permission(&s, a, id, "LIST2", "^/v2/.*", regex);
    s.link_permission(a, id, &bob_role, &list);
    assert_eq!(decide("LIST2", "/v3/x"), "Deny");
    let path = format!("/v1/applications/{id}/permissions/{list}");
    let patch = json!({"permission": {"action": "LIST2", "resource": "^/v3/.*"}});
    s.send_json("PATCH", &path, a, &patch).assert_status(200);
    assert_eq!(decide("LIST2", "/v3/x"), "Permit");
    assert_eq!(decide("LIST2", "/v2/x"), "Deny");
    let path = format!("/v1/applications/{id}/users/{}/roles/{bob_role}", w.bob_id);
    s.keyrock("DELETE", &path, a).assert_no_content();
    assert_eq!(decide("READ", ROOM), "Deny");
    assert_eq!(decide("LIST2", "/v3/x"), "Deny");
}
