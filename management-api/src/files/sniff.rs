//! What an upload is: its file name made safe to store and send back, and its media type read
//! from its first bytes rather than from what the client claims.

/// Bytes read before the type is decided: every signature `infer` knows sits well inside.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// Longest stored file name, in bytes; file systems and `Content-Disposition` handle it easily.
const MAX_FILE_NAME_BYTES: usize = 200;

/// Extensions of programs and scripts that run when opened, refused whatever their bytes say:
/// a short link must not hand out malware in a trusted domain's name.
const EXECUTABLE_EXTENSIONS: &[&str] = &[
    "exe", "dll", "msi", "msp", "bat", "cmd", "com", "scr", "pif", "cpl", "hta", "vbs", "vbe",
    "js", "jse", "wsf", "wsh", "ps1", "psm1", "sh", "bash", "jar", "apk", "app", "elf", "run",
    "lnk", "reg", "msc", "gadget",
];

/// Why an upload is refused before it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing usable is left of the name.
    BadName,
    /// A program or script.
    Executable,
}

/// The name an upload is stored and downloaded under: the last path segment of `raw` without
/// control characters or characters that file systems or headers treat specially, without
/// leading dots (no hidden files, no `..`), at most [`MAX_FILE_NAME_BYTES`] bytes with its
/// extension kept.
pub fn file_name(raw: &str) -> Result<String, Refusal> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        .collect();
    let cleaned = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' '])
        .to_owned();
    if cleaned.is_empty() {
        return Err(Refusal::BadName);
    }
    if cleaned.len() <= MAX_FILE_NAME_BYTES {
        return Ok(cleaned);
    }
    let (stem, extension) = match cleaned.rsplit_once('.') {
        Some((stem, extension)) if extension.len() <= 16 => (stem, Some(extension)),
        _ => (cleaned.as_str(), None),
    };
    let budget = MAX_FILE_NAME_BYTES - extension.map_or(0, |extension| extension.len() + 1);
    let mut cut = budget.min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    Ok(match extension {
        Some(extension) => format!("{}.{extension}", &stem[..cut]),
        None => stem[..cut].to_owned(),
    })
}

/// The media type of an upload whose file name is `name` and whose first bytes are `head`;
/// a program or script is refused.
pub fn content_type(name: &str, head: &[u8]) -> Result<String, Refusal> {
    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default();
    if EXECUTABLE_EXTENSIONS.contains(&extension.as_str()) || head.starts_with(b"#!") {
        return Err(Refusal::Executable);
    }
    if let Some(kind) = infer::get(head) {
        if kind.matcher_type() == infer::MatcherType::App {
            return Err(Refusal::Executable);
        }
        return Ok(kind.mime_type().to_owned());
    }
    if !looks_like_text(head) {
        return Ok("application/octet-stream".to_owned());
    }
    let text_type = match extension.as_str() {
        "csv" => "text/csv",
        "md" | "markdown" => "text/markdown",
        "json" => "application/json",
        "xml" => "application/xml",
        "html" | "htm" => "text/html",
        "svg" => "image/svg+xml",
        "css" => "text/css",
        _ => "text/plain",
    };
    Ok(format!("{text_type}; charset=utf-8"))
}

/// UTF-8 without NUL bytes, allowing a character cut at the end of the sniffed bytes.
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(err) => err.error_len().is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_special_characters() {
        fn check(raw: &str, expected: Result<&str, Refusal>) {
            assert_eq!(file_name(raw).as_deref(), expected.as_deref(), "{raw}");
        }
        check("report.pdf", Ok("report.pdf"));
        check("../../etc/passwd", Ok("passwd"));
        check("..\\..\\boot.ini", Ok("boot.ini"));
        check("..", Err(Refusal::BadName));
        check(".htaccess", Ok("htaccess"));
        check("a\u{0}b\r\n.txt", Ok("ab.txt"));
        check("what?<>|*.txt", Ok("what.txt"));
        check("Prix été.pdf", Ok("Prix été.pdf"));
        check("   ", Err(Refusal::BadName));
        check("name. . .", Ok("name"));
        let long = format!("{}.pdf", "é".repeat(300));
        let cut = file_name(&long).unwrap();
        assert!(
            cut.len() <= MAX_FILE_NAME_BYTES && cut.ends_with("é.pdf"),
            "{cut}"
        );
    }

    #[test]
    fn types_come_from_the_bytes_and_programs_are_refused() {
        fn check(name: &str, head: &[u8], expected: Result<&str, Refusal>) {
            assert_eq!(
                content_type(name, head).as_deref(),
                expected.as_deref(),
                "{name}"
            );
        }
        check("a.pdf", b"%PDF-1.7\n", Ok("application/pdf"));
        check(
            "photo.txt",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            Ok("image/png"),
        );
        check("notes.txt", b"plain words", Ok("text/plain; charset=utf-8"));
        check("data.csv", b"a,b\n1,2\n", Ok("text/csv; charset=utf-8"));
        check(
            "cut.txt",
            "caf\u{e9}".as_bytes().split_at(4).0,
            Ok("text/plain; charset=utf-8"),
        );
        check(
            "blob.dat",
            b"\x00\x01\x02\xff",
            Ok("application/octet-stream"),
        );
        check("setup.exe", b"anything", Err(Refusal::Executable));
        check("INSTALL.BAT", b"echo", Err(Refusal::Executable));
        check(
            "innocent.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00",
            Err(Refusal::Executable),
        );
        let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
        elf.resize(64, 0);
        check("tool.bin", &elf, Err(Refusal::Executable));
        check(
            "run.txt",
            b"#!/bin/sh\nrm -rf /\n",
            Err(Refusal::Executable),
        );
    }
}
