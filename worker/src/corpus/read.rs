//! Reads a text8-style corpus from a plain text file or from the first entry of a zip archive
//! (text8 itself ships as `text8.zip`).

use std::io::{Cursor, Read};
use std::path::Path;

use super::CorpusError;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const EMPTY_ZIP_MAGIC: &[u8] = b"PK\x05\x06";

/// The file's text; zip archives (by magic bytes or `.zip` extension) yield their first entry.
pub fn read_text(path: &Path) -> Result<String, CorpusError> {
    let bytes = std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => CorpusError::Missing {
            path: path.to_path_buf(),
        },
        _ => CorpusError::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    let named_zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    let bytes = if named_zip || bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(EMPTY_ZIP_MAGIC) {
        first_zip_entry(path, bytes)?
    } else {
        bytes
    };
    String::from_utf8(bytes).map_err(|_| CorpusError::NotUtf8 {
        path: path.to_path_buf(),
    })
}

fn first_zip_entry(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, CorpusError> {
    let bad = |reason: String| CorpusError::BadZip {
        path: path.to_path_buf(),
        reason,
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    if archive.is_empty() {
        return Err(bad("the archive has no entries".into()));
    }
    let mut entry = archive.by_index(0).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    entry
        .read_to_end(&mut out)
        .map_err(|e| bad(e.to_string()))?;
    Ok(out)
}
