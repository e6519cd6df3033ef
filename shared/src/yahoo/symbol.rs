//! J-Quants issue codes and Yahoo symbols for the Tokyo Stock Exchange (yahoo-api.md §6):
//! the 4-character securities code plus `.T` on Yahoo, plus a trailing `0` at J-Quants.

use crate::domain::IssueCode;

/// The Yahoo symbol of a common stock (`72030` → `7203.T`, `130A0` → `130A.T`). `None` for
/// other share classes (a fifth character other than `0`), whose Yahoo symbols are
/// unverified.
pub fn yahoo_symbol(code: &IssueCode) -> Option<String> {
    code.as_str()
        .strip_suffix('0')
        .map(|four| format!("{four}.T"))
}

/// The J-Quants code of a Tokyo symbol (`7203.T` → `72030`); `None` for other exchanges
/// and for anything that is not a 4-character securities code.
pub fn jquants_code(symbol: &str) -> Option<IssueCode> {
    let four = symbol.strip_suffix(".T").filter(|c| c.len() == 4)?;
    IssueCode::parse(&four.to_ascii_uppercase()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> IssueCode {
        IssueCode::parse(s).unwrap()
    }

    #[test]
    fn codes_and_symbols_map_both_ways() {
        for (jquants, yahoo) in [
            ("72030", "7203.T"),
            ("130A0", "130A.T"),
            ("86970", "8697.T"),
        ] {
            assert_eq!(yahoo_symbol(&code(jquants)).as_deref(), Some(yahoo));
            assert_eq!(jquants_code(yahoo), Some(code(jquants)));
        }
        assert_eq!(jquants_code("130a.T"), Some(code("130A0")));
        assert_eq!(yahoo_symbol(&code("7203")).as_deref(), Some("7203.T"));
    }

    #[test]
    fn other_classes_and_exchanges_do_not_map() {
        assert_eq!(yahoo_symbol(&code("25935")), None);
        for symbol in ["7203", "7203.N", "AAPL", "72030.T", "^N225", ".T", "A203.T"] {
            assert_eq!(jquants_code(symbol), None, "{symbol}");
        }
    }
}
