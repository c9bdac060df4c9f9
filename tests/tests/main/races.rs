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
use tessera_tests::{count, json, Resp, Server, TestDb};

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

/// The `admin` flags of a user's memberships of an album.
fn album_flags(db: &TestDb, album: &str, user: &str) -> Vec<bool> {
    album_users::table
        .filter(album_users::album_id.eq(album))
        .filter(album_users::user_id.eq(user))
        .select(album_users::admin)
        .load(&mut *db.conn())
        .unwrap()
}

#[test]
fn concurrent_keyrock_upserts_all_answer_201_and_leave_one_row() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    for round in 0..3 {
        let email = format!("u{round}@test.com");
        let user = s.create_user(&admin, &format!("u{round}"), &email, "pw");
        let app = s.new_application(&admin, &format!("app{round}"));
        let org = s.new_organization(&admin, &format!("org{round}"));
        let role = s.new_role(&admin, &app, &format!("role{round}"));
        let race = |path: &str, what: &str| {
            assert_all(
                &together(PARALLEL, |_| s.keyrock("PUT", path, &admin)),
                201,
                what,
            );
        };

        let membership = format!("/v1/organizations/{org}/users/{user}/organization_roles");
        race(&format!("{membership}/member"), "membership PUT");
        let roles: Vec<String> = user_organizations::table
            .filter(user_organizations::organization_id.eq(&org))
            .filter(user_organizations::user_id.eq(&user))
            .select(user_organizations::role)
            .load(&mut *db.conn())
            .unwrap();
        assert_eq!(roles, ["member"]);

        let path = format!(
            "/v1/applications/{app}/organizations/{org}/roles/{role}/organization_roles/member"
        );
        // The deprecated POST twin takes part in the same race.
        let methods = ["POST", "PUT", "PUT"];
        let responses = together(PARALLEL, |i| s.keyrock(methods[i % 3], &path, &admin));
        assert_all(&responses, 201, "organization role assignment");
        let of_app = || role_assignments::table.filter(role_assignments::oauth_client_id.eq(&app));
        assert_eq!(
            count!(
                db,
                of_app().filter(role_assignments::organization_id.eq(&org))
            ),
            1
        );

        race(
            &format!("/v1/applications/{app}/users/{user}/roles/{role}"),
            "user role",
        );
        let of_user = of_app()
            .filter(role_assignments::user_id.eq(&user))
            .filter(role_assignments::role_id.eq(&role));
        assert_eq!(count!(db, of_user), 1);

        let permission = s.new_permission(&admin, &app, &format!("perm{round}"));
        race(
            &format!("/v1/applications/{app}/roles/{role}/permissions/{permission}"),
            "link",
        );
        let link = role_permissions::table
            .filter(role_permissions::role_id.eq(&role))
            .filter(role_permissions::permission_id.eq(&permission));
        assert_eq!(count!(db, link), 1);

        // Changing the role of the membership races too: the last write wins, whole.
        let paths = [
            format!("{membership}/owner"),
            format!("{membership}/member"),
        ];
        let responses = together(PARALLEL, |i| s.keyrock("PUT", &paths[i % 2], &admin));
        assert_all(&responses, 201, "membership role change");
        let rows = user_organizations::table
            .filter(user_organizations::organization_id.eq(&org))
            .filter(user_organizations::user_id.eq(&user));
        assert_eq!(count!(db, rows), 1);
    }
}

#[test]
fn concurrent_album_membership_puts_all_succeed_and_leave_one_row() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    for round in 0..3 {
        let email = format!("m{round}@test.com");
        let member = s.create_user(&admin, &format!("m{round}"), &email, "pw");
        let album = s.new_album(&admin, &format!("album{round}"));
        let responses = together(PARALLEL, |_| s.put_member(&admin, &album, &member));
        assert_all(&responses, 201, "album member PUT");
        assert_eq!(album_flags(&db, &album, &member), [false]);

        // Adding as a member and granting admin at once: the grant is never lost.
        let email = format!("o{round}@test.com");
        let other = s.create_user(&admin, &format!("o{round}"), &email, "pw");
        let responses = together(PARALLEL, |i| {
            if i % 2 == 0 {
                s.put_member(&admin, &album, &other)
            } else {
                s.put_admin(&admin, &album, &other)
            }
        });
        for (i, resp) in responses.iter().enumerate() {
            resp.assert_status(if i % 2 == 0 { 201 } else { 204 });
        }
        assert_eq!(album_flags(&db, &album, &other), [true]);
    }
}

#[test]
fn album_tokens_created_while_their_creator_loses_the_album_do_not_stay_valid() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    let creator_id = s.create_user(&admin, "creator", "creator@test.com", "pw");
    let creator = s.login("creator@test.com", "pw");
    let album = s.new_album(&admin, "race");
    let unrevoked = || {
        let of_creator = capabilities::table
            .filter(capabilities::album_id.eq(&album))
            .filter(capabilities::user_id.eq(&creator_id));
        count!(db, of_creator.filter(capabilities::revoke_time.is_null()))
    };
    let mut created = 0;
    for round in 0..30 {
        s.put_admin(&admin, &album, &creator_id).assert_no_content();
        let responses = together(8, |i| match (i, round % 2) {
            // Even rounds demote the creator, odd rounds remove them from the album.
            (0, 0) => s.del_admin(&admin, &album, &creator_id),
            (0, _) => s.del_member(&admin, &album, &creator_id),
            _ => s.create_cap(
                &creator,
                &[
                    ("title", "raced"),
                    ("scope_type", "album"),
                    ("album", album.as_str()),
                    ("read_permission", "true"),
                ],
            ),
        });
        responses[0].assert_status(204);
        for resp in &responses[1..] {
            match resp.status {
                201 => created += 1,
                // Not admin any more (demoted), or not a member (removed).
                401 | 404 => {}
                other => panic!("token create answered {other}: {}", resp.body),
            }
        }
        assert_eq!(
            unrevoked(),
            0,
            "round {round}: a token outlived its creator's admin role"
        );
        let listed = s.list_caps(&admin, &format!("?album={album}&valid=true"));
        assert_eq!(listed.assert_status(200).json(), json!([]), "round {round}");
    }
    // Both orders happened: some tokens were created (and then revoked).
    assert!(created > 0, "no token was ever created");
}

/// One authorization code redeemed by many clients at once (keyrock.md 5.4, single use):
/// exactly one gets tokens, every other gets "authorization code is invalid", and those
/// replays revoke what the winner got.
#[test]
fn a_code_redeemed_concurrently_is_spent_once_and_its_replays_revoke_the_winner() {
    use tessera_tests::oauth::*;
    let (s, db) = Server::start();
    let w = tessera_tests::World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let code = db.issue_code(&new_code(&app.id, &w.bob_id));
    let responses = together(PARALLEL, |_| {
        s.redeem(&app, &code, &[("redirect_uri", REDIRECT)])
    });
    let winners: Vec<&Resp> = responses.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        responses.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for resp in responses.iter().filter(|r| r.status != 200) {
        resp.assert_oauth_error(400, "invalid_grant", BAD_CODE);
    }
    let won = winners[0].tokens();
    s.assert_token_refused(&won.access, TOKEN_REVOKED);
    s.refresh(&app, won.refresh(), None)
        .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
}

/// One refresh token presented by many clients at once (rotation, keyrock.md 5.4): exactly
/// one gets a new pair, the others hear "no longer valid", and the new pair works.
#[test]
fn a_refresh_token_used_concurrently_rotates_once() {
    use tessera_tests::oauth::*;
    let (s, _db) = Server::start();
    let w = tessera_tests::World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let first = s.user_tokens(&app, "bob", None);
    let responses = together(PARALLEL, |_| s.refresh(&app, first.refresh(), None));
    let winners: Vec<&Resp> = responses.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        responses.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for resp in responses.iter().filter(|r| r.status != 200) {
        resp.assert_oauth_error(400, "invalid_grant", USED_REFRESH);
    }
    let next = winners[0].tokens();
    s.assert_token_valid(&next.access);
    s.refresh(&app, next.refresh(), None).tokens();
}
