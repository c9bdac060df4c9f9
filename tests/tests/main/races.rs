//! Concurrent requests, fired together from many threads against one server: idempotent
//! PUTs must all succeed and leave one row, and an album token created while its creator
//! is being demoted or removed must not stay valid. On PostgreSQL (CI's second run) these
//! run as truly concurrent transactions; on SQLite writers are serialized and the tests
//! check the same outcomes.

use std::sync::Barrier;

use storage::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{
    album_users, capabilities, role_assignments, role_permissions, user_organizations,
};
use tessera_tests::{Resp, Server, TestDb};

const PARALLEL: usize = 24;

/// Runs `request` from `n` threads released at the same moment; returns every response.
fn together<F>(n: usize, request: F) -> Vec<Resp>
where
    F: Fn(usize) -> Resp + Sync,
{
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, request) = (&barrier, &request);
                s.spawn(move || {
                    barrier.wait();
                    request(i)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread"))
            .collect()
    })
}

#[track_caller]
fn assert_all(responses: &[Resp], status: u16, what: &str) {
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    let bodies: Vec<&str> = responses
        .iter()
        .filter(|r| r.status != status)
        .map(|r| r.body.as_str())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == status),
        "{what}: {statuses:?} {bodies:?}"
    );
}

/// A bodiless Keyrock PUT, as Keyrock clients send it.
fn keyrock_put(server: &Server, token: &str, path: &str) -> Resp {
    server
        .request("PUT", path)
        .token(token)
        .header("Content-Type", "application/json")
        .send()
}

struct World {
    admin: String,
    user: String,
    app: String,
    org: String,
    role: String,
}

fn world(server: &Server, round: usize) -> World {
    let admin = server.admin_token();
    let user = server.create_user(
        &admin,
        &format!("u{round}"),
        &format!("u{round}@test.com"),
        "pw",
    );
    let app = server.new_application(&admin, &format!("app{round}"));
    let org = server.new_organization(&admin, &format!("org{round}"));
    let role = server.new_role(&admin, &app, &format!("role{round}"));
    World {
        admin,
        user,
        app,
        org,
        role,
    }
}

#[test]
fn concurrent_keyrock_upserts_all_answer_201_and_leave_one_row() {
    let (server, db) = Server::start();
    for round in 0..3 {
        let w = world(&server, round);

        let path = format!(
            "/v1/organizations/{}/users/{}/organization_roles/member",
            w.org, w.user
        );
        assert_all(
            &together(PARALLEL, |_| keyrock_put(&server, &w.admin, &path)),
            201,
            "membership PUT",
        );
        let roles: Vec<String> = user_organizations::table
            .filter(user_organizations::organization_id.eq(&w.org))
            .filter(user_organizations::user_id.eq(&w.user))
            .select(user_organizations::role)
            .load(&mut *db.conn())
            .unwrap();
        assert_eq!(roles, vec!["member".to_owned()]);

        let path = format!(
            "/v1/applications/{}/organizations/{}/roles/{}/organization_roles/member",
            w.app, w.org, w.role
        );
        assert_all(
            &together(PARALLEL, |i| {
                // The deprecated POST twin takes part in the same race.
                let method = if i % 3 == 0 { "POST" } else { "PUT" };
                server
                    .request(method, &path)
                    .token(&w.admin)
                    .header("Content-Type", "application/json")
                    .send()
            }),
            201,
            "organization role assignment",
        );
        let rows = role_assignments::table
            .filter(role_assignments::oauth_client_id.eq(&w.app))
            .filter(role_assignments::organization_id.eq(&w.org))
            .count()
            .get_result::<i64>(&mut *db.conn())
            .unwrap();
        assert_eq!(rows, 1);

        let path = format!(
            "/v1/applications/{}/users/{}/roles/{}",
            w.app, w.user, w.role
        );
        assert_all(
            &together(PARALLEL, |_| keyrock_put(&server, &w.admin, &path)),
            201,
            "user role assignment",
        );
        let rows = role_assignments::table
            .filter(role_assignments::oauth_client_id.eq(&w.app))
            .filter(role_assignments::user_id.eq(&w.user))
            .filter(role_assignments::role_id.eq(&w.role))
            .count()
            .get_result::<i64>(&mut *db.conn())
            .unwrap();
        assert_eq!(rows, 1);

        let permission = server.new_permission(&w.admin, &w.app, &format!("perm{round}"));
        let path = format!(
            "/v1/applications/{}/roles/{}/permissions/{permission}",
            w.app, w.role
        );
        assert_all(
            &together(PARALLEL, |_| keyrock_put(&server, &w.admin, &path)),
            201,
            "role-permission link",
        );
        let rows = role_permissions::table
            .filter(role_permissions::role_id.eq(&w.role))
            .filter(role_permissions::permission_id.eq(&permission))
            .count()
            .get_result::<i64>(&mut *db.conn())
            .unwrap();
        assert_eq!(rows, 1);

        // Changing the role of the membership races too: the last write wins, whole.
        let paths: Vec<String> = ["owner", "member"]
            .iter()
            .map(|role| {
                format!(
                    "/v1/organizations/{}/users/{}/organization_roles/{role}",
                    w.org, w.user
                )
            })
            .collect();
        assert_all(
            &together(PARALLEL, |i| keyrock_put(&server, &w.admin, &paths[i % 2])),
            201,
            "membership role change",
        );
        let rows = user_organizations::table
            .filter(user_organizations::organization_id.eq(&w.org))
            .filter(user_organizations::user_id.eq(&w.user))
            .count()
            .get_result::<i64>(&mut *db.conn())
            .unwrap();
        assert_eq!(rows, 1);
    }
}

#[test]
fn concurrent_album_membership_puts_all_succeed_and_leave_one_row() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    for round in 0..3 {
        let member = server.create_user(
            &admin,
            &format!("m{round}"),
            &format!("m{round}@test.com"),
            "pw",
        );
        let album = server.new_album(&admin, &format!("album{round}"));
        let member_path = format!("/albums/{album}/users/{member}");
        assert_all(
            &together(PARALLEL, |_| {
                server.request("PUT", &member_path).bearer(&admin).send()
            }),
            201,
            "album member PUT",
        );
        let flags: Vec<bool> = album_users::table
            .filter(album_users::album_id.eq(&album))
            .filter(album_users::user_id.eq(&member))
            .select(album_users::admin)
            .load(&mut *db.conn())
            .unwrap();
        assert_eq!(flags, vec![false]);

        // Adding as a member and granting admin at once: the grant is never lost.
        let other = server.create_user(
            &admin,
            &format!("o{round}"),
            &format!("o{round}@test.com"),
            "pw",
        );
        let responses = together(PARALLEL, |i| {
            let path = if i % 2 == 0 {
                format!("/albums/{album}/users/{other}")
            } else {
                format!("/albums/{album}/users/{other}/admin")
            };
            server.request("PUT", &path).bearer(&admin).send()
        });
        for (i, resp) in responses.iter().enumerate() {
            let expected = if i % 2 == 0 { 201 } else { 204 };
            assert_eq!(resp.status, expected, "{}", resp.body);
        }
        let flags: Vec<bool> = album_users::table
            .filter(album_users::album_id.eq(&album))
            .filter(album_users::user_id.eq(&other))
            .select(album_users::admin)
            .load(&mut *db.conn())
            .unwrap();
        assert_eq!(flags, vec![true]);
    }
}

/// Album tokens of `creator` on `album` that are not revoked.
fn unrevoked_tokens(db: &TestDb, album: &str, creator: &str) -> i64 {
    capabilities::table
        .filter(capabilities::album_id.eq(album))
        .filter(capabilities::user_id.eq(creator))
        .filter(capabilities::revoke_time.is_null())
        .count()
        .get_result::<i64>(&mut *db.conn())
        .unwrap()
}

#[test]
fn album_tokens_created_while_their_creator_loses_the_album_do_not_stay_valid() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let creator_id = server.create_user(&admin, "creator", "creator@test.com", "pw");
    let creator = server.login("creator@test.com", "pw");
    let album = server.new_album(&admin, "race");
    let mut created = 0;
    for round in 0..30 {
        let grant = server
            .request("PUT", &format!("/albums/{album}/users/{creator_id}/admin"))
            .bearer(&admin)
            .send();
        assert_eq!(grant.status, 204, "{}", grant.body);
        // Even rounds demote the creator, odd rounds remove them from the album.
        let loss = if round % 2 == 0 {
            format!("/albums/{album}/users/{creator_id}/admin")
        } else {
            format!("/albums/{album}/users/{creator_id}")
        };
        let responses = together(8, |i| {
            if i == 0 {
                server.request("DELETE", &loss).bearer(&admin).send()
            } else {
                server
                    .request("POST", "/capabilities")
                    .bearer(&creator)
                    .form(&[
                        ("title", "raced"),
                        ("scope_type", "album"),
                        ("album", album.as_str()),
                        ("read_permission", "true"),
                    ])
                    .send()
            }
        });
        assert_eq!(responses[0].status, 204, "{}", responses[0].body);
        for resp in &responses[1..] {
            match resp.status {
                201 => created += 1,
                // Not admin any more (demoted), or not a member (removed).
                401 | 404 => {}
                other => panic!("token create answered {other}: {}", resp.body),
            }
        }
        assert_eq!(
            unrevoked_tokens(&db, &album, &creator_id),
            0,
            "round {round}: a token outlived its creator's admin role"
        );
        let listed = server
            .request("GET", &format!("/capabilities?album={album}&valid=true"))
            .bearer(&admin)
            .send();
        assert_eq!(listed.status, 200, "{}", listed.body);
        assert_eq!(listed.json(), serde_json::json!([]), "round {round}");
    }
    // Both orders happened: some tokens were created (and then revoked).
    assert!(created > 0, "no token was ever created");
}
