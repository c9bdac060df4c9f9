//! `tessera rights grant|revoke|list` (easydb-rights.md §10.4): the command-line edge of
//! `rights::holders`' operator calls. Pending migrations first; `Err` is the one-line
//! reason `main` prints (exit 1).

use std::collections::BTreeMap;

use rights::catalog::{Catalog, Given};
use rights::holders::{self, Holder, Kind, OperatorChange};

use crate::settings::{RightsCommand, RightsHolder, Settings};

pub fn run(settings: &Settings, command: &RightsCommand) -> Result<(), String> {
    let url = settings.database_url()?;
    storage::migrate(&url).map_err(|e| e.to_string())?;
    let mut conn = url.connect().map_err(|e| e.to_string())?;
    let catalog =
        Catalog::shipped().map_err(|_| "the shipped rights catalog does not read".to_owned())?;
    let kind = |holder: &RightsHolder| {
        if holder.group {
            Kind::Group
        } else {
            Kind::User
        }
    };
    let (holder, change) = match command {
        RightsCommand::List { holder } => {
            let found = holders::find_named(&mut conn, kind(holder), &holder.who)
                .map_err(|e| e.to_string())?;
            println!("{}", rights_json(&found));
            return Ok(());
        }
        RightsCommand::Grant {
            holder,
            right,
            params,
        } => {
            let parameters: BTreeMap<String, Given> = params
                .iter()
                .map(|(name, value)| (name.clone(), parameter(value)))
                .collect();
            (
                holder,
                OperatorChange::Grant {
                    right: right.clone(),
                    parameters: Given::Map(parameters),
                },
            )
        }
        RightsCommand::Revoke { holder, right } => (
            holder,
            OperatorChange::Revoke {
                right: right.clone(),
            },
        ),
    };
    let changed = holders::operator_change(&mut conn, kind(holder), &holder.who, &change, &catalog)
        .map_err(|e| e.to_string())?;
    let (verb, right) = match &change {
        OperatorChange::Grant { right, .. } => ("granted", right),
        OperatorChange::Revoke { right } => ("revoked", right),
    };
    eprintln!(
        "tessera: {verb} {} {} {:?}; its system rights are now at _version {}",
        rights::catalog::canonical(right),
        if verb == "granted" { "to" } else { "from" },
        holder.who,
        changed.version
    );
    Ok(())
}

/// A parameter value: JSON when it parses, a string otherwise.
fn parameter(value: &str) -> Given {
    serde_json::from_str(value).unwrap_or_else(|_| Given::Text(value.to_owned()))
}

fn rights_json(holder: &Holder) -> String {
    serde_json::to_string(&holder.rights.0).unwrap_or_else(|_| "{}".to_owned())
}
