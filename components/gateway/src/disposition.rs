//! `Content-Disposition: attachment` for the mp3 of an upload.
//!
//! The name comes from the client (the uploaded file's name), so it is
//! cleaned before it goes into a header: path parts, quotes, control
//! characters and separators are dropped. Non-ASCII names keep an ASCII
//! fallback in `filename` and the exact name in RFC 5987's `filename*`.

/// The stem of an uploaded file's name: no directories, no extension.
pub fn stem(original: &str) -> &str {
    let base = original.rsplit(['/', '\\']).next().unwrap_or(original);
    match base.rfind('.') {
        Some(dot) if dot > 0 => &base[..dot],
        _ => base,
    }
}

/// The header value for downloading the mp3 made from `original`.
pub fn attachment(original: &str) -> String {
    let cleaned: String = stem(original)
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | ';' | '/'))
        .collect();
    let cleaned = cleaned.trim();
    let name = if cleaned.is_empty() { "audio" } else { cleaned };
    let full = format!("{name}.mp3");
    let ascii: String = full
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    if ascii == full {
        format!("attachment; filename=\"{full}\"")
    } else {
        format!(
            "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
            percent_encode(&full)
        )
    }
}

/// RFC 5987 `value-chars`: attr-char stays, every other byte is `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mp3_is_named_after_the_uploads_stem() {
        assert_eq!(
            attachment("holiday.mp4"),
            "attachment; filename=\"holiday.mp3\""
        );
        assert_eq!(attachment("a.b.mkv"), "attachment; filename=\"a.b.mp3\"");
        assert_eq!(attachment("noext"), "attachment; filename=\"noext.mp3\"");
        assert_eq!(
            attachment(".hidden"),
            "attachment; filename=\".hidden.mp3\""
        );
    }

    #[test]
    fn dangerous_characters_and_paths_are_removed() {
        assert_eq!(
            attachment("../../etc/passwd.mp4"),
            "attachment; filename=\"passwd.mp3\""
        );
        assert_eq!(
            attachment("C:\\x\\evil.mov"),
            "attachment; filename=\"evil.mp3\""
        );
        assert_eq!(
            attachment("a\"b;c\r\nSet-Cookie: x.mp4"),
            "attachment; filename=\"abcSet-Cookie: x.mp3\""
        );
        assert_eq!(attachment(""), "attachment; filename=\"audio.mp3\"");
        assert_eq!(attachment("\"\".mp4"), "attachment; filename=\"audio.mp3\"");
    }

    #[test]
    fn non_ascii_names_get_an_rfc_5987_filename_star() {
        assert_eq!(
            attachment("Été 2024.mp4"),
            "attachment; filename=\"_t_ 2024.mp3\"; filename*=UTF-8''%C3%89t%C3%A9%202024.mp3"
        );
    }
}
