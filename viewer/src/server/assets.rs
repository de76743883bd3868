//! The page, embedded in the binary: plain HTML, CSS and vanilla JS, nothing fetched elsewhere.

/// The page's HTML.
pub const INDEX_HTML: &str = include_str!("../../assets/index.html");
/// The page's script: polls `/api/state` and draws SVG.
pub const APP_JS: &str = include_str!("../../assets/app.js");
/// The page's style sheet.
pub const STYLE_CSS: &str = include_str!("../../assets/style.css");

/// The embedded file served at `path`, with its content type.
pub fn lookup(path: &str) -> Option<(&'static str, &'static str)> {
    match path {
        "/" | "/index.html" => Some((INDEX_HTML, "text/html; charset=utf-8")),
        "/app.js" => Some((APP_JS, "text/javascript; charset=utf-8")),
        "/style.css" => Some((STYLE_CSS, "text/css; charset=utf-8")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_references_only_local_files() {
        for text in [INDEX_HTML, APP_JS, STYLE_CSS] {
            // The only absolute URL allowed is the SVG namespace, which is never fetched.
            let fetched = text
                .replace("http://www.w3.org/2000/svg", "")
                .contains("http");
            assert!(
                !fetched,
                "the page must not fetch anything from outside this server"
            );
        }
        assert!(INDEX_HTML.contains("/app.js") && INDEX_HTML.contains("/style.css"));
        assert!(lookup("/").is_some() && lookup("/nope").is_none());
    }
}
