//! The title and description of a destination page, fetched once after a link is created
//! without `metatitle` (REFERENCE §6.1: "fetched from the destination page at creation"), so
//! that link lists and social previews show something better than the bare URL.
//!
//! The fetch runs after the create has answered: a slow or dead destination never delays the
//! API. It goes through [`crate::outbound`] (public addresses only, few redirects, bounded body).

use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait};
use url::Url;

use crate::entity::link;
use crate::outbound;
use crate::publish::{self, PublisherHandle};

/// The head of a page is in its first bytes; no more is read.
const MAX_PAGE_BYTES: usize = 512 * 1024;
/// Longest title kept, in characters.
const MAX_TITLE_CHARS: usize = 200;
/// Longest description kept, in characters.
const MAX_DESCRIPTION_CHARS: usize = 500;

/// What a page says about itself.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageMeta {
    /// `og:title`, else `twitter:title`, else `<title>`.
    pub title: String,
    /// `og:description`, else `description`.
    pub description: String,
}

/// Fetches `url` and, if link `link_id` still has that destination and no title, stores what the
/// page says and republishes the link. Failures are logged and forgotten: the title is a nicety.
pub async fn fill(
    db: DatabaseConnection,
    publisher: PublisherHandle,
    link_id: i64,
    url: String,
    allow_loopback: bool,
) {
    let Ok(parsed) = Url::parse(&url) else {
        return;
    };
    let page = match outbound::fetch(parsed, MAX_PAGE_BYTES, allow_loopback).await {
        Ok(page) => page,
        Err(err) => {
            tracing::debug!(link.id = link_id, error = %err, "no title for the destination");
            return;
        }
    };
    let is_html = page
        .content_type
        .as_deref()
        .is_none_or(|kind| kind.to_ascii_lowercase().contains("html"));
    if !is_html {
        return;
    }
    let meta = extract(&String::from_utf8_lossy(&page.bytes));
    if meta.title.is_empty() && meta.description.is_empty() {
        return;
    }
    if let Err(err) = store(&db, link_id, &url, &meta).await {
        tracing::warn!(link.id = link_id, error = %err, "cannot store the destination's title");
        return;
    }
    publisher.notify();
}

async fn store(
    db: &DatabaseConnection,
    link_id: i64,
    url: &str,
    meta: &PageMeta,
) -> Result<(), sea_orm::DbErr> {
    let txn = db.begin().await?;
    let Some(current) = link::Entity::find_by_id(link_id).one(&txn).await? else {
        return Ok(());
    };
    // The owner may have set a title, a password or another destination meanwhile: theirs wins,
    // and a protected link's card never shows what is behind the password.
    if current.url != url || !current.meta_title.is_empty() || current.password_hash.is_some() {
        return Ok(());
    }
    let (domain, alias) = (current.domain.clone(), current.alias.clone());
    let keep_description = !current.meta_description.is_empty();
    let mut active: link::ActiveModel = current.into();
    active.meta_title = Set(meta.title.clone());
    if !keep_description {
        active.meta_description = Set(meta.description.clone());
    }
    active.update(&txn).await?;
    publish::enqueue(&txn, &domain, &alias).await?;
    txn.commit().await
}

/// Reads the title and description from the `<head>` of `html`.
pub fn extract(html: &str) -> PageMeta {
    let mut og_title = None;
    let mut twitter_title = None;
    let mut og_description = None;
    let mut description = None;
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("<meta") {
        let start = from + found;
        let end = lower[start..]
            .find('>')
            .map_or(lower.len(), |end| start + end);
        let tag = &html[start..end];
        let key = attribute(tag, "property").or_else(|| attribute(tag, "name"));
        if let (Some(key), Some(content)) = (key, attribute(tag, "content")) {
            let slot = match key.to_ascii_lowercase().as_str() {
                "og:title" => &mut og_title,
                "twitter:title" => &mut twitter_title,
                "og:description" => &mut og_description,
                "description" => &mut description,
                _ => {
                    from = end;
                    continue;
                }
            };
            slot.get_or_insert(content);
        }
        from = end;
    }
    let title_element = lower.find("<title").and_then(|open| {
        let text_start = open + lower[open..].find('>')? + 1;
        let text_end = text_start + lower[text_start..].find("</title")?;
        Some(html[text_start..text_end].to_owned())
    });
    let title = og_title
        .or(twitter_title)
        .or(title_element)
        .unwrap_or_default();
    let description = og_description.or(description).unwrap_or_default();
    PageMeta {
        title: clean(&title, MAX_TITLE_CHARS),
        description: clean(&description, MAX_DESCRIPTION_CHARS),
    }
}

/// The value of attribute `name` in a tag's source, quoted with `"` or `'` or bare.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let at = from + found;
        from = at + name.len();
        let before_ok = at == 0
            || lower.as_bytes()[at - 1].is_ascii_whitespace()
            || lower.as_bytes()[at - 1] == b'<';
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        return Some(match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or("").to_owned(),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '/' || c == '>')
                .next()
                .unwrap_or("")
                .to_owned(),
        });
    }
    None
}

/// Entities decoded, white space collapsed, at most `max_chars` characters.
fn clean(raw: &str, max_chars: usize) -> String {
    let decoded = decode_entities(raw);
    let collapsed = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(max_chars).collect()
}

/// The character references pages put in titles: the five XML names, `&nbsp;`, and numeric ones.
fn decode_entities(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semicolon) = after.find(';').filter(|end| *end <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let name = &after[..semicolon];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(character) => {
                out.push(character);
                rest = &after[semicolon + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_graph_wins_over_the_title_element() {
        let html = r#"<html><head><title>Plain title</title>
            <meta property="og:title" content="Spring &amp; Summer Sale">
            <meta name='description' content='Half off &quot;everything&quot;'>
            </head></html>"#;
        assert_eq!(
            extract(html),
            PageMeta {
                title: "Spring & Summer Sale".into(),
                description: "Half off \"everything\"".into(),
            }
        );
    }

    #[test]
    fn the_title_element_is_read_when_nothing_else_is_there() {
        let html = "<HTML><HEAD><TITLE lang=en>\n  Caf&#233;   &#x26; Bar\n</TITLE></HEAD>";
        assert_eq!(extract(html).title, "Café & Bar");
        assert_eq!(extract(html).description, "");
        assert_eq!(extract("<p>no head</p>"), PageMeta::default());
    }

    #[test]
    fn attributes_are_read_quoted_or_bare_and_only_by_their_own_name() {
        assert_eq!(
            attribute(
                r#"<meta data-name="x" name=twitter:title content=Bare>"#,
                "name"
            )
            .as_deref(),
            Some("twitter:title")
        );
        assert_eq!(
            attribute(r#"<meta name="a" content=Bare>"#, "content").as_deref(),
            Some("Bare")
        );
        assert_eq!(attribute(r#"<meta name="a">"#, "content"), None);
    }

    #[test]
    fn long_titles_are_cut_and_broken_entities_kept() {
        let long = format!("<title>{}</title>", "x".repeat(500));
        assert_eq!(extract(&long).title.chars().count(), MAX_TITLE_CHARS);
        assert_eq!(
            decode_entities("AT&T &unknown; &#xZZ;"),
            "AT&T &unknown; &#xZZ;"
        );
    }
}
