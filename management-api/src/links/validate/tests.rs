use chrono::NaiveDate;

use super::*;

fn message(result: Result<impl std::fmt::Debug, ApiError>) -> String {
    result.unwrap_err().body().message.clone()
}

#[test]
fn destinations() {
    let own = vec!["localhost:8080".to_owned()];
    let check = |raw: Option<&str>, expected: Result<&str, &str>| {
        let result = destination(raw, &own);
        match expected {
            Ok(url) => assert_eq!(result.unwrap(), url, "{raw:?}"),
            Err(text) => assert_eq!(message(result), text, "{raw:?}"),
        }
    };
    check(
        Some("https://example.com/spring"),
        Ok("https://example.com/spring"),
    );
    check(Some(" https://Example.com "), Ok("https://example.com/"));
    check(
        Some("http://example.com/a?b=c#d"),
        Ok("http://example.com/a?b=c#d"),
    );
    check(None, Err("Missing required parameter: url"));
    check(Some("  "), Err("Missing required parameter: url"));
    check(
        Some("javascript:alert(1)"),
        Err("Please enter a valid URL."),
    );
    check(Some("data:text/html,x"), Err("Please enter a valid URL."));
    check(Some("file:///etc/passwd"), Err("Please enter a valid URL."));
    check(Some("example.com"), Err("Please enter a valid URL."));
    check(
        Some("https://user:pw@example.com/"),
        Err("Please enter a valid URL."),
    );
    check(
        Some("https://exa mple.com/"),
        Err("Please enter a valid URL."),
    );
    check(
        Some("http://localhost:8080/x"),
        Err("You cannot shorten URLs of this website."),
    );
    check(
        Some("https://example.com/setup.EXE"),
        Err("Linking to executable files is not allowed."),
    );
    check(
        Some("https://example.com/setup.exe.html"),
        Ok("https://example.com/setup.exe.html"),
    );
}

#[test]
fn custom_aliases() {
    assert_eq!(custom_alias("Spring Sale").unwrap(), "Spring-Sale");
    assert_eq!(
        message(custom_alias("ab")),
        "Custom alias must be at least 3 characters."
    );
    assert_eq!(
        message(custom_alias("a!!")),
        "Custom alias must be at least 3 characters."
    );
    assert_eq!(custom_alias("a!b").unwrap(), "a-b");
    assert_eq!(
        message(custom_alias("API")),
        "That alias is reserved. Please choose another one."
    );
    assert!(custom_alias(&"x".repeat(65)).is_err());
}

#[test]
fn expiry_dates() {
    let now = NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    assert_eq!(
        expiry("2026-06-30 23:59:59", now).unwrap().to_string(),
        "2026-06-30 23:59:59"
    );
    assert_eq!(
        expiry("2026-06-30", now).unwrap().to_string(),
        "2026-06-30 23:59:59"
    );
    assert_eq!(
        message(expiry("2025-12-31 00:00:00", now)),
        "The expiry date must be later than today."
    );
    assert_eq!(
        message(expiry("2026-01-01 12:00:00", now)),
        "The expiry date must be later than today."
    );
    assert!(message(expiry("tomorrow", now)).starts_with("Please enter a valid expiry date"));
}

#[test]
fn link_types() {
    fn check(raw: &str, expected: Option<&str>) {
        assert_eq!(link_type(raw).as_deref(), expected, "{raw}");
    }
    check("direct", Some("direct"));
    check("Frame", Some("frame"));
    check("splash", Some("splash"));
    check("5", Some("5"));
    check("overlay-3", Some("overlay-3"));
    check("overlay-", None);
    check("overlay-x", None);
    check("iframe", None);
    check("", None);
}

#[test]
fn targeting_keeps_valid_entries_only() {
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    };
    let geo = |list: &[(&str, Option<&str>, &str)]| -> Vec<crate::links::GeoRule> {
        list.iter()
            .map(|(location, region, link)| crate::links::GeoRule {
                location: (*location).to_owned(),
                region: region.map(str::to_owned),
                link: (*link).to_owned(),
            })
            .collect()
    };
    assert_eq!(
        geotarget(&geo(&[
            ("Canada", None, "https://shop.example.ca/"),
            ("France", None, "javascript:x"),
            ("", None, "https://x.example/")
        ]))
        .unwrap(),
        r#"{"canada":{"all":"https://shop.example.ca/"}}"#
    );
    assert_eq!(geotarget(&geo(&[("France", None, "javascript:x")])), None);
    // Regions of one country share its entry, slugged; a region without letters is dropped.
    let stored: Value = serde_json::from_str(
        &geotarget(&geo(&[
            ("Canada", None, "https://shop.example.ca/"),
            ("Canada", Some("Québec"), "https://qc.example.ca/"),
            ("canada", Some(" New Brunswick "), "https://nb.example.ca/"),
            ("Canada", Some("--"), "https://dropped.example/"),
        ]))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        stored,
        json!({"canada": {
            "all": "https://shop.example.ca/",
            "quebec": "https://qc.example.ca/",
            "new-brunswick": "https://nb.example.ca/",
        }})
    );
    assert_eq!(
        devicetarget(&pairs(&[
            ("iPhone", "https://apps.apple.com/app/id1"),
            ("Toaster", "https://x.example/")
        ]))
        .unwrap(),
        r#"{"iphone":"https://apps.apple.com/app/id1"}"#
    );
    assert_eq!(
        languagetarget(&pairs(&[
            ("fr-CA", "https://x.example/fr"),
            ("1x", "https://x.example/")
        ]))
        .unwrap(),
        r#"{"fr":"https://x.example/fr"}"#
    );
    assert_eq!(
        parameters(&pairs(&[("utm_source", "api"), (" ", "x")])).unwrap(),
        r#"[{"name":"utm_source","value":"api"}]"#
    );
    assert_eq!(deeplink(None, None, true, false), None);
    assert_eq!(
        deeplink(
            Some("https://apps.apple.com/app/id1"),
            Some("javascript:x"),
            false,
            true
        )
        .unwrap(),
        r#"{"apple":"https://apps.apple.com/app/id1","google":null,"auto":false}"#
    );
    assert_eq!(
        deeplink(
            Some("itms-apps://apps.apple.com/app/id1"),
            Some("market://details?id=shop"),
            false,
            true
        )
        .unwrap(),
        r#"{"apple":"itms-apps://apps.apple.com/app/id1","google":"market://details?id=shop","auto":false}"#,
        "store app links are accepted"
    );
    assert_eq!(
        devicetarget(&pairs(&[
            ("android", "market://details?id=shop"),
            ("iphone", "data:text/html,x"),
            ("ipad", "file:///etc/passwd"),
            ("windows", "vbscript:x")
        ]))
        .unwrap(),
        r#"{"android":"market://details?id=shop"}"#,
        "only allowed app schemes besides http(s)"
    );
}

#[test]
fn target_urls_are_web_or_allowed_app_links() {
    assert_eq!(
        target_url("https://x.example").as_deref(),
        Some("https://x.example/")
    );
    assert_eq!(
        target_url("intent://scan/#Intent;scheme=zxing;end").as_deref(),
        Some("intent://scan/#Intent;scheme=zxing;end")
    );
    for refused in [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,x",
        "market://has space",
        "ftp://x.example/",
        "",
    ] {
        assert_eq!(target_url(refused), None, "{refused}");
    }
}

#[test]
fn meta_images_must_be_png_or_jpeg_urls() {
    assert_eq!(
        meta_image("https://x.example/a.PNG").unwrap(),
        "https://x.example/a.PNG"
    );
    assert_eq!(meta_image("").unwrap(), "");
    assert_eq!(
        message(meta_image("https://x.example/a.gif")),
        "Banner must be either a PNG or a JPEG (Max 500kb)."
    );
}
