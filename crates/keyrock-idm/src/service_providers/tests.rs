use super::*;
use crate::test_support::{app, message, pool, user};

#[test]
fn only_admins_read_the_counts_and_the_internal_application_counts() {
    let pool = pool();
    let admin = user(&pool, "root", true);
    let alice = user(&pool, "alice", false);
    let conn = &mut pool.get().unwrap();
    assert_eq!(
        message(configs(conn, &alice)),
        "User not authorized to perform action"
    );
    let before = configs(conn, &admin).unwrap();
    app(conn, &alice, "a");
    let after = configs(conn, &admin).unwrap();
    assert_eq!(after.total_applications, before.total_applications + 1);
    assert!(before.total_applications >= 1, "idm_admin_app is counted");
    assert_eq!(after.total_users, 2);
}
