//! The easydb rights domain on the real backend of the run (SQLite file or PostgreSQL),
//! before its HTTP family exists: what only a real second connection can show.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use rights::catalog::{Catalog, Given};
use rights::presets::{self, PresetError, PresetWrite};
use tessera_tests::TestDb;
use time::OffsetDateTime;

fn write(id: Option<i64>, version: i64, position: Option<i64>, right: &str) -> PresetWrite {
    PresetWrite {
        id,
        version,
        position,
        displayname: BTreeMap::new(),
        description: BTreeMap::new(),
        rights: Given::Map([(right.to_owned(), Given::Map(BTreeMap::new()))].into()),
        tagfilter: None,
    }
}

#[test]
fn two_updates_of_one_preset_with_the_same_version_do_not_both_win() {
    let db = TestDb::new();
    let catalog = Catalog::shipped().unwrap();
    let object = presets::preset_context(&catalog, "object").unwrap();
    let id = presets::save(
        &mut db.conn(),
        &root(),
        object,
        vec![write(None, 1, Some(0), "read")],
        OffsetDateTime::now_utc(),
    )
    .unwrap()[0]
        .id;
    for round in 0..5 {
        let version = round + 2;
        let barrier = Arc::new(Barrier::new(2));
        let outcomes: Vec<_> = ["write", "delete"]
            .into_iter()
            .map(|right| {
                let barrier = barrier.clone();
                // Each racer has its own connection, opened before the race.
                let mut conn = db.conn();
                std::thread::spawn(move || {
                    let catalog = Catalog::shipped().unwrap();
                    let object = presets::preset_context(&catalog, "object").unwrap();
                    barrier.wait();
                    presets::save(
                        &mut conn,
                        &root(),
                        object,
                        vec![write(Some(id), version, None, right)],
                        OffsetDateTime::now_utc(),
                    )
                    .map(|saved| saved[0].version)
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let won = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes.iter().any(|o| matches!(
                o,
                Err(PresetError::VersionMismatch { provided, expected })
                    if *provided == version && *expected == version + 1
            )),
            "round {round}: {outcomes:?}"
        );
        let stored = presets::list(&mut db.conn(), object).unwrap();
        assert_eq!(stored[0].version, version);
    }
}

#[test]
fn concurrent_inserts_at_one_position_leave_one_preset_there() {
    let db = TestDb::new();
    let barrier = Arc::new(Barrier::new(2));
    let outcomes: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            // Each racer has its own connection, opened before the race.
            let mut conn = db.conn();
            std::thread::spawn(move || {
                let catalog = Catalog::shipped().unwrap();
                let object = presets::preset_context(&catalog, "object").unwrap();
                barrier.wait();
                presets::save(
                    &mut conn,
                    &root(),
                    object,
                    vec![write(None, 1, Some(3), "read")],
                    OffsetDateTime::now_utc(),
                )
                .map(|_| ())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .any(|o| matches!(o, Err(PresetError::PositionClash(3)))));
    let catalog = Catalog::shipped().unwrap();
    let object = presets::preset_context(&catalog, "object").unwrap();
    assert_eq!(presets::list(&mut db.conn(), object).unwrap().len(), 1);
}

/// A caller holding root: the races are about versions and positions, not permissions.
fn root() -> rights::system::Principal {
    rights::system::Principal {
        user_id: "admin".to_owned(),
        effective: rights::catalog::RightsSpec(
            [(
                rights::catalog::ROOT.to_owned(),
                rights::catalog::Given::Map(Default::default()),
            )]
            .into(),
        ),
    }
}
