//! One table of cases per rule, then the precedence between rules.

use super::*;
use crate::DEFAULT_DOMAIN;
use crate::link::{
    CampaignList, DeepLink, FileDownload, LINK_RECORD_VERSION, ListedLink, Member, Meta, Parameter,
    PixelTag, Rotator,
};

const NOW: i64 = 1_800_000_000;
const DEST: &str = "https://dest.example/p";

fn link() -> LinkRecord {
    LinkRecord {
        v: LINK_RECORD_VERSION,
        id: 1,
        domain: DEFAULT_DOMAIN.into(),
        alias: "a".into(),
        url: DEST.into(),
        ..LinkRecord::default()
    }
}

fn with(change: impl FnOnce(&mut LinkRecord)) -> LinkRecord {
    let mut record = link();
    change(&mut record);
    record
}

fn target(key: &str, url: &str) -> Target {
    Target {
        key: key.into(),
        url: url.into(),
    }
}

fn redirect(location: &str) -> Decision<'static> {
    Decision::Redirect {
        status: DIRECT_STATUS,
        location: Cow::Owned(location.to_owned()),
        counted: true,
    }
}

fn uncounted(location: &str) -> Decision<'static> {
    Decision::Redirect {
        status: DIRECT_STATUS,
        location: Cow::Owned(location.to_owned()),
        counted: false,
    }
}

/// A visitor: class, country, device, Accept-Language, unlocked.
#[derive(Clone, Copy)]
struct Visitor {
    class: VisitorClass,
    country: Option<&'static str>,
    region: Option<&'static str>,
    device: Device,
    languages: &'static str,
    unlocked: bool,
}

const PERSON: Visitor = Visitor {
    class: VisitorClass::Human,
    country: None,
    region: None,
    device: Device::Unknown,
    languages: "",
    unlocked: false,
};

fn decide_for<'a>(record: &'a LinkRecord, visitor: Visitor) -> Decision<'a> {
    let languages = Languages::parse(visitor.languages);
    let facts = RequestFacts {
        now_s: NOW,
        class: visitor.class,
        country: visitor
            .country
            .map(|code| code.as_bytes().try_into().expect("two letters")),
        region: visitor.region,
        device: visitor.device,
        languages: &languages,
        unlocked: visitor.unlocked,
        pick: 0,
    };
    decide(&record.alias, Some(record), None, &facts)
}

fn check(cases: &[(&str, LinkRecord, Visitor, Decision<'_>)]) {
    for (name, record, visitor, expected) in cases {
        assert_eq!(decide_for(record, *visitor), *expected, "{name}");
    }
}

#[test]
fn unknown_aliases_and_hosts_use_the_domain_s_redirects_or_404() {
    let facts = RequestFacts::at(NOW);
    let domain = DomainRecord {
        v: LINK_RECORD_VERSION,
        host: "go.example".into(),
        root_redirect: Some("https://brand.example/".into()),
        not_found_redirect: Some("https://brand.example/missing".into()),
    };
    let bare = DomainRecord {
        host: "bare.example".into(),
        ..DomainRecord::default()
    };
    let unsafe_domain = DomainRecord {
        root_redirect: Some("javascript:alert(1)".into()),
        ..DomainRecord::default()
    };
    let record = link();
    assert_eq!(decide("x", None, None, &facts), Decision::NotFound);
    assert_eq!(decide("", None, None, &facts), Decision::NotFound);
    assert_eq!(
        decide("", None, Some(&domain), &facts),
        uncounted("https://brand.example/")
    );
    assert_eq!(
        decide("x", None, Some(&domain), &facts),
        uncounted("https://brand.example/missing")
    );
    assert_eq!(decide("x", None, Some(&bare), &facts), Decision::NotFound);
    assert_eq!(decide("", None, Some(&bare), &facts), Decision::NotFound);
    assert_eq!(
        decide("", None, Some(&unsafe_domain), &facts),
        Decision::NotFound
    );
    assert_eq!(
        decide("a", Some(&record), Some(&domain), &facts),
        redirect(DEST),
        "a known alias ignores the domain's 404 redirect"
    );
}

#[test]
fn disabled_and_expired_links() {
    check(&[
        ("plain link", link(), PERSON, redirect(DEST)),
        (
            "disabled",
            with(|l| l.disabled = true),
            PERSON,
            Decision::Gone,
        ),
        (
            "expiry in the future",
            with(|l| l.expires_at = Some(NOW + 1)),
            PERSON,
            redirect(DEST),
        ),
        (
            "expired now",
            with(|l| l.expires_at = Some(NOW)),
            PERSON,
            Decision::Gone,
        ),
        (
            "expired with an expiry redirect",
            with(|l| {
                l.expires_at = Some(NOW - 60);
                l.expiry_redirect = Some("https://over.example/".into());
            }),
            PERSON,
            uncounted("https://over.example/"),
        ),
        (
            "an unsafe expiry redirect is ignored",
            with(|l| {
                l.expires_at = Some(NOW - 60);
                l.expiry_redirect = Some("data:text/html,hi".into());
            }),
            PERSON,
            Decision::Gone,
        ),
        (
            "disabled wins over the expiry redirect",
            with(|l| {
                l.disabled = true;
                l.expires_at = Some(NOW - 60);
                l.expiry_redirect = Some("https://over.example/".into());
            }),
            PERSON,
            Decision::Gone,
        ),
    ]);
}

#[test]
fn unfurlers_get_the_card_when_there_is_one_to_show_or_something_to_hide() {
    let preview = Visitor {
        class: VisitorClass::Preview,
        ..PERSON
    };
    let bot = Visitor {
        class: VisitorClass::Bot,
        ..PERSON
    };
    let meta = Meta {
        title: "Spring".into(),
        ..Meta::default()
    };
    let locked = with(|l| l.password = Some("$argon2id$hash".into()));
    check(&[
        (
            "no meta: unfurlers read the destination's own tags",
            link(),
            preview,
            redirect(DEST),
        ),
        (
            "meta set",
            with(|l| l.meta = meta.clone()),
            preview,
            Decision::Preview,
        ),
        (
            "password: unfurlers never see the destination",
            locked.clone(),
            preview,
            Decision::Preview,
        ),
        (
            "password: nor do crawlers",
            locked.clone(),
            bot,
            Decision::Preview,
        ),
        (
            "crawlers follow plain links",
            with(|l| l.meta = meta.clone()),
            bot,
            redirect(DEST),
        ),
        (
            "people see the form",
            locked.clone(),
            PERSON,
            Decision::Password,
        ),
        (
            "an unlocked visitor goes on",
            locked,
            Visitor {
                unlocked: true,
                ..PERSON
            },
            redirect(DEST),
        ),
        (
            "expiry comes before the card",
            with(|l| {
                l.meta = meta.clone();
                l.expires_at = Some(NOW - 1);
            }),
            preview,
            Decision::Gone,
        ),
    ]);
}

#[test]
fn targeting_by_country_then_device_then_language() {
    let targeted = with(|l| {
        l.geo = vec![
            target("CA", "https://ca.example/"),
            target("FR", "https://fr-geo.example/"),
        ];
        l.devices = vec![
            target("iphone", "https://iphone.example/"),
            target("linux", "https://linux.example/"),
        ];
        l.languages = vec![
            target("fr", "https://fr.example/"),
            target("de", "https://de.example/"),
        ];
    });
    let from = |country| Visitor {
        country: Some(country),
        ..PERSON
    };
    let on = |device| Visitor { device, ..PERSON };
    let speaking = |languages| Visitor {
        languages,
        ..PERSON
    };
    check(&[
        (
            "country",
            targeted.clone(),
            from("CA"),
            redirect("https://ca.example/"),
        ),
        (
            "other country",
            targeted.clone(),
            from("US"),
            redirect(DEST),
        ),
        (
            "device",
            targeted.clone(),
            on(Device::IPhone),
            redirect("https://iphone.example/"),
        ),
        (
            "Ubuntu falls back to Linux",
            targeted.clone(),
            on(Device::Ubuntu),
            redirect("https://linux.example/"),
        ),
        (
            "other device",
            targeted.clone(),
            on(Device::Windows),
            redirect(DEST),
        ),
        (
            "language",
            targeted.clone(),
            speaking("de-AT,de;q=0.9"),
            redirect("https://de.example/"),
        ),
        (
            "best language with a rule",
            targeted.clone(),
            speaking("es, de;q=0.5, fr;q=0.8"),
            redirect("https://fr.example/"),
        ),
        (
            "no language with a rule",
            targeted.clone(),
            speaking("es, it"),
            redirect(DEST),
        ),
        (
            "country wins over device and language",
            targeted.clone(),
            Visitor {
                country: Some("FR"),
                device: Device::IPhone,
                languages: "de",
                ..PERSON
            },
            redirect("https://fr-geo.example/"),
        ),
        (
            "device wins over language",
            targeted.clone(),
            Visitor {
                country: Some("US"),
                device: Device::IPhone,
                languages: "de",
                ..PERSON
            },
            redirect("https://iphone.example/"),
        ),
        (
            "unsafe rules are skipped",
            with(|l| l.geo = vec![target("CA", "javascript:alert(1)")]),
            from("CA"),
            redirect(DEST),
        ),
    ]);
}

#[test]
fn a_region_rule_wins_over_its_country_rule() {
    let regional = with(|l| {
        l.geo = vec![
            target("CA", "https://ca.example/"),
            target("CA:quebec", "https://qc.example/"),
            target("US:quebec", "https://not-canada.example/"),
            target("CA:ontario", "javascript:alert(1)"),
        ];
    });
    assert!(regional.needs_region());
    assert!(!with(|l| l.geo = vec![target("CA", "https://ca.example/")]).needs_region());
    let visitor = |country, region| Visitor {
        country: Some(country),
        region,
        ..PERSON
    };
    check(&[
        (
            "the region's rule",
            regional.clone(),
            visitor("CA", Some("quebec")),
            redirect("https://qc.example/"),
        ),
        (
            "another region of the country falls back to the country rule",
            regional.clone(),
            visitor("CA", Some("manitoba")),
            redirect("https://ca.example/"),
        ),
        (
            "no region known: the country rule",
            regional.clone(),
            visitor("CA", None),
            redirect("https://ca.example/"),
        ),
        (
            "an unsafe region rule is skipped for the country rule",
            regional.clone(),
            visitor("CA", Some("ontario")),
            redirect("https://ca.example/"),
        ),
        (
            "a region of the same name in another country does not match",
            regional.clone(),
            visitor("FR", Some("quebec")),
            redirect(DEST),
        ),
        (
            "a region rule alone, visitor elsewhere in the country",
            with(|l| l.geo = vec![target("CA:quebec", "https://qc.example/")]),
            visitor("CA", Some("yukon")),
            redirect(DEST),
        ),
        (
            "a region rule alone, visitor in it",
            with(|l| l.geo = vec![target("CA:quebec", "https://qc.example/")]),
            visitor("CA", Some("quebec")),
            redirect("https://qc.example/"),
        ),
    ]);
}

#[test]
fn parameters_are_appended_to_the_chosen_destination() {
    let params = |url: &str| {
        let url = url.to_owned();
        with(move |l| {
            l.url = url;
            l.parameters = vec![
                Parameter {
                    name: "utm_source".into(),
                    value: "api".into(),
                },
                Parameter {
                    name: "q".into(),
                    value: "a b&c=d".into(),
                },
            ];
            l.geo = vec![target("CA", "https://ca.example/x?k=1#top")];
        })
    };
    check(&[
        (
            "no query",
            params("https://d.example/"),
            PERSON,
            redirect("https://d.example/?utm_source=api&q=a+b%26c%3Dd"),
        ),
        (
            "existing query kept",
            params("https://d.example/?id=7"),
            PERSON,
            redirect("https://d.example/?id=7&utm_source=api&q=a+b%26c%3Dd"),
        ),
        (
            "trailing ?",
            params("https://d.example/?"),
            PERSON,
            redirect("https://d.example/?utm_source=api&q=a+b%26c%3Dd"),
        ),
        (
            "targeted destination, fragment last",
            params("https://d.example/"),
            Visitor {
                country: Some("CA"),
                ..PERSON
            },
            redirect("https://ca.example/x?k=1&utm_source=api&q=a+b%26c%3Dd#top"),
        ),
    ]);
}

#[test]
fn deep_links_send_phones_to_their_app_links() {
    let stores = with(|l| {
        l.deeplink = Some(DeepLink {
            apple: Some("https://apps.apple.com/app/id123".into()),
            google: Some("https://play.google.com/store/apps/details?id=x".into()),
            auto: false,
        });
    });
    let auto = with(|l| {
        l.url = "https://shop.example/item/9#reviews".into();
        l.deeplink = Some(DeepLink {
            auto: true,
            ..DeepLink::default()
        });
    });
    let on = |device| Visitor { device, ..PERSON };
    check(&[
        (
            "iPhone",
            stores.clone(),
            on(Device::IPhone),
            redirect("https://apps.apple.com/app/id123"),
        ),
        (
            "iPad",
            stores.clone(),
            on(Device::IPad),
            redirect("https://apps.apple.com/app/id123"),
        ),
        (
            "Android",
            stores.clone(),
            on(Device::Android),
            redirect("https://play.google.com/store/apps/details?id=x"),
        ),
        (
            "desktop",
            stores.clone(),
            on(Device::Windows),
            redirect(DEST),
        ),
        (
            "auto on Android: an intent falling back to the browser",
            auto.clone(),
            on(Device::Android),
            redirect(
                "intent://shop.example/item/9#Intent;scheme=https;S.browser_fallback_url=https%3A%2F%2Fshop.example%2Fitem%2F9%23reviews;end",
            ),
        ),
        (
            "auto on iPhone: the universal link itself",
            auto.clone(),
            on(Device::IPhone),
            redirect("https://shop.example/item/9#reviews"),
        ),
    ]);
}

#[test]
fn modes_and_pixels_choose_a_page() {
    let splash = SplashPage {
        id: 7,
        title: "Hi".into(),
        ..SplashPage::default()
    };
    let overlay = OverlayPage {
        id: 3,
        message: "Join".into(),
        ..OverlayPage::default()
    };
    let page = |page| Decision::Page {
        page,
        destination: Cow::Borrowed(DEST),
    };
    let pixels = vec![PixelTag {
        provider: "fbpixel".into(),
        tag: "1234".into(),
    }];
    check(&[
        (
            "frame",
            with(|l| l.mode = LinkMode::Frame),
            PERSON,
            page(Page::Frame),
        ),
        (
            "splash",
            with(|l| l.mode = LinkMode::Splash),
            PERSON,
            page(Page::Splash),
        ),
        (
            "custom splash",
            with(|l| l.mode = LinkMode::CustomSplash(splash.clone())),
            PERSON,
            page(Page::CustomSplash(&splash)),
        ),
        (
            "overlay",
            with(|l| l.mode = LinkMode::Overlay(overlay.clone())),
            PERSON,
            page(Page::Overlay(&overlay)),
        ),
        (
            "pixels on a direct link",
            with(|l| l.pixels = pixels.clone()),
            PERSON,
            page(Page::Pixels),
        ),
        (
            "pixels ride on the chosen page",
            with(|l| {
                l.pixels = pixels.clone();
                l.mode = LinkMode::Splash;
            }),
            PERSON,
            page(Page::Splash),
        ),
        (
            "app links are not framed",
            with(|l| {
                l.mode = LinkMode::Frame;
                l.deeplink = Some(DeepLink {
                    apple: Some("itms-apps://apps.apple.com/app/id1".into()),
                    ..DeepLink::default()
                });
            }),
            Visitor {
                device: Device::IPhone,
                ..PERSON
            },
            redirect("itms-apps://apps.apple.com/app/id1"),
        ),
        (
            "the password comes before the page",
            with(|l| {
                l.mode = LinkMode::Splash;
                l.password = Some("$argon2id$hash".into());
            }),
            PERSON,
            Decision::Password,
        ),
    ]);
}

fn member(alias: &str) -> Member {
    Member {
        domain: DEFAULT_DOMAIN.into(),
        alias: alias.into(),
    }
}

fn rotator(aliases: &[&str]) -> LinkRecord {
    with(|l| {
        l.alias = "r/spring".into();
        l.url = String::new();
        l.mode = LinkMode::Rotator(Rotator {
            members: aliases.iter().map(|alias| member(alias)).collect(),
        });
    })
}

#[test]
fn a_rotator_names_member_pick_modulo_the_number_of_members() {
    fn check(record: &LinkRecord, pick: u32, expected: Decision<'_>) {
        let facts = RequestFacts {
            pick,
            ..RequestFacts::at(NOW)
        };
        assert_eq!(
            decide(&record.alias, Some(record), None, &facts),
            expected,
            "pick {pick}"
        );
    }
    let three = rotator(&["one", "two", "three"]);
    let (one, two, three_member) = (member("one"), member("two"), member("three"));
    check(&three, 0, Decision::Rotate { member: &one });
    check(&three, 1, Decision::Rotate { member: &two });
    check(
        &three,
        2,
        Decision::Rotate {
            member: &three_member,
        },
    );
    check(&three, 3, Decision::Rotate { member: &one });
    check(&three, u32::MAX, Decision::Rotate { member: &one });
    // Every member is drawn equally often over a cycle of picks.
    let mut n_chosen = [0u32; 3];
    for pick in 0..300 {
        let facts = RequestFacts {
            pick,
            ..RequestFacts::at(NOW)
        };
        let Decision::Rotate { member } = decide("r/spring", Some(&three), None, &facts) else {
            panic!("a rotator with members rotates");
        };
        let member_idx = ["one", "two", "three"]
            .iter()
            .position(|alias| *alias == member.alias)
            .unwrap();
        n_chosen[member_idx] += 1;
    }
    assert_eq!(n_chosen, [100, 100, 100]);
    check(&rotator(&[]), 7, Decision::NotFound);
    let mut disabled = rotator(&["one"]);
    disabled.disabled = true;
    check(&disabled, 0, Decision::Gone);
    let mut expired = rotator(&["one"]);
    expired.expires_at = Some(NOW);
    check(&expired, 0, Decision::Gone);
}

#[test]
fn a_rotator_or_list_page_ignores_unfurlers_and_link_rules() {
    let list = CampaignList {
        name: "Spring".into(),
        links: vec![ListedLink {
            title: "One".into(),
            short_url: "/one".into(),
        }],
    };
    let page = with(|l| {
        l.alias = "u/ana/spring-4".into();
        l.mode = LinkMode::List(list.clone());
    });
    let preview = Visitor {
        class: VisitorClass::Preview,
        ..PERSON
    };
    let one = member("one");
    let mut titled_rotator = rotator(&["one"]);
    titled_rotator.meta.title = "Spring".into();
    check(&[
        (
            "a list page",
            page.clone(),
            PERSON,
            Decision::List { list: &list },
        ),
        (
            "a list page for unfurlers",
            page.clone(),
            preview,
            Decision::List { list: &list },
        ),
        (
            "a disabled list page",
            with(|l| {
                l.mode = page.mode.clone();
                l.disabled = true;
            }),
            PERSON,
            Decision::Gone,
        ),
        (
            "a rotator leaves the card to its member",
            titled_rotator,
            preview,
            Decision::Rotate { member: &one },
        ),
    ]);
}

#[test]
fn only_web_and_app_schemes_are_safe() {
    for safe in [
        "https://a.example",
        "HTTP://a.example/x",
        "intent://x#Intent;end",
        "itms-apps://apps.apple.com/app/id1",
        "market://details?id=x",
    ] {
        assert!(is_safe_destination(safe), "{safe}");
    }
    for unsafe_url in [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "vbscript:x",
        "https:",
        "//a.example",
        "a.example",
        "",
    ] {
        assert!(!is_safe_destination(unsafe_url), "{unsafe_url}");
    }
}

#[test]
fn a_hosted_file_is_downloaded_after_its_password_and_never_by_unfurlers() {
    let file = FileDownload {
        key: "files/1/abc".into(),
        name: "report.pdf".into(),
        content_type: "application/pdf".into(),
        size: 3,
        max_downloads: Some(2),
        downloads: 0,
    };
    let hosted = with(|l| {
        l.url = String::new();
        l.mode = LinkMode::File(file.clone());
        // Targeting never applies to a file.
        l.geo = vec![target("CA", "https://ca.example/")];
    });
    let protected = with(|l| {
        l.mode = hosted.mode.clone();
        l.password = Some("$argon2id$hash".into());
    });
    let as_class = |class| Visitor { class, ..PERSON };
    check(&[
        (
            "a person downloads",
            hosted.clone(),
            Visitor {
                country: Some("CA"),
                ..PERSON
            },
            Decision::Download { file: &file },
        ),
        (
            "an HTTP library downloads",
            hosted.clone(),
            as_class(VisitorClass::Bot),
            Decision::Download { file: &file },
        ),
        (
            "a HEAD request is answered as a download",
            hosted.clone(),
            as_class(VisitorClass::Head),
            Decision::Download { file: &file },
        ),
        (
            "an unfurler gets the card, not the bytes",
            hosted.clone(),
            as_class(VisitorClass::Preview),
            Decision::Preview,
        ),
        (
            "a protected file asks for its password",
            protected.clone(),
            PERSON,
            Decision::Password,
        ),
        (
            "an unlocked protected file downloads",
            protected,
            Visitor {
                unlocked: true,
                ..PERSON
            },
            Decision::Download { file: &file },
        ),
        (
            "an expired file is gone",
            with(|l| {
                l.mode = hosted.mode.clone();
                l.expires_at = Some(NOW - 1);
            }),
            PERSON,
            Decision::Gone,
        ),
    ]);
}

/// The edge classes a visitor only for links whose decision reads the class: for every other
/// shape, each class gets the same answer.
#[test]
fn only_links_that_need_the_class_are_decided_by_it() {
    let classes = [
        VisitorClass::Human,
        VisitorClass::Bot,
        VisitorClass::Preview,
        VisitorClass::Head,
    ];
    let phone = Visitor {
        device: Device::Android,
        country: Some("CA"),
        languages: "fr",
        ..PERSON
    };
    let file = FileDownload {
        key: "files/1/abc".into(),
        name: "a.pdf".into(),
        content_type: "application/pdf".into(),
        size: 1,
        max_downloads: None,
        downloads: 0,
    };
    let shapes = [
        link(),
        with(|l| l.mode = LinkMode::Frame),
        with(|l| l.mode = LinkMode::Splash),
        with(|l| l.mode = LinkMode::CustomSplash(SplashPage::default())),
        with(|l| l.mode = LinkMode::Overlay(OverlayPage::default())),
        with(|l| {
            l.pixels = vec![PixelTag {
                provider: "fbpixel".into(),
                tag: "1".into(),
            }];
        }),
        with(|l| l.geo = vec![target("CA", "https://ca.example/")]),
        with(|l| l.devices = vec![target("android", "https://android.example/")]),
        with(|l| l.languages = vec![target("fr", "https://fr.example/")]),
        with(|l| {
            l.deeplink = Some(DeepLink {
                google: Some("market://details?id=x".into()),
                ..DeepLink::default()
            });
        }),
        with(|l| {
            l.parameters = vec![Parameter {
                name: "utm_source".into(),
                value: "x".into(),
            }];
        }),
        with(|l| l.disabled = true),
        with(|l| l.expires_at = Some(NOW - 1)),
        rotator(&["one", "two"]),
        with(|l| l.password = Some("$argon2id$hash".into())),
        with(|l| l.mode = LinkMode::File(file.clone())),
        with(|l| l.meta.title = "Card".into()),
    ];
    let mut n_class_dependent = 0;
    for shape in &shapes {
        for visitor in [PERSON, phone] {
            let decisions: Vec<Decision<'_>> = classes
                .iter()
                .map(|&class| decide_for(shape, Visitor { class, ..visitor }))
                .collect();
            let uniform = decisions.iter().all(|decision| *decision == decisions[0]);
            if !shape.needs_class() {
                assert!(uniform, "{shape:?} was decided by class: {decisions:?}");
            } else if !uniform {
                n_class_dependent += 1;
            }
        }
    }
    // The three shapes that need the class really are decided by it.
    assert_eq!(n_class_dependent, 6);
}
