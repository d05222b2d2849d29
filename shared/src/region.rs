//! Regions (states, provinces) in geo rules. A rule for a region is keyed `"CA:ontario"`: the
//! country code, a colon and the region's slug. The management API slugs the name its user
//! typed and the edge slugs the name its GeoIP database holds, so "Île-de-France", "ile de
//! france" and "Ile-De-France" are one region.

/// Separates the country code from the region slug in a geo rule's key.
pub const SEPARATOR: char = ':';

/// The slug of a region name: lower-case ASCII letters and digits, common accents folded, every
/// run of other characters one `-`, no leading or trailing dash. Empty for a name with no letters.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        let c = fold(c.to_lowercase().next().unwrap_or(c));
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out
}

/// The key of a rule for `region` (a slug) of `country` (two upper-case letters).
pub fn key(country: &str, region: &str) -> String {
    format!("{country}{SEPARATOR}{region}")
}

/// `(country, region slug)` of a region rule's key; `None` for a country rule.
pub fn split(key: &str) -> Option<(&str, &str)> {
    key.split_once(SEPARATOR)
}

fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
        'ğ' => 'g',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => 'i',
        'ł' => 'l',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ř' => 'r',
        'ś' | 'š' | 'ş' | 'ș' => 's',
        'ť' | 'ţ' | 'ț' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_one_slug_however_they_are_written() {
        for (name, expected) in [
            ("Ontario", "ontario"),
            ("Île-de-France", "ile-de-france"),
            ("  ile de  france ", "ile-de-france"),
            ("Baden-Württemberg", "baden-wurttemberg"),
            ("New South Wales", "new-south-wales"),
            ("São Paulo", "sao-paulo"),
            ("Łódź Voivodeship", "lodz-voivodeship"),
            ("England", "england"),
            ("东京都", ""),
            ("--", ""),
        ] {
            assert_eq!(slug(name), expected, "{name}");
        }
    }

    #[test]
    fn keys_split_back_into_country_and_region() {
        assert_eq!(key("CA", "ontario"), "CA:ontario");
        assert_eq!(split("CA:ontario"), Some(("CA", "ontario")));
        assert_eq!(split("CA"), None);
    }
}
