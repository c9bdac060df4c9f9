use std::collections::BTreeMap;

use storage::{DatabaseUrl, Pool};
use time::OffsetDateTime;

use super::*;
use crate::catalog::Catalog;

fn store() -> Pool {
    let url = DatabaseUrl::parse("sqlite::memory:").unwrap();
    storage::open_pool(&url, 1).unwrap()
}

fn rights(names: &[&str]) -> Given {
    Given::Map(
        names
            .iter()
            .map(|n| ((*n).to_owned(), Given::Map(BTreeMap::new())))
            .collect(),
    )
}

fn new(position: Option<i64>, names: &[&str]) -> PresetWrite {
    PresetWrite {
        id: None,
        version: 1,
        position,
        displayname: [("en-US".to_owned(), "Read only".to_owned())].into(),
        description: Localised::new(),
        rights: rights(names),
        tagfilter: None,
    }
}

fn change(id: i64, version: i64, position: Option<i64>, names: &[&str]) -> PresetWrite {
    PresetWrite {
        id: Some(id),
        version,
        ..new(position, names)
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[test]
fn only_collection_and_object_have_presets() {
    let catalog = Catalog::shipped().unwrap();
    assert!(preset_context(&catalog, "object").is_ok());
    assert!(preset_context(&catalog, "collection").is_ok());
    assert!(matches!(
        preset_context(&catalog, "system"),
        Err(PresetError::NoPresets(_))
    ));
    assert!(matches!(
        preset_context(&catalog, "nope"),
        Err(PresetError::UnknownContext(_))
    ));
}

#[test]
fn inserts_get_ids_version_one_and_positions_after_the_rest() {
    let catalog = Catalog::shipped().unwrap();
    let object = preset_context(&catalog, "object").unwrap();
    let pool = store();
    let mut conn = pool.get().unwrap();
    let saved = save(
        &mut conn,
        &root(),
        object,
        vec![
            new(None, &["read"]),
            new(Some(5), &["write"]),
            new(None, &[]),
        ],
        now(),
    )
    .unwrap();
    let positions: Vec<i64> = saved.iter().map(|p| p.position).collect();
    assert_eq!(positions, [6, 5, 7]);
    assert!(saved.iter().all(|p| p.version == 1 && p.id > 0));
    assert_eq!(list(&mut conn, object).unwrap().len(), 3);
    // The other context has its own positions and none of these presets.
    let collection = preset_context(&catalog, "collection").unwrap();
    assert!(list(&mut conn, collection).unwrap().is_empty());
    let other = save(
        &mut conn,
        &root(),
        collection,
        vec![new(None, &["read"])],
        now(),
    )
    .unwrap();
    assert_eq!(other[0].position, 0);
    assert!(other[0].id > saved[2].id);
}

#[test]
fn updates_need_the_next_version_and_may_swap_positions() {
    let catalog = Catalog::shipped().unwrap();
    let object = preset_context(&catalog, "object").unwrap();
    let pool = store();
    let mut conn = pool.get().unwrap();
    let saved = save(
        &mut conn,
        &root(),
        object,
        vec![new(Some(0), &["read"]), new(Some(1), &["write"])],
        now(),
    )
    .unwrap();
    let (a, b) = (saved[0].id, saved[1].id);
    // A swap in one request.
    let swapped = save(
        &mut conn,
        &root(),
        object,
        vec![
            change(a, 2, Some(1), &["read"]),
            change(b, 2, Some(0), &["write"]),
        ],
        now(),
    )
    .unwrap();
    assert_eq!((swapped[0].position, swapped[1].position), (1, 0));
    assert_eq!(swapped[0].version, 2);
    // The same version again is a mismatch naming what was expected.
    assert!(matches!(
        save(
            &mut conn,
            &root(),
            object,
            vec![change(a, 2, None, &["read"])],
            now()
        ),
        Err(PresetError::VersionMismatch {
            provided: 2,
            expected: 3
        })
    ));
    // Position kept when omitted.
    let kept = save(
        &mut conn,
        &root(),
        object,
        vec![change(a, 3, None, &["delete"])],
        now(),
    )
    .unwrap();
    assert_eq!(kept[0].position, 1);
    assert_eq!(kept[0].rights.0.keys().collect::<Vec<_>>(), ["delete"]);
}

#[test]
fn a_failing_element_stores_nothing_and_the_first_error_wins() {
    let catalog = Catalog::shipped().unwrap();
    let object = preset_context(&catalog, "object").unwrap();
    let pool = store();
    let mut conn = pool.get().unwrap();
    let first = save(
        &mut conn,
        &root(),
        object,
        vec![new(Some(0), &["read"])],
        now(),
    )
    .unwrap();
    let id = first[0].id;
    assert!(matches!(
        save(
            &mut conn,
            &root(),
            object,
            vec![
                new(None, &["write"]),
                change(999, 2, None, &[]),
                new(None, &["system.root"])
            ],
            now()
        ),
        Err(PresetError::NotFound(999))
    ));
    assert!(matches!(
        save(
            &mut conn,
            &root(),
            object,
            vec![new(None, &["access"])],
            now()
        ),
        Err(PresetError::InvalidRights(_))
    ));
    assert!(matches!(
        save(
            &mut conn,
            &root(),
            object,
            vec![PresetWrite {
                version: 2,
                ..new(None, &[])
            }],
            now()
        ),
        Err(PresetError::VersionMismatch {
            provided: 2,
            expected: 1
        })
    ));
    assert!(matches!(
        save(&mut conn, &root(), object, vec![change(id, 2, None, &[]), change(id, 2, None, &[])], now()),
        Err(PresetError::DuplicateId(i)) if i == id
    ));
    assert!(matches!(
        save(
            &mut conn,
            &root(),
            object,
            vec![new(Some(0), &["write"])],
            now()
        ),
        Err(PresetError::PositionClash(0))
    ));
    assert!(matches!(
        save(
            &mut conn,
            &root(),
            object,
            vec![PresetWrite {
                tagfilter: Some(TagFilter::default()),
                ..new(None, &[])
            }],
            now()
        ),
        Err(PresetError::EmptyTagFilter)
    ));
    // Nothing of the failed requests is stored.
    let stored = list(&mut conn, object).unwrap();
    assert_eq!(stored, first);
}

#[test]
fn presets_read_back_whole_and_delete_once() {
    let catalog = Catalog::shipped().unwrap();
    let object = preset_context(&catalog, "object").unwrap();
    let collection = preset_context(&catalog, "collection").unwrap();
    let pool = store();
    let mut conn = pool.get().unwrap();
    let versions = Given::List(vec![Given::Text("preview".into())]);
    let spec = Given::Map(
        [(
            "asset_download".to_owned(),
            Given::Map([("versions".to_owned(), versions)].into()),
        )]
        .into(),
    );
    let write = PresetWrite {
        rights: spec,
        tagfilter: Some(TagFilter {
            any: Some(vec![3, 4]),
            ..TagFilter::default()
        }),
        ..new(None, &[])
    };
    let saved = save(&mut conn, &root(), object, vec![write], now()).unwrap();
    assert_eq!(list(&mut conn, object).unwrap(), saved);
    assert_eq!(saved[0].tagfilter.as_ref().unwrap().any, Some(vec![3, 4]));
    let id = saved[0].id;
    assert!(matches!(
        delete(&mut conn, &root(), collection, id),
        Err(PresetError::NotFound(_))
    ));
    delete(&mut conn, &root(), object, id).unwrap();
    assert!(matches!(
        delete(&mut conn, &root(), object, id),
        Err(PresetError::NotFound(_))
    ));
}

/// A caller holding root: these tests are about presets, not about who may change them.
fn root() -> crate::system::Principal {
    crate::system::Principal {
        user_id: "admin".to_owned(),
        effective: crate::catalog::RightsSpec(
            [(
                crate::catalog::ROOT.to_owned(),
                Given::Map(Default::default()),
            )]
            .into(),
        ),
    }
}

#[test]
fn only_preset_managers_and_root_may_change_presets() {
    let holder = |name: &str| crate::system::Principal {
        user_id: "someone".to_owned(),
        effective: crate::catalog::RightsSpec(
            [(name.to_owned(), Given::Map(Default::default()))].into(),
        ),
    };
    assert!(authorize(&holder(crate::catalog::PRESET_MANAGER)).is_ok());
    assert!(authorize(&holder(crate::catalog::PRESET_MANAGER_ALIAS)).is_ok());
    assert!(authorize(&holder(crate::catalog::ROOT)).is_ok());
    assert!(matches!(
        authorize(&holder("system.search")),
        Err(PresetError::NoSystemRight)
    ));
}
