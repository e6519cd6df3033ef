//! `GET /v2/equities/bars/minute`: one-minute bars (add-on "minute bars / ticks", Light and
//! above, two years of history). `code` or `date` is required; rows are ordered by (Code,
//! Date, Time) and only traded days have bars.

use chrono::Months;

use crate::calendar::trading_days;
use crate::config::{Plan, Window};
use crate::intraday::{MinuteBar, minute_bars, minutes_per_day};
use crate::jquants::endpoint::{Endpoint, Listing};
use crate::jquants::error::ApiError;
use crate::jquants::query::Query;
use crate::jquants::record::{Record, day, text};
use crate::market::trades;

pub(crate) const ENDPOINT: Endpoint = Endpoint {
    addon: true,
    ..Endpoint::new("/equities/bars/minute", Plan::Light, list)
};

const KEYS: [&str; 9] = ["Date", "Time", "Code", "O", "H", "L", "C", "Vo", "Va"];

fn list(q: &Query) -> Result<Listing, ApiError> {
    q.require_one_of(&["date", "code"])?;
    let codes = q.codes()?;
    let window = Window {
        from: q
            .today
            .checked_sub_months(Months::new(24))
            .unwrap_or(q.today),
        to: q.today,
    };
    let (from, to) = q.range(window)?;
    let days: Vec<_> = trading_days(from, to).collect();
    let traded: Vec<_> = codes
        .iter()
        .flat_map(|c| days.iter().map(move |d| (c.clone(), *d)))
        .filter(|(c, d)| trades(c, *d).is_some())
        .collect();
    let mut ends = Vec::with_capacity(traded.len());
    let mut total = 0;
    for (_, date) in &traded {
        total += minutes_per_day(*date);
        ends.push(total);
    }
    let mut cached: Option<(usize, Vec<MinuteBar>)> = None;
    Ok(Listing::new(total, move |i| {
        let pair = ends.partition_point(|end| *end <= i);
        let (code, date) = traded.get(pair)?;
        let start = if pair == 0 { 0 } else { ends[pair - 1] };
        if cached.as_ref().is_none_or(|(p, _)| *p != pair) {
            cached = Some((pair, minute_bars(code, *date)));
        }
        let minute = cached.as_ref()?.1.get(i - start)?;
        let b = &minute.bar;
        let mut row = Record::with_capacity(KEYS.len());
        row.extend(
            KEYS,
            [
                day(*date),
                text(minute.time.format("%H:%M").to_string()),
                code.as_str().into(),
                b.o.into(),
                b.h.into(),
                b.l.into(),
                b.c.into(),
                b.vo.into(),
                b.va.into(),
            ],
        );
        Some(row)
    }))
}
