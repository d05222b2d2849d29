//! The images of a QR code at the edge (REFERENCE §7.1): the PNG and SVG stored with the code in
//! SQL, published as one [`shared::QrImage`] under the outbox key `qr/{alias}` of the default domain, so
//! that both edges serve `/qr/{alias}` without SQL. Link aliases never hold '/', so the key never
//! meets a link's.

use sea_orm::{ConnectionTrait, DbErr};
use shared::DEFAULT_DOMAIN;
use shared::qr_image::qr_image_key;

use super::enqueue;

/// Records that the images of the QR code `alias` changed (created, re-rendered or deleted).
/// Call it on the transaction of the change, then wake the publisher after the commit.
pub async fn enqueue_qr_image(conn: &impl ConnectionTrait, alias: &str) -> Result<(), DbErr> {
    enqueue(conn, DEFAULT_DOMAIN, &qr_image_key(alias)).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;
    use redirector::{CacheConfig, MemoryLinkStore, Redirector, Store};
    use sea_orm::{ActiveModelTrait, DatabaseConnection, ModelTrait, Set};
    use shared::QrImage;
    use test_support::sql::TestDb;

    use super::*;
    use crate::entity::qr;
    use crate::publish::tests::{RedisPrefix, databases, insert_user};
    use crate::publish::{PublishTarget, Publisher, resync};

    async fn insert_code(db: &DatabaseConnection, alias: &str, png: &[u8]) -> qr::Model {
        let owner = insert_user(db).await;
        let now = Utc::now().naive_utc();
        qr::ActiveModel {
            user_id: Set(owner.id),
            alias: Set(alias.to_owned()),
            name: Set("Menu".to_owned()),
            qr_type: Set("text".to_owned()),
            data: Set("\"menu\"".to_owned()),
            content: Set("menu".to_owned()),
            foreground: Set("#000000".to_owned()),
            background: Set("#ffffff".to_owned()),
            logo: Set(Some(vec![0; 1_000])),
            link_id: Set(None),
            png: Set(png.to_vec()),
            svg: Set("<svg/>".to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap()
    }

    fn image(png: &[u8]) -> QrImage {
        QrImage {
            png: png.to_vec(),
            svg: "<svg/>".to_owned(),
        }
    }

    #[tokio::test]
    async fn resync_and_the_outbox_keep_qr_images_in_redis() {
        let Some(redis) = RedisPrefix::new() else {
            return;
        };
        for test_db in databases().await {
            let db = test_db.connection();
            let alias = format!("{:06x}", rand::random::<u32>() & 0x00ff_ffff);
            let model = insert_code(&db, &alias, b"png one").await;
            let mut conn = redis.manager().await;
            let stale = redis.keys.qr_image("abcdef");
            let () = redis::cmd("SET")
                .arg(&stale)
                .arg("old")
                .query_async(&mut conn)
                .await
                .unwrap();

            let target = redis.target(conn);
            resync(&db, &target).await.unwrap();
            assert_eq!(redis.get(&stale).await, None);
            let stored = redis.get(&redis.keys.qr_image(&alias)).await.unwrap();
            assert_eq!(QrImage::decode(&stored).unwrap(), image(b"png one"));

            model.delete(&db).await.unwrap();
            enqueue_qr_image(&db, &alias).await.unwrap();
            Publisher::new(db.clone(), target).flush().await.unwrap();
            assert_eq!(redis.get(&redis.keys.qr_image(&alias)).await, None);
        }
    }

    #[tokio::test]
    async fn the_embedded_target_stores_and_forgets_qr_images() {
        let test_db = TestDb::sqlite().await;
        let db = test_db.connection();
        let store = MemoryLinkStore::new();
        let clicks = std::sync::Arc::new(redirector::ClickQueue::new(1));
        let redirector = Arc::new(Redirector::new(
            &CacheConfig::default(),
            Store::Memory(store.clone()),
            clicks,
        ));
        let target = PublishTarget::Embedded {
            store: store.clone(),
            redirector,
        };
        let reader = Store::Memory(store);
        let existing = insert_code(&db, "00aa11", b"old").await;
        resync(&db, &target).await.unwrap();
        let found = reader.fetch_qr_image("00aa11").await.unwrap();
        assert_eq!(found.as_deref(), Some(&image(b"old")));

        insert_code(&db, "00bb22", b"new").await;
        enqueue_qr_image(&db, "00bb22").await.unwrap();
        existing.delete(&db).await.unwrap();
        enqueue_qr_image(&db, "00aa11").await.unwrap();
        Publisher::new(db.clone(), target).flush().await.unwrap();
        let found = reader.fetch_qr_image("00bb22").await.unwrap();
        assert_eq!(found.as_deref(), Some(&image(b"new")));
        assert!(reader.fetch_qr_image("00aa11").await.unwrap().is_none());
    }
}
