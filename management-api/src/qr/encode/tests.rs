use serde_json::{Value, json};

use super::*;

/// The encoded text of a static code, or the destination of a tracked one without device rules.
fn check(qr_type: &str, data: Value, expected: &str) {
    let qr_type = QrType::parse(qr_type).expect("a known type");
    let content = match encode(qr_type, &data) {
        Ok(Payload::Static(content)) => content,
        Ok(Payload::Tracked {
            destination,
            devices,
        }) if devices.is_empty() => destination,
        other => panic!("{data}: {other:?}"),
    };
    assert_eq!(content, expected, "{data}");
}

#[test]
fn addresses_are_tracked_and_files_and_settings_are_encoded_directly() {
    let is_tracked = |qr_type: &str, data: Value| {
        let qr_type = QrType::parse(qr_type).expect("a known type");
        matches!(encode(qr_type, &data), Ok(Payload::Tracked { .. }))
    };
    for (qr_type, data) in [
        ("link", json!("https://example.com/")),
        ("email", json!("ann@example.com")),
        ("phone", json!("+15551234")),
        ("smsonly", json!({"phone": "5551234"})),
        ("whatsapp", json!({"phone": "+15551234", "body": "Hi"})),
        ("geo", json!({"lat": 1, "long": 2})),
        ("crypto", json!({"currency": "eth", "wallet": "0xabc123"})),
    ] {
        assert!(is_tracked(qr_type, data.clone()), "{qr_type} {data}");
        let Ok(Payload::Tracked { destination, .. }) =
            encode(QrType::parse(qr_type).unwrap(), &data)
        else {
            unreachable!()
        };
        assert!(
            shared::is_safe_destination(&destination),
            "the edge redirects to {destination}"
        );
    }
    for (qr_type, data) in [
        ("text", json!("hi")),
        ("sms", json!({"phone": "5551234"})),
        ("wifi", json!({"ssid": "Cafe"})),
        ("vcard", json!({"fname": "Ann"})),
        ("staticvcard", json!({"fname": "Ann"})),
        (
            "event",
            json!({"title": "Launch", "start": "2025-04-10 12:00:00"}),
        ),
    ] {
        assert!(!is_tracked(qr_type, data.clone()), "{qr_type} {data}");
    }
}

fn tracked(qr_type: &str, data: Value, destination: &str, devices: &[(&str, &str)]) {
    let qr_type = QrType::parse(qr_type).expect("a known type");
    assert_eq!(
        encode(qr_type, &data),
        Ok(Payload::Tracked {
            destination: destination.to_owned(),
            devices: devices
                .iter()
                .map(|(device, url)| ((*device).to_owned(), (*url).to_owned()))
                .collect(),
        }),
        "{data}"
    );
}

fn refused(qr_type: &str, data: Value, expected: Invalid) {
    let qr_type = QrType::parse(qr_type).expect("a known type");
    assert_eq!(encode(qr_type, &data), Err(expected), "{data}");
}

#[test]
fn types_are_named_like_the_reference() {
    for (qr_type, name) in QrType::ALL {
        assert_eq!(QrType::parse(name), Some(qr_type));
        assert_eq!(qr_type.as_str(), name);
    }
    assert_eq!(QrType::parse(" WiFi "), Some(QrType::Wifi));
    assert_eq!(QrType::parse("barcode"), None);
}

#[test]
fn empty_data_is_refused_for_every_type() {
    for (_, name) in QrType::ALL {
        for data in [Value::Null, json!(""), json!("  "), json!({}), json!([])] {
            refused(name, data, Invalid::Empty);
        }
    }
}

#[test]
fn text_is_encoded_as_sent_up_to_4296_characters() {
    check("text", json!("Hello, world"), "Hello, world");
    check("text", json!(42), "42");
    check("text", json!("é".repeat(4296)), &"é".repeat(4296));
    refused("text", json!("a".repeat(4297)), Invalid::TextTooLong);
    refused("text", json!({"text": "x"}), Invalid::Format);
}

#[test]
fn links_go_through_a_tracking_link() {
    tracked(
        "link",
        json!(" https://example.com/menu?a=1 "),
        "https://example.com/menu?a=1",
        &[],
    );
    refused("link", json!("ftp://example.com"), Invalid::Url);
    refused("link", json!("javascript:alert(1)"), Invalid::Url);
    refused("link", json!("not a url"), Invalid::Url);
}

#[test]
fn email_is_a_mailto_uri_with_encoded_subject_and_body() {
    check("email", json!("ann@example.com"), "mailto:ann@example.com");
    check(
        "email",
        json!({"email": "ann@example.com", "subject": "Hi & bye", "body": "Line 1\nä?=#"}),
        "mailto:ann@example.com?subject=Hi%20%26%20bye&body=Line%201%0A%C3%A4%3F%3D%23",
    );
    check(
        "email",
        json!({"email": "ann@example.com", "body": "only body"}),
        "mailto:ann@example.com?body=only%20body",
    );
    refused("email", json!("ann@"), Invalid::Email);
    refused("email", json!("ann@example.com?cc=x@y.z"), Invalid::Email);
    refused("email", json!({"subject": "no address"}), Invalid::Email);
}

#[test]
fn phone_is_a_tel_uri_of_digits() {
    check("phone", json!("+49 (30) 1234-567"), "tel:+49301234567");
    check("phone", json!(5551234), "tel:5551234");
    refused("phone", json!("12"), Invalid::Phone);
    refused("phone", json!("call me"), Invalid::Phone);
    refused("phone", json!("++4930"), Invalid::Phone);
}

#[test]
fn sms_is_smsto_with_the_message_as_is() {
    check(
        "sms",
        json!({"phone": "+15551234", "message": "Hi: there"}),
        "SMSTO:+15551234:Hi: there",
    );
    check("sms", json!({"phone": "+15551234"}), "SMSTO:+15551234:");
    refused("sms", json!({"message": "no phone"}), Invalid::Phone);
}

#[test]
fn wifi_escapes_special_characters_and_defaults_the_encryption() {
    check(
        "wifi",
        json!({"ssid": "Cafe", "pass": "secret", "encryption": "WPA"}),
        "WIFI:T:WPA;S:Cafe;P:secret;;",
    );
    check(
        "wifi",
        json!({"ssid": r#"My;Net,"1":\"#, "pass": "p;a:ss"}),
        r#"WIFI:T:WPA;S:My\;Net\,\"1\"\:\\;P:p\;a\:ss;;"#,
    );
    check(
        "wifi",
        json!({"ssid": "Old", "pass": "k", "encryption": "wep"}),
        "WIFI:T:WEP;S:Old;P:k;;",
    );
    check("wifi", json!({"ssid": "Open"}), "WIFI:T:nopass;S:Open;;");
    refused("wifi", json!({"pass": "secret"}), Invalid::Ssid);
    refused("wifi", json!({"ssid": ""}), Invalid::Ssid);
    refused(
        "wifi",
        json!({"ssid": "x", "encryption": "ROT13"}),
        Invalid::Encryption,
    );
    refused("wifi", json!("Cafe"), Invalid::Format);
}

#[test]
fn vcard_is_version_3_with_crlf_and_escaped_values() {
    let expected = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe\\, Jr.;Jane;;;\r\nFN:Jane Doe\\, Jr.\r\n\
        ORG:A\\;B \\\\ C\r\nTEL;TYPE=CELL:+15551234\r\nEMAIL;TYPE=INTERNET:jane@example.com\r\n\
        URL:https://example.com\r\nX-SOCIALPROFILE;TYPE=twitter:@jane\r\n\
        ADR;TYPE=WORK:;;Main St 1\\nFloor 2;Berlin;;10115;Germany\r\nEND:VCARD\r\n";
    let data = json!({
        "fname": "Jane", "lname": "Doe, Jr.", "org": "A;B \\ C", "cell": "+15551234",
        "email": "jane@example.com", "site": "https://example.com", "twitter": "@jane",
        "street": "Main St 1\nFloor 2", "city": "Berlin", "zip": "10115", "country": "Germany",
        "unknown": "ignored"
    });
    check("vcard", data.clone(), expected);
    check("staticvcard", data, expected);
    check(
        "staticvcard",
        json!({"org": "Acme"}),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:;;;;\r\nFN:Acme\r\nORG:Acme\r\nEND:VCARD\r\n",
    );
    refused(
        "vcard",
        json!({"fname": "", "lname": " "}),
        Invalid::EmptyVcard,
    );
    refused("vcard", json!("Jane"), Invalid::Format);
}

#[test]
fn smsonly_is_an_rfc_5724_sms_uri() {
    check(
        "smsonly",
        json!({"phone": "+15551234", "message": "See you & bye"}),
        "sms:+15551234?body=See%20you%20%26%20bye",
    );
    check("smsonly", json!({"phone": "5551234"}), "sms:5551234");
}

#[test]
fn whatsapp_goes_through_a_tracking_link() {
    tracked(
        "whatsapp",
        json!({"phone": "+49 30 1234567", "body": "Hallo & tschüss"}),
        "https://api.whatsapp.com/send?phone=49301234567&text=Hallo%20%26%20tsch%C3%BCss",
        &[],
    );
    tracked(
        "whatsapp",
        json!({"phone": "15551234"}),
        "https://api.whatsapp.com/send?phone=15551234",
        &[],
    );
}

#[test]
fn geo_takes_numbers_in_range() {
    check(
        "geo",
        json!({"lat": 52.52, "long": "13.405"}),
        "geo:52.52,13.405",
    );
    check("geo", json!({"lat": -90, "long": 180}), "geo:-90,180");
    refused("geo", json!({"lat": 91, "long": 0}), Invalid::Coordinates);
    refused("geo", json!({"lat": 0, "long": -181}), Invalid::Coordinates);
    refused("geo", json!({"lat": "north"}), Invalid::Coordinates);
}

#[test]
fn crypto_uses_the_currency_s_uri_scheme() {
    check(
        "crypto",
        json!({"currency": "btc", "wallet": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}),
        "bitcoin:1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
    );
    check(
        "crypto",
        json!({"currency": "ETH", "wallet": "0x52908400098527886E0F7030069857D2E4169EE7"}),
        "ethereum:0x52908400098527886E0F7030069857D2E4169EE7",
    );
    check(
        "crypto",
        json!({"currency": "bch", "wallet": "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"}),
        "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
    );
    refused(
        "crypto",
        json!({"currency": "doge", "wallet": "D1"}),
        Invalid::Currency,
    );
    refused(
        "crypto",
        json!({"currency": "btc", "wallet": "1Boat?amount=1"}),
        Invalid::Wallet,
    );
}

#[test]
fn event_is_an_icalendar_vevent_in_utc_with_escaped_text() {
    check(
        "event",
        json!({
            "title": "Launch; party", "description": "Bring food,\ndrinks", "location": "Hall 1",
            "url": "https://example.com/launch", "start": "2025-04-10 12:00:00",
            "end": "2025-04-10T16:30:00+02:00"
        }),
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OpenMyLink//QR//EN\r\nBEGIN:VEVENT\r\n\
         SUMMARY:Launch\\; party\r\nDESCRIPTION:Bring food\\,\\ndrinks\r\nLOCATION:Hall 1\r\n\
         URL:https://example.com/launch\r\nDTSTART:20250410T120000Z\r\nDTEND:20250410T143000Z\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    check(
        "event",
        json!({"title": "Call", "start": "2025-04-10T09:15"}),
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OpenMyLink//QR//EN\r\nBEGIN:VEVENT\r\n\
         SUMMARY:Call\r\nDTSTART:20250410T091500Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    refused(
        "event",
        json!({"title": "No start", "start": "tomorrow"}),
        Invalid::Event,
    );
    refused(
        "event",
        json!({"start": "2025-04-10 12:00:00"}),
        Invalid::Event,
    );
    refused(
        "event",
        json!({"title": "Backwards", "start": "2025-04-10 12:00:00", "end": "2025-04-10 11:00:00"}),
        Invalid::Event,
    );
    refused(
        "event",
        json!({"title": "Bad url", "start": "2025-04-10 12:00:00", "url": "javascript:x"}),
        Invalid::Url,
    );
}

#[test]
fn application_tracks_the_link_and_routes_phones_to_their_store() {
    tracked(
        "application",
        json!({
            "link": "https://example.com/app",
            "apple": "https://apps.apple.com/app/id123",
            "google": "https://play.google.com/store/apps/details?id=com.example"
        }),
        "https://example.com/app",
        &[
            ("iphone", "https://apps.apple.com/app/id123"),
            ("ipad", "https://apps.apple.com/app/id123"),
            (
                "android",
                "https://play.google.com/store/apps/details?id=com.example",
            ),
        ],
    );
    tracked(
        "application",
        json!({"link": "https://example.com/app"}),
        "https://example.com/app",
        &[],
    );
    refused(
        "application",
        json!({"apple": "https://apps.apple.com/app/id123"}),
        Invalid::Url,
    );
    refused(
        "application",
        json!({"link": "https://example.com", "google": "javascript:x"}),
        Invalid::Url,
    );
}
