//! The users most tests start from, created through the API on a fresh server.

use serde_json::{json, Value};

use crate::Server;

/// The world's users: (key, username, KHEOPS first_name, KHEOPS last_name). Each logs in as
/// `<key>@test.com` with the password `<key>-pw`. The names cover the KHEOPS user object's
/// rule (kheops.md 4.2): first_name up to the first space, last_name the rest (or empty).
pub const USERS: [(&str, &str, &str, &str); 4] = [
    ("alice", "Alice Smith", "Alice", "Smith"),
    ("bob", "bob", "bob", ""),
    ("carol", "Carol Ann Lee", "Carol", "Ann Lee"),
    ("dave", "dave", "dave", ""),
];

/// The Tessera admin's token and four ordinary users, with their ids and API tokens
/// (which are also KHEOPS credentials). Nobody holds a role or album yet.
pub struct World {
    pub admin: String,
    pub alice: String,
    pub alice_id: String,
    pub bob: String,
    pub bob_id: String,
    pub carol: String,
    pub carol_id: String,
    pub dave: String,
    pub dave_id: String,
}

impl World {
    pub fn new(server: &Server) -> World {
        let admin = server.admin_token();
        let mut made = USERS.iter().map(|(key, name, _, _)| {
            let email = format!("{key}@test.com");
            let password = format!("{key}-pw");
            let id = server.create_user(&admin, name, &email, &password);
            (server.login(&email, &password), id)
        });
        let mut next = || made.next().expect("four users");
        let ((alice, alice_id), (bob, bob_id)) = (next(), next());
        let ((carol, carol_id), (dave, dave_id)) = (next(), next());
        World {
            admin,
            alice,
            alice_id,
            bob,
            bob_id,
            carol,
            carol_id,
            dave,
            dave_id,
        }
    }

    /// The id of the user `key` ("alice", "bob", "carol", "dave").
    pub fn id(&self, key: &str) -> &str {
        match key {
            "alice" => &self.alice_id,
            "bob" => &self.bob_id,
            "carol" => &self.carol_id,
            "dave" => &self.dave_id,
            _ => panic!("no user {key} in the world"),
        }
    }

    /// The KHEOPS user object of `key` (`created_by`, `revoked_by`, album members).
    pub fn user(&self, key: &str) -> Value {
        let (_, name, first, last) = USERS
            .iter()
            .find(|u| u.0 == key)
            .unwrap_or_else(|| panic!("no user {key} in the world"));
        json!({"email": format!("{key}@test.com"), "sub": self.id(key), "name": name,
               "first_name": first, "last_name": last})
    }

    /// An item of `GET /albums/{album}/users`: the user object and `is_admin`.
    pub fn member(&self, key: &str, admin: bool) -> Value {
        let mut v = self.user(key);
        v["is_admin"] = json!(admin);
        v
    }
}
