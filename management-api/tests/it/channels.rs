//! The channels API of REFERENCE §10, on the SQLite lane and the PostgreSQL lane.

use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, Answer, TestApp};

async fn lanes() -> Vec<TestDb> {
    let mut lanes = vec![TestDb::sqlite().await];
    lanes.extend(TestDb::postgres().await);
    lanes
}

async fn add(app: &TestApp, key: &str, body: Value) -> Answer {
    app.call(Method::POST, "/api/channel/add", Some(key), Some(body))
        .await
}

async fn assign(app: &TestApp, key: &str, channel: i64, kind: &str, item: i64) -> Answer {
    app.call(
        Method::POST,
        &format!("/api/channel/{channel}/assign/{kind}/{item}"),
        Some(key),
        None,
    )
    .await
}

#[tokio::test]
async fn channels_are_created_listed_updated_and_deleted_with_the_reference_messages() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        for body in [json!({}), json!({"name": "x"}), json!({"name": "  "})] {
            let refused = add(&app, ADMIN_KEY, body.clone()).await;
            assert_eq!(
                refused.message(),
                "Channel name cannot be empty and must have at least 2 characters.",
                "{body}"
            );
        }
        let bad_color = add(
            &app,
            ADMIN_KEY,
            json!({"name": "Colourful", "color": "red"}),
        )
        .await;
        assert_eq!(bad_color.status, 422);

        let created = add(&app, ADMIN_KEY, json!({"name": "Partners", "description": "Shared", "color": "#1F6FEB99", "starred": true})).await;
        assert_eq!(created.status, 200, "{:?}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        assert_eq!(
            created.body,
            json!({"error": 0, "id": id, "name": "Partners", "description": "Shared", "color": "#1f6feb", "starred": true})
        );
        let duplicate = add(&app, ADMIN_KEY, json!({"name": "Partners"})).await;
        assert_eq!(
            (duplicate.status.as_u16(), duplicate.message()),
            (409, "You already have a channel with this name.")
        );
        assert_eq!(
            duplicate.body["id"], id,
            "the existing channel's id comes with the error"
        );

        let plain = add(&app, ADMIN_KEY, json!({"name": "Plain"})).await;
        let color = plain.body["color"].as_str().unwrap();
        assert!(
            color.len() == 7 && color.starts_with('#'),
            "a random colour: {color}"
        );
        assert_eq!(plain.body["starred"], false);

        let listed = app.get("/api/channels", ADMIN_KEY).await;
        let data = &listed.body["data"];
        assert_eq!(data["result"], 2);
        assert_eq!(data["channels"][0]["id"], id, "starred first");
        assert_eq!(data["channels"][0].as_object().unwrap().len(), 5);

        let update_path = format!("/api/channel/{id}/update");
        let update = |body: Value| app.call(Method::PUT, &update_path, Some(ADMIN_KEY), Some(body));
        let updated =
            update(json!({"name": "ab", "description": "Friends", "starred": false})).await;
        assert_eq!(
            updated.body["message"],
            "Channel has been updated successfully."
        );
        assert_eq!(
            (
                updated.body["name"].as_str(),
                updated.body["description"].as_str(),
                updated.body["starred"].as_bool()
            ),
            (Some("Partners"), Some("Friends"), Some(false)),
            "a 2-character name is ignored"
        );
        let clash = update(json!({"name": "Plain"})).await;
        assert_eq!(clash.status, 409);

        let deleted = app
            .call(
                Method::DELETE,
                &format!("/api/channel/{id}/delete"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(
            deleted.body,
            json!({"error": 0, "message": "Channel has been deleted successfully."})
        );
        let missing = app.get(&format!("/api/channel/{id}"), ADMIN_KEY).await;
        assert_eq!(
            (missing.status.as_u16(), missing.message()),
            (404, "Channel not found. Please try again.")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn links_join_channels_and_channels_list_their_links() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let channel = add(&app, ADMIN_KEY, json!({"name": "Spring"})).await.body["id"]
            .as_i64()
            .unwrap();
        let other_channel = add(&app, ADMIN_KEY, json!({"name": "Summer"})).await.body["id"]
            .as_i64()
            .unwrap();
        let with_title = app
            .create_link(ADMIN_KEY, json!({"url": "https://shop.example.com/spring-sale", "metatitle": "A spring sale with a very long title indeed", "channel": channel}))
            .await;
        let first = with_title.body["id"].as_i64().unwrap();
        let second = app
            .create_link(
                ADMIN_KEY,
                json!({"url": "https://b.example/", "custom": "bee"}),
            )
            .await
            .body["id"]
            .as_i64()
            .unwrap();

        let assigned = assign(&app, ADMIN_KEY, channel, "links", second).await;
        assert_eq!(
            assigned.body,
            json!({"error": 0, "message": "Link successfully added to the channel."})
        );
        let again = assign(&app, ADMIN_KEY, channel, "links", second).await;
        assert_eq!(
            (again.status.as_u16(), again.message()),
            (409, "This item is already added to the selected channel.")
        );
        assert_eq!(
            assign(&app, ADMIN_KEY, channel, "anything", 999999)
                .await
                .message(),
            "Link does not exist. Please try again."
        );
        assert_eq!(
            assign(&app, ADMIN_KEY, channel, "qr", 1).await.message(),
            "QR Code does not exist. Please try again."
        );
        assert_eq!(
            assign(&app, ADMIN_KEY, channel, "bio", 1).await.message(),
            "Bio Page does not exist. Please try again."
        );
        assert_eq!(
            assign(&app, ADMIN_KEY, 999999, "links", second)
                .await
                .message(),
            "Channel not found. Please try again."
        );

        let items = app.get(&format!("/api/channel/{channel}"), ADMIN_KEY).await;
        let data = &items.body["data"];
        assert_eq!(data["result"], 2);
        assert_eq!(data["items"][0]["id"], second, "most recently added first");
        assert_eq!(
            data["items"][0]["title"], "https://b.example/",
            "the destination when there is no title"
        );
        assert_eq!(
            data["items"][0]["link"],
            app.url("/bee").replace("127.0.0.1", "localhost")
        );
        let item = &data["items"][1];
        assert_eq!(item["type"], "links");
        assert_eq!(item["title"].as_str().unwrap().chars().count(), 30);
        assert_eq!(item["preview"], "https://shop.example.com/spring-sale");
        assert_eq!(item["date"].as_str().unwrap().len(), 10);

        // An update with `channel` adds the link and keeps its other memberships.
        app.update_link(ADMIN_KEY, first, json!({"channel": other_channel}))
            .await;
        let listed = app.get("/api/urls", ADMIN_KEY).await;
        let first_item = listed.body["data"]["urls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == first)
            .unwrap()
            .clone();
        assert_eq!(first_item["channel"], json!([channel, other_channel]));

        // Deleting a link takes it out of its channels; deleting a channel keeps its links.
        app.delete_link(ADMIN_KEY, second).await;
        assert_eq!(
            app.get(&format!("/api/channel/{channel}"), ADMIN_KEY)
                .await
                .body["data"]["result"],
            1
        );
        app.call(
            Method::DELETE,
            &format!("/api/channel/{channel}/delete"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
        assert_eq!(app.link(ADMIN_KEY, first).await.status, 200);
        let relisted = app.get("/api/urls", ADMIN_KEY).await;
        assert_eq!(
            relisted.body["data"]["urls"][0]["channel"],
            json!([other_channel])
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn another_user_can_use_neither_the_channels_nor_the_links_of_the_first() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let channel = add(&app, ADMIN_KEY, json!({"name": "Private"})).await.body["id"]
            .as_i64()
            .unwrap();
        let link = app
            .create_link(ADMIN_KEY, json!({"url": "https://mine.example/"}))
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        let other = app.add_user("trudy").await;
        let own_channel = add(&app, &other, json!({"name": "Private"})).await;
        assert_eq!(own_channel.status, 200, "names are unique per user only");
        let own_channel = own_channel.body["id"].as_i64().unwrap();

        let missing = app.get("/api/channel/987654", &other).await;
        let foreign = app.get(&format!("/api/channel/{channel}"), &other).await;
        assert_eq!(
            (foreign.status, &foreign.body),
            (missing.status, &missing.body)
        );
        let update = app
            .call(
                Method::PUT,
                &format!("/api/channel/{channel}/update"),
                Some(&other),
                Some(json!({"name": "Mine now"})),
            )
            .await;
        assert_eq!(update.status, 404);
        let delete = app
            .call(
                Method::DELETE,
                &format!("/api/channel/{channel}/delete"),
                Some(&other),
                None,
            )
            .await;
        assert_eq!(delete.status, 404);
        assert_eq!(
            assign(&app, &other, channel, "links", link).await.status,
            404
        );
        assert_eq!(
            assign(&app, &other, own_channel, "links", link)
                .await
                .message(),
            "Link does not exist. Please try again."
        );
        let theirs = app
            .create_link(
                &other,
                json!({"url": "https://theirs.example/", "channel": channel}),
            )
            .await;
        let theirs_id = theirs.body["id"].as_i64().unwrap();
        let listed = app.get("/api/urls", &other).await;
        assert_eq!(listed.body["data"]["urls"][0]["id"], theirs_id);
        assert_eq!(
            listed.body["data"]["urls"][0]["channel"],
            json!([]),
            "a foreign channel id is ignored"
        );
        assert_eq!(
            app.get(&format!("/api/channel/{channel}"), ADMIN_KEY)
                .await
                .body["data"]["result"],
            0
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn qr_codes_join_channels_beside_links_and_leave_when_deleted() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let channel = add(&app, ADMIN_KEY, json!({"name": "Print"})).await.body["id"]
            .as_i64()
            .unwrap();
        let link = app
            .create_link(ADMIN_KEY, json!({"url": "https://example.com/flyer"}))
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        let code = app
            .call(
                Method::POST,
                "/api/qr/add",
                Some(ADMIN_KEY),
                Some(json!({"type": "link", "data": "https://example.com/menu",
                            "name": "A menu for the terrace, printed on every table"})),
            )
            .await;
        let code_id = code.body["id"].as_i64().unwrap();
        let image = code.body["link"].as_str().unwrap().to_owned();

        assert_eq!(
            assign(&app, ADMIN_KEY, channel, "links", link).await.status,
            200
        );
        let added = assign(&app, ADMIN_KEY, channel, "qr", code_id).await;
        assert_eq!(added.status, 200, "{:?}", added.body);
        let again = assign(&app, ADMIN_KEY, channel, "qr", code_id).await;
        assert_eq!(
            (again.status.as_u16(), again.message()),
            (409, "This item is already added to the selected channel.")
        );
        let stranger = app.add_user("channel-qr-stranger").await;
        let foreign = assign(&app, ADMIN_KEY, channel, "qr", code_id + 1000).await;
        assert_eq!(
            foreign.message(),
            "QR Code does not exist. Please try again."
        );
        let their_channel = add(&app, &stranger, json!({"name": "Theirs"})).await.body["id"]
            .as_i64()
            .unwrap();
        assert_eq!(
            assign(&app, &stranger, their_channel, "qr", code_id)
                .await
                .message(),
            "QR Code does not exist. Please try again.",
            "another user's code answers like a missing one"
        );
        let stored = management_api::entity::qr::Entity::find_by_id(code_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let tracking = stored.link_id.unwrap();
        assert_eq!(
            assign(&app, ADMIN_KEY, channel, "links", tracking)
                .await
                .message(),
            "Link does not exist. Please try again.",
            "a code's tracking link is not an item of its own"
        );

        let items = app.get(&format!("/api/channel/{channel}"), ADMIN_KEY).await;
        assert_eq!(items.body["data"]["result"], 2);
        let listed = &items.body["data"]["items"];
        assert_eq!(listed[0]["type"], "qr", "most recently added first");
        assert_eq!(listed[0]["id"], code_id);
        assert_eq!(listed[0]["title"], "A menu for the terrace, printe");
        assert_eq!(listed[0]["preview"], image.as_str());
        assert_eq!(listed[0]["link"], image.as_str());
        assert_eq!(listed[0]["date"].as_str().unwrap().len(), 10);
        assert_eq!(listed[1]["type"], "links");
        assert_eq!(listed[1]["id"], link);

        let deleted = app
            .call(
                Method::DELETE,
                &format!("/api/qr/{code_id}/delete"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(deleted.status, 200);
        let items = app.get(&format!("/api/channel/{channel}"), ADMIN_KEY).await;
        assert_eq!(items.body["data"]["result"], 1);
        assert_eq!(items.body["data"]["items"][0]["type"], "links");
        app.stop().await;
    }
}
