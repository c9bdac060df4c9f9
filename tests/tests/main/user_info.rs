//! `GET /user` (keyrock.md 6.1–6.3, 6.5): where the token comes from, how it resolves
//! (unknown, revoked, expired, JWT through `app_id`, the trusted-application rule), the
//! bare-string errors, the exact objects for user, IoT-agent and application tokens, and the
//! `advanced` PDP level. Decisions themselves are the table of `pdp.rs`.

use serde_json::Value;
use storage::diesel::{self, ExpressionMethods, RunQueryDsl};
use storage::schema::user_authorized_applications;
use tessera_tests::oauth::*;
use tessera_tests::{json, Options, Server, World};
use time::OffsetDateTime;

const BOTH: &str = "Invalid request: only one authentication method is allowed";
const NEITHER: &str = "Unauthorized request: no authentication given";
const MALFORMED: &str = "Invalid request: malformed authorization header";
const ADVANCED: &str = "PDP level advanced (AuthZForce) is not supported";

/// Sorts every array of objects with an `id` (roles, organizations) and every array of
/// strings (trusted_apps) in a `/user` object: their order is not specified.
fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .collect(),
        ),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalized).collect();
            items.sort_by_key(|i| match i {
                Value::Object(o) => o.get("id").map(Value::to_string).unwrap_or_default(),
                other => other.to_string(),
            });
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// A `{id, name}` role.
fn role(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name})
}

#[test]
fn the_token_comes_from_one_place() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let t = s.user_tokens(&app, "bob", None);

    s.request("GET", &format!("/user?access_token={}", t.access))
        .bearer(&t.access)
        .send()
        .assert_bare(400, BOTH);
    s.get("/user").assert_bare(401, NEITHER);
    s.user_info(&[("app_id", &app.id)])
        .assert_bare(401, NEITHER);
    s.user_info(&[("action", "GET"), ("resource", "/r")])
        .assert_bare(401, NEITHER);
    for value in [
        format!("Basic {}", t.access),
        "Bearer".to_owned(),
        format!("Token {}", t.access),
        t.access.clone(),
    ] {
        s.request("GET", "/user")
            .header("Authorization", &value)
            .send()
            .assert_bare(400, MALFORMED);
    }

    // The header alone works like the parameter.
    let by_header = s.request("GET", "/user").bearer(&t.access).send();
    let by_query = s.user_of(&t.access);
    assert_eq!(
        by_header.assert_status(200).json(),
        by_query.assert_status(200).json()
    );
    assert_eq!(by_header.json()["id"], w.bob_id);
    by_header.assert_json_type();

    // authzforce with any other decision input: the Keyrock object, not a bare string.
    let two_levels = json!({"message": "Cannot handle 2 authentications levels at the same time",
                            "code": 400, "title": "Bad Request"});
    for extra in [
        ("action", "GET"),
        ("resource", "/r"),
        ("authorization_service_header", "tenant"),
    ] {
        let resp = s.user_info(&[("access_token", &t.access), ("authzforce", "true"), extra]);
        assert_eq!(resp.status, 400, "body: {}", resp.body);
        assert_eq!(resp.json(), two_levels);
    }
    let resp = s
        .request("GET", "/user?authzforce=true")
        .bearer(&t.access)
        .send();
    assert_eq!(resp.status, 400, "body: {}", resp.body);
    assert_eq!(resp.json(), two_levels);
}

#[test]
fn tokens_resolve_by_kind_and_application() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let other = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let t = s.user_tokens(&app, "bob", None);
    let cc = s.client_credentials(&app, None);
    let (iot, password) = s.new_iot_agent(&w.alice, &app.id);
    let by_iot = s.password_grant(&app, &iot, &password);
    let unauthorized = json!({"message": "Unauthorized", "code": 401, "title": "Unauthorized"});

    // An unknown app_id is checked first.
    for token in [
        t.access.as_str(),
        "0000000000000000000000000000000000000000",
    ] {
        let resp = s.user_info(&[("access_token", token), ("app_id", "no-such-app")]);
        assert_eq!(resp.status, 401, "body: {}", resp.body);
        assert_eq!(resp.json(), unauthorized);
        resp.assert_json_type();
    }
    // Unknown tokens, including a /v1 API token and a refresh token.
    for token in [
        "0".repeat(40),
        "garbage".to_owned(),
        w.bob.clone(),
        t.refresh().to_owned(),
    ] {
        s.assert_token_refused(&token, TOKEN_UNKNOWN);
    }
    // Revoked.
    let revoked = s.user_tokens(&app, "bob", None);
    s.revoke_token(&app, &revoked.access, None).assert_revoked();
    s.assert_token_refused(&revoked.access, TOKEN_REVOKED);
    s.user_info(&[("access_token", &revoked.access), ("app_id", &app.id)])
        .assert_bare(401, TOKEN_REVOKED);

    // Another application that does not trust the token's one: refused, for every kind.
    for token in [&t.access, &cc.access, &by_iot.access] {
        s.user_info(&[("access_token", token), ("app_id", &other.id)])
            .assert_bare(401, NOT_IN_APP);
        // Its own application, named or not.
        s.user_info(&[("access_token", token), ("app_id", &app.id)])
            .assert_status(200);
        s.user_of(token).assert_status(200);
    }
    // Once `other` trusts `app`, they pass; app_id stays the token's application.
    s.trust(&w.alice, &other.id, &app.id);
    for token in [&t.access, &cc.access, &by_iot.access] {
        let info = s.user_info(&[("access_token", token), ("app_id", &other.id)]);
        assert_eq!(info.assert_status(200).json()["app_id"], app.id);
    }
    // The trust goes one way.
    let of_other = s.user_tokens(&other, "bob", None);
    s.user_info(&[("access_token", &of_other.access), ("app_id", &app.id)])
        .assert_bare(401, NOT_IN_APP);
}

#[test]
fn jwt_tokens_are_read_only_through_their_app_id() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt", "permanent"]);
    let bearer_only = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let other_jwt = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt"]);
    let t = s.user_tokens(&app, "bob", Some("jwt"));
    let with =
        |token: &str, app_id: &str| s.user_info(&[("access_token", token), ("app_id", app_id)]);

    // Without app_id, or with an application whose secret does not sign it, a JWT is
    // looked up as an opaque token: unknown.
    s.assert_token_refused(&t.access, TOKEN_UNKNOWN);
    with(&t.access, &bearer_only.id).assert_bare(401, TOKEN_UNKNOWN);
    with(&t.access, &other_jwt.id).assert_bare(401, TOKEN_UNKNOWN);
    // With its application it resolves, to the same object an opaque token gives.
    let info = with(&t.access, &app.id).assert_status(200).json();
    let opaque = s.user_tokens(&app, "bob", None);
    let same = s.user_of(&opaque.access).assert_status(200).json();
    assert_eq!(normalized(&info), normalized(&same));
    assert_eq!(info["id"], w.bob_id);
    assert_eq!(info["app_id"], app.id);

    // Roles are looked up when asked, not frozen in the token.
    let r = s.new_role(&w.alice, &app.id, "Late role");
    s.grant_role(&w.alice, &app.id, &w.bob_id, &r);
    let info = with(&t.access, &app.id).assert_status(200).json();
    assert_eq!(info["roles"], json!([role(&r, "Late role")]));

    // IoT-agent and application JWTs.
    let (iot, password) = s.new_iot_agent(&w.alice, &app.id);
    let by_iot = s
        .try_password_grant(&app, &iot, &password, Some("jwt"))
        .tokens();
    let info = with(&by_iot.access, &app.id).assert_status(200).json();
    assert_eq!(info["id"], iot);
    assert_eq!(info["roles"], json!([]));
    let cc = s.client_credentials(&app, Some("jwt"));
    assert_eq!(
        with(&cc.access, &app.id).assert_status(200).json(),
        json!({"app_id": app.id})
    );
}

#[test]
fn expired_tokens_are_refused_and_permanent_ones_never_expire() {
    let options = Options::default().env("TESSERA_ACCESS_TOKEN_LIFETIME", "1");
    let (s, _db) = Server::start_with(options);
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt", "permanent"]);
    let bearer = s.user_tokens(&app, "bob", None);
    s.assert_token_valid(&bearer.access);
    let cc = s.client_credentials(&app, None);
    let jwt = s.user_tokens(&app, "bob", Some("jwt"));
    let permanent = s.user_tokens(&app, "bob", Some("permanent"));
    let permanent_jwt = s.user_tokens(&app, "bob", Some("jwt,permanent"));

    std::thread::sleep(std::time::Duration::from_secs(2));
    for token in [&bearer.access, &cc.access] {
        s.assert_token_refused(token, TOKEN_EXPIRED);
        s.user_info(&[("access_token", token), ("app_id", &app.id)])
            .assert_bare(401, TOKEN_EXPIRED);
    }
    // An expired JWT does not verify, and is then no stored token either.
    s.user_info(&[("access_token", &jwt.access), ("app_id", &app.id)])
        .assert_bare(401, TOKEN_UNKNOWN);
    s.assert_token_valid(&permanent.access);
    s.user_info(&[("access_token", &permanent_jwt.access), ("app_id", &app.id)])
        .assert_status(200);
}

#[test]
fn the_user_object_lists_roles_organizations_and_shared_attributes() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let app = s.oauth_app(a, &TOKEN_GRANTS, &[]);
    let trusted = s.oauth_app(a, &TOKEN_GRANTS, &[]);
    s.trust(a, &app.id, &trusted.id);

    // bob: two direct roles and purchaser (never listed); member of Team (carol owns it),
    // owner of his own organization, which holds no role here.
    let reader = s.new_role(a, &app.id, "Reader");
    let writer = s.new_role(a, &app.id, "Writer");
    let for_members = s.new_role(a, &app.id, "Member role");
    let for_owners = s.new_role(a, &app.id, "Owner role");
    for r in [&reader, &writer, "purchaser"] {
        s.grant_role(a, &app.id, &w.bob_id, r);
    }
    let team = s.send_json(
        "POST",
        "/v1/organizations",
        &w.carol,
        &json!({"organization": {"name": "Team", "description": "The team"}}),
    );
    let team = team.assert_status(201).json()["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.set_member(&w.carol, &team, &w.bob_id, "member");
    s.new_organization(&w.bob, "Bob's own");
    s.grant_org_role(a, &app.id, &team, &for_members, "member");
    s.grant_org_role(a, &app.id, &team, &for_owners, "owner");
    let patch = json!({"user": {"extra": {"team": "blue"}}});
    s.send_json("PATCH", &format!("/v1/users/{}", w.bob_id), &w.bob, &patch)
        .assert_status(200);

    let t = s.user_tokens(&app, "bob", None);
    let mut want = json!({
        "organizations": [{"id": team, "name": "Team", "description": "The team", "website": null,
                           "roles": [role(&for_members, "Member role")]}],
        "displayName": "", "roles": [role(&reader, "Reader"), role(&writer, "Writer")],
        "app_id": app.id, "trusted_apps": [], "isGravatarEnabled": "", "id": w.bob_id,
        "authorization_decision": "", "app_azf_domain": "", "eidas_profile": {}, "attributes": {},
        "shared_attributes": "", "username": "bob", "email": "bob@test.com",
        "given_name": "bob", "family_name": "bob", "image": "", "gravatar": "",
        "extra": {"team": "blue"}, "sub": w.bob_id
    });
    let got = s.user_of(&t.access).assert_status(200).json();
    assert_eq!(normalized(&got), normalized(&want));
    // With app_id, trusted_apps lists what the application trusts.
    let got = s.user_info(&[("access_token", &t.access), ("app_id", &app.id)]);
    want["trusted_apps"] = json!([trusted.id]);
    assert_eq!(
        normalized(&got.assert_status(200).json()),
        normalized(&want)
    );
    // A decision only when both action and resource are given.
    let got = s.user_info(&[("access_token", &t.access), ("action", "GET")]);
    assert_eq!(got.assert_status(200).json()["authorization_decision"], "");
    let got = s.user_info(&[("access_token", &t.access), ("resource", "/r")]);
    assert_eq!(got.assert_status(200).json()["authorization_decision"], "");
    let got = s.user_info(&[
        ("access_token", &t.access),
        ("action", "GET"),
        ("resource", "/r"),
    ]);
    assert_eq!(
        got.assert_status(200).json()["authorization_decision"],
        "Deny"
    );

    // A token of the trusted application, evaluated in `app`: app_id is the token's
    // application, the roles are those in `app`.
    let of_trusted = s.user_tokens(&trusted, "bob", None);
    let got = s.user_info(&[("access_token", &of_trusted.access), ("app_id", &app.id)]);
    let got = got.assert_status(200).json();
    assert_eq!(got["app_id"], trusted.id);
    assert_eq!(normalized(&got["roles"]), normalized(&want["roles"]));
    assert_eq!(
        normalized(&got["organizations"]),
        normalized(&want["organizations"])
    );
    // In its own application bob holds nothing.
    let got = s.user_of(&of_trusted.access).assert_status(200).json();
    assert_eq!(
        (&got["roles"], &got["organizations"]),
        (&json!([]), &json!([]))
    );

    // carol owns Team: she holds the owners' role only, and carol's username is not bob's.
    let t = s.user_tokens(&app, "carol", None);
    let got = s.user_of(&t.access).assert_status(200).json();
    assert_eq!(got["roles"], json!([]));
    assert_eq!(
        got["organizations"],
        json!([{"id": team, "name": "Team", "description": "The team", "website": null,
                "roles": [role(&for_owners, "Owner role")]}])
    );
    assert_eq!(
        (
            &got["username"],
            &got["given_name"],
            &got["family_name"],
            &got["extra"]
        ),
        (
            &json!("Carol Ann Lee"),
            &json!("Carol Ann Lee"),
            &json!("Carol Ann Lee"),
            &Value::Null
        )
    );

    // A consent record restricts what is shared (dave, who never used a token here).
    diesel::insert_into(user_authorized_applications::table)
        .values((
            user_authorized_applications::user_id.eq(&w.dave_id),
            user_authorized_applications::oauth_client_id.eq(&app.id),
            user_authorized_applications::shared_attributes.eq("username"),
            user_authorized_applications::created_at
                .eq(storage::to_db_time(OffsetDateTime::now_utc())),
        ))
        .execute(&mut *db.conn())
        .unwrap();
    let t = s.user_tokens(&app, "dave", None);
    let got = s.user_of(&t.access).assert_status(200).json();
    assert_eq!(
        (&got["username"], &got["email"]),
        (&json!("dave"), &json!(""))
    );
    // Elsewhere the default (username and email) still holds.
    let t = s.user_tokens(&trusted, "dave", None);
    let got = s.user_of(&t.access).assert_status(200).json();
    assert_eq!(
        (&got["username"], &got["email"]),
        (&json!("dave"), &json!("dave@test.com"))
    );
}

#[test]
fn iot_agent_and_application_objects() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let trusted = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    s.trust(&w.alice, &app.id, &trusted.id);
    let (iot, password) = s.new_iot_agent(&w.alice, &app.id);
    let by_iot = s.password_grant(&app, &iot, &password);
    let cc = s.client_credentials(&app, None);
    let decide = [("action", "GET"), ("resource", "/r")];
    let ask = |token: &str, extra: &[(&str, &str)]| {
        let mut query = vec![("access_token", token)];
        query.extend_from_slice(extra);
        s.user_info(&query).assert_status(200).json()
    };

    let mut want = json!({"displayName": "", "roles": [], "app_id": app.id, "trusted_apps": [],
                          "id": iot, "app_azf_domain": ""});
    assert_eq!(ask(&by_iot.access, &[]), want);
    want["authorization_decision"] = json!("Deny");
    assert_eq!(ask(&by_iot.access, &decide), want);
    want["trusted_apps"] = json!([trusted.id]);
    let mut with_app = decide.to_vec();
    with_app.push(("app_id", &app.id));
    assert_eq!(ask(&by_iot.access, &with_app), want);

    assert_eq!(ask(&cc.access, &[]), json!({"app_id": app.id}));
    assert_eq!(
        ask(&cc.access, &[("app_id", &app.id)]),
        json!({"app_id": app.id})
    );
    assert_eq!(
        ask(&cc.access, &decide),
        json!({"app_id": app.id, "authorization_decision": "Deny"})
    );
}

#[test]
fn the_advanced_level_refuses_decisions_only() {
    let options = Options::default().env("TESSERA_PDP_LEVEL", "advanced");
    let (s, _db) = Server::start_with(options);
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let t = s.user_tokens(&app, "bob", None);

    s.user_info(&[
        ("access_token", &t.access),
        ("action", "GET"),
        ("resource", "/r"),
    ])
    .assert_bare(501, ADVANCED);
    s.user_info(&[("access_token", &t.access), ("authzforce", "true")])
        .assert_bare(501, ADVANCED);
    let info = s.user_of(&t.access).assert_status(200).json();
    assert_eq!(info["id"], w.bob_id);
    assert_eq!(info["authorization_decision"], "");
    let info = s
        .user_info(&[("access_token", &t.access), ("action", "GET")])
        .assert_status(200)
        .json();
    assert_eq!(info["authorization_decision"], "");
}
