//! The paging of list endpoints (REFERENCE §1.5): lenient `limit` and `page` parameters, and the
//! page object every list answers with.

use poem_openapi::Object;

/// The reference's default page size.
pub const DEFAULT_PER_PAGE: u64 = 15;

/// The effective page size and page of one list request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Items per page, at least 1 and at most the configured maximum.
    pub per_page: u64,
    /// 1-based page.
    pub page: u64,
}

impl Paging {
    /// From the raw `limit` and `page` values: missing, non-numeric or below 1 mean the default
    /// (15 items, page 1), as the reference reads them; `limit` is capped at `max_per_page`.
    pub fn from_query(limit: Option<&str>, page: Option<&str>, max_per_page: u64) -> Paging {
        let number = |raw: Option<&str>| {
            raw.and_then(|raw| raw.trim().parse::<u64>().ok())
                .filter(|value| *value >= 1)
        };
        let per_page = number(limit)
            .unwrap_or(DEFAULT_PER_PAGE)
            .min(max_per_page.max(1));
        // SQL offsets are signed 64-bit: a page beyond them is simply empty, not an overflow.
        let last_addressable_page = (i64::MAX as u64) / per_page;
        Paging {
            per_page,
            page: number(page).unwrap_or(1).min(last_addressable_page),
        }
    }
}

/// The counters of a page object; each list adds its own collection key next to them.
#[derive(Debug, Clone, Object)]
pub struct PageInfo {
    /// Matching items in all pages.
    pub result: u64,
    /// Effective page size.
    pub perpage: u64,
    /// This page.
    pub currentpage: u64,
    /// The next page, `null` on the last.
    pub nextpage: Option<u64>,
    /// Number of pages, 0 when nothing matches.
    pub maxpage: u64,
}

impl PageInfo {
    /// The counters for `total` matching items read with `paging`.
    pub fn new(total: u64, paging: Paging) -> PageInfo {
        let maxpage = total.div_ceil(paging.per_page);
        PageInfo {
            result: total,
            perpage: paging.per_page,
            currentpage: paging.page,
            nextpage: (paging.page < maxpage).then_some(paging.page + 1),
            maxpage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_pages_are_read_leniently() {
        fn check(limit: Option<&str>, page: Option<&str>, expected: (u64, u64)) {
            let paging = Paging::from_query(limit, page, 1000);
            assert_eq!(
                (paging.per_page, paging.page),
                expected,
                "{limit:?} {page:?}"
            );
        }
        check(None, None, (15, 1));
        check(Some("2"), Some("3"), (2, 3));
        check(Some("abc"), Some("-3"), (15, 1));
        check(Some("0"), Some("0"), (15, 1));
        check(Some("5000"), None, (1000, 1));
        let huge = u64::MAX.to_string();
        let paging = Paging::from_query(Some("15"), Some(&huge), 1000);
        assert!(
            paging
                .page
                .checked_mul(paging.per_page)
                .is_some_and(|offset| offset <= i64::MAX as u64)
        );
    }

    #[test]
    fn page_objects_count_pages() {
        let page = |total, per_page, page| PageInfo::new(total, Paging { per_page, page });
        let info = page(41, 20, 2);
        assert_eq!((info.maxpage, info.nextpage), (3, Some(3)));
        let last = page(41, 20, 3);
        assert_eq!(last.nextpage, None);
        let empty = page(0, 15, 1);
        assert_eq!((empty.maxpage, empty.nextpage), (0, None));
        let beyond = page(5, 15, 4);
        assert_eq!(beyond.nextpage, None);
    }
}
