//! Cursor pagination.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dossier_domain::ValidationErrors;
use serde::Serialize;

/// One page of results and the cursor of the next, if there is one.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// The page size asked for, checked.
pub fn limit(requested: Option<u32>) -> Result<i64, ValidationErrors> {
    match requested.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(i64::from(n)),
        _ => Err(ValidationErrors::one("limit", "out_of_range", format!("must be between 1 and {MAX_LIMIT}"))),
    }
}

pub(crate) fn encode_cursor(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<String, ValidationErrors> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ValidationErrors::one("cursor", "invalid_cursor", "is not a cursor this API returned"))
}

/// A cursor of a list ordered by a key and then an id, written as
/// `key{separator}id`: the key as text (the caller parses it) and the id.
pub(crate) fn keyed_cursor(cursor: Option<&str>, separator: char) -> Result<Option<(String, uuid::Uuid)>, ValidationErrors> {
    let Some(cursor) = cursor else { return Ok(None) };
    let invalid = || ValidationErrors::one("cursor", "invalid_cursor", "is not a cursor this API returned");
    let text = decode_cursor(cursor)?;
    let (key, id) = text.split_once(separator).ok_or_else(invalid)?;
    Ok(Some((key.to_owned(), uuid::Uuid::parse_str(id).map_err(|_| invalid())?)))
}

/// A cursor of a list ordered by a time (microseconds) and an id.
pub(crate) fn time_cursor(cursor: Option<&str>) -> Result<Option<(i64, uuid::Uuid)>, ValidationErrors> {
    match keyed_cursor(cursor, ':')? {
        Some((at, id)) => {
            let at = at.parse::<i64>().map_err(|_| ValidationErrors::one("cursor", "invalid_cursor", "is not a cursor this API returned"))?;
            Ok(Some((at, id)))
        }
        None => Ok(None),
    }
}

/// The number a newest-first list continues below (cursors of lists ordered
/// by record number).
pub(crate) fn number_cursor(cursor: Option<&str>) -> Result<Option<i64>, ValidationErrors> {
    cursor
        .map(|c| decode_cursor(c)?.parse::<i64>().map_err(|_| ValidationErrors::one("cursor", "invalid_cursor", "is not a cursor this API returned")))
        .transpose()
}

/// Split off the extra row fetched to learn whether a next page exists.
pub(crate) fn paginate<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    cursor_of: impl Fn(&R) -> String,
    convert: impl FnMut(R) -> crate::Result<T>,
) -> crate::Result<Page<T>> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| encode_cursor(&cursor_of(r))) } else { None };
    Ok(Page { items: rows.into_iter().map(convert).collect::<crate::Result<_>>()?, next_cursor })
}
