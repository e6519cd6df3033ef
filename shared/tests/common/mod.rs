//! Helpers the dataset tests share: a job's query as the catalog validates it, and a record's
//! field by name.

use std::collections::BTreeMap;

use shared::catalog::Endpoint;
use shared::dataset::{FieldValue, Record};

/// The query a job of `endpoint` sends: the request validated by the catalog, plus the symbol.
pub(crate) fn query(
    endpoint: &Endpoint,
    symbol: Option<&str>,
    params: &[(&str, &str)],
) -> Vec<(String, String)> {
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let symbols: Vec<String> = symbol.into_iter().map(str::to_owned).collect();
    let valid = endpoint.validate(&symbols, &params).unwrap();
    let mut query: Vec<(String, String)> = valid.params.into_iter().collect();
    if let (Some(name), Some(Some(code))) = (endpoint.symbol_param, valid.symbols.first()) {
        query.push((name.to_owned(), code.as_str().to_owned()));
    }
    query
}

/// The field `name` of `record`.
pub(crate) fn field<'a>(record: &'a Record, name: &str) -> &'a FieldValue {
    &record
        .fields
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("{name}"))
        .1
}
