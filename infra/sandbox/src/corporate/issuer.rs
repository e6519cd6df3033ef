//! Who each listed issue is: name, sector, market segment, size class, margin type, fiscal
//! year and accounting standard, all drawn from the hash of its code (a few real names are
//! kept for the demo issues).

use chrono::NaiveDate;

use super::sectors::{SECTORS_33, Sector33, sector33};
use crate::hash::{hash_bytes, mix};
use crate::params::IssueCode;

/// The market segment since the 2022-04-04 reorganisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment {
    Prime,
    Standard,
    Growth,
}

/// How the issuer reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accounting {
    Jp,
    Ifrs,
    Us,
}

impl Accounting {
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Self::Jp => "JP",
            Self::Ifrs => "IFRS",
            Self::Us => "US",
        }
    }
}

/// The static profile of one issue.
#[derive(Debug, Clone)]
pub(crate) struct Issuer {
    pub(crate) name_ja: String,
    pub(crate) name_en: String,
    pub(crate) sector: &'static Sector33,
    pub(crate) segment: Segment,
    pub(crate) scale: &'static str,
    /// `1` 信用, `2` 貸借, `3` その他.
    pub(crate) margin: u8,
    /// The month the fiscal year ends (1–12).
    pub(crate) fy_end_month: u32,
    pub(crate) accounting: Accounting,
    pub(crate) consolidated: bool,
    pub(crate) pays_dividends: bool,
    /// Seed for the issuer's financial figures.
    pub(crate) seed: u64,
}

/// (code, name, English name, 33-sector, scale, accounting) of the demo issues.
const KNOWN: [(&str, &str, &str, &str, &str, Accounting); 8] = [
    (
        "13010",
        "極洋",
        "KYOKUYO CO.,LTD.",
        "0050",
        "TOPIX Small 1",
        Accounting::Jp,
    ),
    (
        "65010",
        "日立製作所",
        "Hitachi,Ltd.",
        "3650",
        "TOPIX Core30",
        Accounting::Ifrs,
    ),
    (
        "67580",
        "ソニーグループ",
        "Sony Group Corporation",
        "3650",
        "TOPIX Core30",
        Accounting::Ifrs,
    ),
    (
        "72030",
        "トヨタ自動車",
        "TOYOTA MOTOR CORPORATION",
        "3700",
        "TOPIX Core30",
        Accounting::Ifrs,
    ),
    (
        "83060",
        "三菱ＵＦＪフィナンシャル・グループ",
        "Mitsubishi UFJ Financial Group,Inc.",
        "7050",
        "TOPIX Core30",
        Accounting::Jp,
    ),
    (
        "86970",
        "日本取引所グループ",
        "Japan Exchange Group,Inc.",
        "7200",
        "TOPIX Large70",
        Accounting::Ifrs,
    ),
    (
        "94320",
        "日本電信電話",
        "NIPPON TELEGRAPH AND TELEPHONE CORPORATION",
        "5250",
        "TOPIX Core30",
        Accounting::Ifrs,
    ),
    (
        "99840",
        "ソフトバンクグループ",
        "SoftBank Group Corp.",
        "5250",
        "TOPIX Core30",
        Accounting::Ifrs,
    ),
];

const PREFIX_JA: [&str; 12] = [
    "日本", "東洋", "大和", "富士", "昭和", "中央", "北斗", "三和", "新星", "東邦", "光洋", "明和",
];
const PREFIX_EN: [&str; 12] = [
    "Nippon", "Toyo", "Daiwa", "Fuji", "Showa", "Chuo", "Hokuto", "Sanwa", "Shinsei", "Toho",
    "Koyo", "Meiwa",
];

/// The profile of `code` (the caller checks that it is listed).
pub(crate) fn issuer(code: &IssueCode) -> Issuer {
    let seed = hash_bytes(code.as_str().as_bytes());
    let pick = |salt: u64, n: u64| (mix(&[seed, salt]) % n) as usize;
    let roll = |salt: u64| mix(&[seed, salt]) % 100;
    let new_style = code.as_str().bytes().any(|b| b.is_ascii_uppercase());
    let segment = match roll(1) {
        _ if new_style => Segment::Growth,
        0..45 => Segment::Prime,
        45..85 => Segment::Standard,
        _ => Segment::Growth,
    };
    let scale = match (segment, roll(2)) {
        (Segment::Prime, 0..2) => "TOPIX Large70",
        (Segment::Prime, 2..20) => "TOPIX Mid400",
        (Segment::Prime, 20..60) => "TOPIX Small 1",
        (Segment::Prime | Segment::Standard, _) => "TOPIX Small 2",
        (Segment::Growth, _) => "-",
    };
    let accounting = match roll(3) {
        0..80 => Accounting::Jp,
        80..96 => Accounting::Ifrs,
        _ => Accounting::Us,
    };
    let fy_end_month = match roll(4) {
        0..70 => 3,
        70..85 => 12,
        85..93 => 9,
        93..97 => 6,
        _ => 2,
    };
    let known = KNOWN.iter().find(|k| k.0 == code.as_str());
    let sector = known
        .and_then(|k| sector33(k.3))
        .unwrap_or(&SECTORS_33[pick(5, 33)]);
    let (name_ja, name_en) = known.map_or_else(
        || {
            let p = pick(6, PREFIX_JA.len() as u64);
            (
                format!("{}{}", PREFIX_JA[p], sector.word_ja),
                format!("{} {} Co.,Ltd.", PREFIX_EN[p], sector.word_en),
            )
        },
        |k| (k.1.to_owned(), k.2.to_owned()),
    );
    Issuer {
        name_ja,
        name_en,
        sector,
        segment: if known.is_some() {
            Segment::Prime
        } else {
            segment
        },
        scale: known.map_or(scale, |k| k.4),
        margin: [2, 2, 1, 1, 1, 3][pick(7, 6)],
        fy_end_month: if known.is_some() { 3 } else { fy_end_month },
        accounting: known.map_or(accounting, |k| k.5),
        consolidated: known.is_some() || roll(8) < 90,
        pays_dividends: known.is_some() || roll(9) < 75,
        seed,
    }
}

/// The market code and name on `date`: the pre-2022-04-04 sections map onto today's segments.
pub(crate) fn market(issuer: &Issuer, date: NaiveDate) -> (&'static str, &'static str) {
    let reorganised = NaiveDate::from_ymd_opt(2022, 4, 4).is_some_and(|d| date >= d);
    let jasdaq = issuer.seed.is_multiple_of(3);
    match (issuer.segment, reorganised, jasdaq) {
        (Segment::Prime, true, _) => ("0111", "プライム"),
        (Segment::Standard, true, _) => ("0112", "スタンダード"),
        (Segment::Growth, true, _) => ("0113", "グロース"),
        (Segment::Prime, false, _) => ("0101", "東証一部"),
        (Segment::Standard, false, false) => ("0102", "東証二部"),
        (Segment::Standard, false, true) => ("0106", "JASDAQ スタンダード"),
        (Segment::Growth, false, false) => ("0104", "マザーズ"),
        (Segment::Growth, false, true) => ("0107", "JASDAQ グロース"),
    }
}

/// The margin code's name.
pub(crate) fn margin_name(code: u8) -> &'static str {
    match code {
        1 => "信用",
        2 => "貸借",
        _ => "その他",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_issues_keep_their_real_names_and_others_are_stable() {
        let jpx = issuer(&IssueCode::parse("8697").expect("code"));
        assert_eq!(
            (jpx.name_ja.as_str(), jpx.sector.code),
            ("日本取引所グループ", "7200")
        );
        let date = NaiveDate::from_ymd_opt(2022, 11, 11).expect("date");
        assert_eq!(market(&jpx, date), ("0111", "プライム"));
        let other = IssueCode::parse("1332").expect("code");
        assert_eq!(issuer(&other).name_en, issuer(&other).name_en);
        assert!(issuer(&IssueCode::parse("130A").expect("code")).segment == Segment::Growth);
    }
}
