//! Paging and ordering inputs of the lists (§1.4), and the page they answer.

/// `limit` when none is given.
pub const DEFAULT_LIMIT: i64 = 20;
/// The largest `limit`; `0` and larger values are served as this.
pub const MAX_LIMIT: i64 = 1000;

/// A slice of a list, already normalised (`limit` in 1..=1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub limit: i64,
    pub offset: i64,
}

impl Paging {
    /// From the query's values (the edge refuses negative or non-integer ones): `limit`
    /// default 20, `0` or more than 1000 means 1000; `offset` default 0.
    pub fn new(limit: Option<u64>, offset: Option<u64>) -> Paging {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(0) => MAX_LIMIT,
            Some(n) => i64::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
        };
        let offset = offset.map_or(0, |o| i64::try_from(o).unwrap_or(i64::MAX));
        Paging { limit, offset }
    }
}

impl Default for Paging {
    fn default() -> Self {
        Paging::new(None, None)
    }
}

/// One `order_by` key: a field of the resource, ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order<F> {
    pub field: F,
    pub descending: bool,
}

impl<F> Order<F> {
    pub fn asc(field: F) -> Self {
        Order {
            field,
            descending: false,
        }
    }

    pub fn desc(field: F) -> Self {
        Order {
            field,
            descending: true,
        }
    }
}

/// One page of a list: the paging it was served with, the number of everything that
/// matches, and the page's objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub paging: Paging,
    pub total: i64,
    pub items: Vec<T>,
}
