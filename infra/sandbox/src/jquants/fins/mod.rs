//! The `/fins/*` datasets, all drawn from the results calendar of `corporate`.

pub(crate) mod details;
pub(crate) mod dividend;
pub(crate) mod summary;

use crate::corporate::{Disclosure, disclosures_of, disclosures_on};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::universe::is_listed_code;

/// The disclosures a `code`/`date` query selects, by disclosure number.
pub(crate) fn selected(q: &Query) -> Result<Vec<Disclosure>, ApiError> {
    q.require_one_of(&["date", "code"])?;
    let code = q.code()?;
    let (from, to) = q.range(q.window())?;
    Ok(match code {
        Some(code) if is_listed_code(&code) => disclosures_of(&code, from, to),
        Some(_) => Vec::new(),
        None => disclosures_on(from),
    })
}
