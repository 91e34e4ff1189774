//! `IN (…)` lists of values, bound one by one, for queries over a page of
//! records or a batch of keys.

use sqlx::QueryBuilder;
use uuid::Uuid;

/// Push `(id, id, …)` with each id bound: what `… IN ` is followed by.
pub(crate) fn push_ids<DB: sqlx::Database>(q: &mut QueryBuilder<DB>, ids: &[Uuid])
where
    for<'t> Uuid: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    push_values(q, ids);
}

/// Push `(v, v, …)` with each value bound.
pub(crate) fn push_values<DB: sqlx::Database, T>(q: &mut QueryBuilder<DB>, values: &[T])
where
    T: Clone + Send + 'static,
    for<'t> T: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push("(");
    let mut list = q.separated(", ");
    for value in values {
        list.push_bind(value.clone());
    }
    q.push(")");
}
