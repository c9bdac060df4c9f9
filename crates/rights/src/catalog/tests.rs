use std::collections::BTreeMap;

use super::*;

fn catalog() -> Catalog {
    Catalog::shipped().unwrap()
}

fn map(entries: Vec<(&str, Given)>) -> Given {
    Given::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn texts(items: &[&str]) -> Given {
    Given::List(items.iter().map(|t| Given::Text((*t).to_owned())).collect())
}

#[test]
fn the_shipped_catalog_has_the_eight_contexts_in_order_with_their_capabilities() {
    let c = catalog();
    let names: Vec<&str> = c.contexts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "system",
            "objecttype-without-pool",
            "tag",
            "pool",
            "collection",
            "object",
            "user",
            "group"
        ]
    );
    let with_presets: Vec<&str> = c
        .contexts
        .iter()
        .filter(|c| c.has_presets())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(with_presets, ["collection", "object"]);
    assert!(c.contexts.iter().all(|c| c.capabilities.len() <= 1));
}

#[test]
fn the_catalog_serializes_back_to_the_shipped_document() {
    let c = catalog();
    let again: serde_json::Value = serde_json::to_value(&c).unwrap();
    let shipped: serde_json::Value = serde_json::from_str(SHIPPED).unwrap();
    assert_eq!(again, shipped);
}

#[test]
fn system_rights_are_listed_as_specified() {
    let c = catalog();
    let system = c.context("system").unwrap();
    let names: Vec<&str> = system
        .rights
        .iter()
        .map(|e| match e {
            Entry::Right(r) => r.name.as_str(),
            Entry::Choice(c) => c.name.as_str(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "system.root",
            "system.rightsmanagement",
            "system.rightpresetmanager",
            "system.search",
            "system.user",
            "system.group"
        ]
    );
    let user = system.right("system.user").unwrap();
    assert_eq!(user.group, "user");
    let params: Vec<&str> = user.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        params,
        [
            "create",
            "create_system_rights",
            "edit_system_rights",
            "hide_frontend_app"
        ]
    );
    assert!(user
        .parameters
        .iter()
        .all(|p| p.kind == ParameterType::Boolean && !p.required));
    // The alias finds the canonical right and is never listed.
    assert_eq!(
        system.right(PRESET_MANAGER_ALIAS).unwrap().name,
        PRESET_MANAGER
    );
    assert!(!SHIPPED.contains(PRESET_MANAGER_ALIAS));
}

#[test]
fn rights_inside_choices_are_rights_and_the_choice_is_not() {
    let c = catalog();
    let object = c.context("object").unwrap();
    assert!(object.right("read").unwrap().has_grantable);
    assert!(object.right("access").is_none());
    let user = c.context("user").unwrap();
    assert!(!user.right("delete").unwrap().has_grantable);
    let pool = c.context("pool").unwrap();
    assert_eq!(
        pool.right("write").unwrap().parameters[0].kind,
        ParameterType::ObjecttypeSelect
    );
    assert!(pool.right("bag_read").is_some());
}

#[test]
fn a_valid_preset_specification_passes_and_keeps_its_values() {
    let c = catalog();
    let spec = map(vec![
        ("read", map(vec![("_grantable", Given::Bool(true))])),
        ("write", map(vec![])),
        (
            "asset_download",
            map(vec![("versions", texts(&["preview", "original"]))]),
        ),
    ]);
    let valid = c.context("collection").unwrap().validate(&spec).unwrap();
    assert_eq!(valid.0.len(), 3);
    assert_eq!(
        valid.0["asset_download"],
        map(vec![("versions", texts(&["preview", "original"]))])
    );
}

#[test]
fn each_rule_of_the_validation_refuses() {
    let c = catalog();
    let collection = c.context("collection").unwrap();
    let refuse = |spec: Given| collection.validate(&spec).unwrap_err();
    assert!(matches!(
        refuse(texts(&["read"])),
        SpecError::NotAnObject(_)
    ));
    assert!(matches!(
        refuse(map(vec![("read", Given::Bool(true))])),
        SpecError::NotAnObject(_)
    ));
    assert!(matches!(
        refuse(map(vec![("access", map(vec![]))])),
        SpecError::UnknownRight { .. }
    ));
    assert!(matches!(
        refuse(map(vec![("system.root", map(vec![]))])),
        SpecError::UnknownRight { .. }
    ));
    assert!(matches!(
        refuse(map(vec![(
            "read",
            map(vec![("colour", Given::Bool(true))])
        )])),
        SpecError::UnknownParameter { .. }
    ));
    assert!(matches!(
        refuse(map(vec![(
            "bag_read",
            map(vec![("_grantable", Given::Bool(true))])
        )])),
        SpecError::NotGrantable(_)
    ));
    assert!(matches!(
        refuse(map(vec![(
            "read",
            map(vec![("_grantable", Given::Integer(1))])
        )])),
        SpecError::BadParameter { .. }
    ));
    assert!(matches!(
        refuse(map(vec![("asset_download", map(vec![]))])),
        SpecError::MissingParameter { .. }
    ));
    assert!(matches!(
        refuse(map(vec![(
            "asset_download",
            map(vec![("versions", texts(&["thumbnail"]))])
        )])),
        SpecError::BadParameter { .. }
    ));
    assert!(matches!(
        refuse(map(vec![(
            "link",
            map(vec![(
                "pool_ids",
                Given::List(vec![Given::Text("1".into())])
            )])
        )])),
        SpecError::BadParameter { .. }
    ));
}

#[test]
fn mask_select_takes_objecttype_ids_to_mask_ids_or_standard() {
    let c = catalog();
    let otwp = c.context("objecttype-without-pool").unwrap();
    let ok = map(vec![(
        "mask",
        map(vec![(
            "mask_ids",
            map(vec![
                ("3", Given::List(vec![Given::Integer(1), Given::Integer(2)])),
                ("4", Given::Text("standard".into())),
            ]),
        )]),
    )]);
    assert!(otwp.validate(&ok).is_ok());
    let bad = map(vec![(
        "mask",
        map(vec![(
            "mask_ids",
            map(vec![("three", Given::List(vec![]))]),
        )]),
    )]);
    assert!(matches!(
        otwp.validate(&bad).unwrap_err(),
        SpecError::BadParameter { .. }
    ));
}

#[test]
fn system_specifications_store_the_alias_under_the_canonical_name() {
    let c = catalog();
    let system = c.context("system").unwrap();
    let spec = map(vec![(PRESET_MANAGER_ALIAS, map(vec![]))]);
    let valid = system.validate(&spec).unwrap();
    assert_eq!(valid.0.keys().collect::<Vec<_>>(), [PRESET_MANAGER]);
    assert_eq!(canonical(PRESET_MANAGER_ALIAS), PRESET_MANAGER);
    assert_eq!(canonical(ROOT), ROOT);
}
