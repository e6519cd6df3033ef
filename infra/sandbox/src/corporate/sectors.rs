//! The TSE's 17- and 33-sector classifications (names as J-Quants serves them), each 33-sector
//! entry with the word the synthetic company names use.

/// One 33-sector entry: code, name, its 17-sector code, and the name words (ja, en).
#[derive(Debug)]
pub(crate) struct Sector33 {
    pub(crate) code: &'static str,
    pub(crate) name: &'static str,
    pub(crate) s17: &'static str,
    pub(crate) word_ja: &'static str,
    pub(crate) word_en: &'static str,
}

const fn s(
    code: &'static str,
    name: &'static str,
    s17: &'static str,
    word_ja: &'static str,
    word_en: &'static str,
) -> Sector33 {
    Sector33 {
        code,
        name,
        s17,
        word_ja,
        word_en,
    }
}

/// The 33 sectors plus `9999` (other), in code order.
pub(crate) const SECTORS_33: [Sector33; 34] = [
    s("0050", "水産・農林業", "1", "水産", "Fisheries"),
    s("1050", "鉱業", "2", "鉱業", "Mining"),
    s("2050", "建設業", "3", "建設", "Construction"),
    s("3050", "食料品", "1", "食品", "Foods"),
    s("3100", "繊維製品", "4", "繊維", "Textile"),
    s("3150", "パルプ・紙", "4", "製紙", "Paper"),
    s("3200", "化学", "4", "化学", "Chemical"),
    s("3250", "医薬品", "5", "製薬", "Pharmaceutical"),
    s("3300", "石油･石炭製品", "2", "石油", "Oil"),
    s("3350", "ゴム製品", "6", "ゴム", "Rubber"),
    s("3400", "ガラス･土石製品", "3", "窯業", "Ceramics"),
    s("3450", "鉄鋼", "7", "製鋼", "Steel"),
    s("3500", "非鉄金属", "7", "金属", "Metals"),
    s("3550", "金属製品", "3", "金属工業", "Metal Products"),
    s("3600", "機械", "8", "機械", "Machinery"),
    s("3650", "電気機器", "9", "電機", "Electric"),
    s("3700", "輸送用機器", "6", "自動車", "Motor"),
    s("3750", "精密機器", "9", "精機", "Precision"),
    s("3800", "その他製品", "10", "工業", "Industries"),
    s("4050", "電気･ガス業", "11", "電力", "Electric Power"),
    s("5050", "陸運業", "12", "鉄道", "Railway"),
    s("5100", "海運業", "12", "海運", "Shipping"),
    s("5150", "空運業", "12", "航空", "Airlines"),
    s("5200", "倉庫･運輸関連業", "12", "倉庫", "Logistics"),
    s("5250", "情報･通信業", "10", "通信", "Telecom"),
    s("6050", "卸売業", "13", "商事", "Trading"),
    s("6100", "小売業", "14", "商店", "Retail"),
    s("7050", "銀行業", "15", "銀行", "Bank"),
    s("7100", "証券､商品先物取引業", "16", "証券", "Securities"),
    s("7150", "保険業", "16", "保険", "Insurance"),
    s("7200", "その他金融業", "16", "ファイナンス", "Finance"),
    s("8050", "不動産業", "17", "不動産", "Real Estate"),
    s("9050", "サービス業", "10", "サービス", "Services"),
    s("9999", "その他", "99", "ホールディングス", "Holdings"),
];

/// The 17-sector name for a 17-sector code.
pub(crate) fn sector17_name(code: &str) -> &'static str {
    match code {
        "1" => "食品",
        "2" => "エネルギー資源",
        "3" => "建設・資材",
        "4" => "素材・化学",
        "5" => "医薬品",
        "6" => "自動車・輸送機",
        "7" => "鉄鋼・非鉄",
        "8" => "機械",
        "9" => "電機・精密",
        "10" => "情報通信・サービスその他",
        "11" => "電気・ガス",
        "12" => "運輸・物流",
        "13" => "商社・卸売",
        "14" => "小売",
        "15" => "銀行",
        "16" => "金融（除く銀行）",
        "17" => "不動産",
        _ => "その他",
    }
}

/// The entry for a 33-sector code, if it exists.
pub(crate) fn sector33(code: &str) -> Option<&'static Sector33> {
    SECTORS_33.iter().find(|s| s.code == code)
}
