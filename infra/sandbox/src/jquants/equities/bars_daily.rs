//! `GET /v2/equities/bars/daily`: daily OHLCV per issue, paginated.
//!
//! Parameter combinations (reference §2.2): `code` alone is the whole history inside
//! the plan window, `code` + `date` one day, `code` + `from`/`to` a range, `date` alone every
//! issue on that day. Rows are ordered by (Code, Date).

use crate::calendar::trading_days;
use crate::config::Plan;
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::row::bar;

pub(crate) const ENDPOINT: Endpoint = Endpoint::new("/equities/bars/daily", Plan::Free, list);

fn list(q: &Query) -> Result<Listing, ApiError> {
    q.require_one_of(&["date", "code"])?;
    let codes = q.codes()?;
    let (from, to) = q.range(q.window())?;
    let days = trading_days(from, to).collect();
    let (plan, as_of) = (q.plan, q.today);
    Ok(Listing::grid(codes, days, move |code, date| {
        bar(code, date, plan, as_of)
    }))
}
