//! KHEOPS form and query parameters decoded into the domain's typed commands (kheops.md
//! 1.2): booleans are `true`/`false` in any case, integers are non-negative base 10. A
//! misspelled value becomes a refusal inside the command, raised by the domain in KHEOPS's
//! order; every rule about values is the domain's.

use capabilities::albums::{AlbumForm, AlbumQuery, FLAG_PARAMS};
use capabilities::params::{PageParams, Param};
use capabilities::tokens::{CapabilityQuery, CreateCapability};
use capabilities::KheopsError;
use utoipa::ToSchema;

use crate::http::params::Params;

// The forms as `/openapi.json` describes them. They are schemas only: the form is read
// by `KheopsParams` below (first occurrence wins, an empty value is absent, booleans in
// any case), and the tests check that every documented field is one that is read.

/// The form of `POST /albums` and `PATCH /albums/{album_id}`: `name` is required on
/// create; on update absent fields are unchanged.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct KheopsAlbumForm {
    /// 1 to 255 characters after trimming.
    #[schema(nullable = false)]
    name: Option<String>,
    /// Up to 2048 characters.
    #[schema(nullable = false)]
    description: Option<String>,
    #[schema(nullable = false)]
    add_user: Option<bool>,
    #[schema(nullable = false)]
    download_series: Option<bool>,
    #[schema(nullable = false)]
    send_series: Option<bool>,
    #[schema(nullable = false)]
    delete_series: Option<bool>,
    #[schema(nullable = false)]
    add_series: Option<bool>,
    #[schema(nullable = false)]
    write_comments: Option<bool>,
}

/// The form of `POST /capabilities` (kheops.md 5.4).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct KheopsCapabilityForm {
    /// Required, up to 255 characters.
    #[schema(nullable = false)]
    title: Option<String>,
    /// Required: `user` or `album`.
    #[schema(nullable = false, example = "album")]
    scope_type: Option<String>,
    /// The album id, for album scope.
    #[schema(nullable = false)]
    album: Option<String>,
    #[schema(nullable = false)]
    read_permission: Option<bool>,
    #[schema(nullable = false)]
    write_permission: Option<bool>,
    /// Needs `read_permission`.
    #[schema(nullable = false)]
    download_permission: Option<bool>,
    /// Needs `read_permission`.
    #[schema(nullable = false)]
    appropriate_permission: Option<bool>,
    /// RFC 3339 with an offset; defaults to now.
    #[schema(nullable = false, example = "2021-06-09T17:30:20Z")]
    not_before_time: Option<String>,
    /// RFC 3339 with an offset; defaults to the default lifetime.
    #[schema(nullable = false, example = "2027-01-01T00:00:00Z")]
    expiration_time: Option<String>,
}

/// The form of `POST /token/introspect`.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct KheopsIntrospectForm {
    /// A capability secret; anything else is inactive.
    #[schema(nullable = false)]
    token: Option<String>,
}

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

    /// The documented fields of a form schema: (name, is a boolean).
    fn documented<T: ToSchema>() -> Vec<(String, bool)> {
        use utoipa::openapi::schema::{Schema, SchemaType, Type};
        use utoipa::openapi::RefOr;
        let RefOr::T(Schema::Object(form)) = T::schema() else {
            panic!("{} is not an inline object", T::name());
        };
        form.properties
            .iter()
            .map(|(name, property)| {
                let boolean = matches!(property, RefOr::T(Schema::Object(o))
                    if o.schema_type == SchemaType::Type(Type::Boolean));
                (name.clone(), boolean)
            })
            .collect()
    }

    /// Each documented field, sent alone, changes what `read` makes of the form, each in
    /// its own way; and there are as many as `fields` (the command's fields).
    fn assert_every_field_is_read<T: ToSchema, C: std::fmt::Debug>(
        read: impl Fn(&KheopsParams) -> C,
        fields: usize,
    ) {
        let documented = documented::<T>();
        assert_eq!(documented.len(), fields, "{}: {documented:?}", T::name());
        let empty = format!("{:?}", read(&params(&[], Source::Form)));
        let mut seen = std::collections::HashSet::new();
        for (name, boolean) in &documented {
            let value = if *boolean { "true" } else { "x" };
            let read = format!("{:?}", read(&params(&[(name, value)], Source::Form)));
            assert_ne!(
                read,
                empty,
                "{}: '{name}' is documented but not read",
                T::name()
            );
            assert!(
                seen.insert(read),
                "{}: '{name}' reads as another field",
                T::name()
            );
        }
    }

    #[test]
    fn the_documented_forms_are_the_forms_read() {
        assert_every_field_is_read::<KheopsAlbumForm, _>(KheopsParams::album_form, 8);
        let names: Vec<String> = documented::<KheopsAlbumForm>()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        for flag in FLAG_PARAMS {
            assert!(names.iter().any(|n| n == flag), "{flag} not documented");
        }
        assert_every_field_is_read::<KheopsCapabilityForm, _>(KheopsParams::create_capability, 9);
        assert_every_field_is_read::<KheopsIntrospectForm, _>(|p| p.text("token"), 1);
    }
}
