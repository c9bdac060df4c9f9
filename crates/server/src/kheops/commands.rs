//! KHEOPS form and query parameters decoded into the domain's typed commands (kheops.md
//! 1.2): booleans are `true`/`false` in any case, integers are non-negative base 10. A
//! misspelled value becomes a refusal inside the command, raised by the domain in KHEOPS's
//! order; every rule about values is the domain's.

use capabilities::albums::{AlbumForm, AlbumQuery, FLAG_PARAMS};
use capabilities::params::{PageParams, Param};
use capabilities::tokens::{CapabilityQuery, CreateCapability};
use capabilities::KheopsError;

use crate::http::params::Params;

/// Where the parameters came from: a refusal names the one KHEOPS names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Form,
    Query,
}

/// Parameters with their source.
pub struct KheopsParams {
    pub params: Params,
    pub source: Source,
}

impl KheopsParams {
    fn refuse(&self, detail: String) -> KheopsError {
        match self.source {
            Source::Form => KheopsError::BadForm(detail),
            Source::Query => KheopsError::BadQuery(detail),
        }
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.params.text(name)
    }

    pub fn bool(&self, name: &str) -> Param<bool> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(self.refuse(format!("Param '{name}' must be 'true' or 'false'"))),
        }
    }

    pub fn non_negative(&self, name: &str) -> Param<u64> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v) if v.bytes().all(|b| b.is_ascii_digit()) => {
                // Beyond u64 is still "a very large number": saturate rather than refuse.
                Ok(Some(v.parse::<u64>().unwrap_or(u64::MAX)))
            }
            Some(_) => Err(self.refuse(format!("Param '{name}' must be a non-negative integer"))),
        }
    }

    pub fn page(&self) -> PageParams {
        PageParams {
            limit: self.non_negative("limit"),
            offset: self.non_negative("offset"),
        }
    }

    pub fn create_capability(&self) -> CreateCapability {
        CreateCapability {
            title: self.text("title"),
            scope_type: self.text("scope_type"),
            album: self.text("album"),
            read_permission: self.bool("read_permission"),
            appropriate_permission: self.bool("appropriate_permission"),
            download_permission: self.bool("download_permission"),
            write_permission: self.bool("write_permission"),
            not_before_time: self.text("not_before_time"),
            expiration_time: self.text("expiration_time"),
        }
    }

    pub fn capability_query(&self) -> CapabilityQuery {
        CapabilityQuery {
            valid: self.bool("valid"),
            page: self.page(),
            album: self.text("album"),
            user: self.text("user"),
        }
    }

    pub fn album_form(&self) -> AlbumForm {
        AlbumForm {
            name: self.text("name"),
            description: self.text("description"),
            flags: FLAG_PARAMS.map(|name| self.bool(name)),
        }
    }

    pub fn album_query(&self) -> AlbumQuery {
        AlbumQuery {
            page: self.page(),
            can_create_capability_token: self.bool("canCreateCapabilityToken"),
            sort: self.text("sort"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)], source: Source) -> KheopsParams {
        let pairs = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        KheopsParams {
            params: Params::new(pairs),
            source,
        }
    }

    #[test]
    fn booleans_and_integers_by_spelling_with_the_source_in_the_refusal() {
        let p = params(
            &[
                ("a", "TRUE"),
                ("a", "false"),
                ("b", ""),
                ("c", "yes"),
                ("n", "-1"),
            ],
            Source::Form,
        );
        assert_eq!(p.bool("a").unwrap(), Some(true));
        assert_eq!(p.bool("b").unwrap(), None);
        assert!(
            matches!(p.bool("c"), Err(KheopsError::BadForm(m)) if m == "Param 'c' must be 'true' or 'false'")
        );
        let q = params(
            &[("limit", "x"), ("offset", "99999999999999999999999")],
            Source::Query,
        );
        assert!(
            matches!(q.non_negative("limit"), Err(KheopsError::BadQuery(m)) if m == "Param 'limit' must be a non-negative integer")
        );
        assert_eq!(q.non_negative("offset").unwrap(), Some(u64::MAX));
        assert!(matches!(p.non_negative("n"), Err(KheopsError::BadForm(_))));
    }
}
