//! `IN (…)` lists of ids, bound one by one, for queries over a page of records.

use sqlx::QueryBuilder;
use uuid::Uuid;

/// Push `(id, id, …)` with each id bound: what `… IN ` is followed by.
pub(crate) fn push_ids<DB: sqlx::Database>(q: &mut QueryBuilder<DB>, ids: &[Uuid])
where
    for<'t> Uuid: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push("(");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
}
